// The generics infer path parameters and connection data; the errors below must stay errors.
import { App, defineWebSocket, WS_OPCODE, WS_READY_STATE, FRAME_INCOMPLETE, parseFrame } from 'daloy-ws-native';

const app = new App();

app.ws('/chat/:room', {
  open(conn, ctx) {
    const room: string = ctx.params.room;
    // @ts-expect-error: "/chat/:room" has no parameter "user"
    const user: string = ctx.params.user;
    void room;
    void user;
  },
});

app.ws('/orgs/:org/repos/:repo', {
  beforeUpgrade(req, ctx) {
    const both: string = ctx.params.org + ctx.params.repo;
    // @ts-expect-error: no parameter "room" on this route
    ctx.params.room;
    return both ? undefined : new Response(null, { status: 404 });
  },
});

app.ws('/static', {
  open(conn, ctx) {
    // @ts-expect-error: a path without parameters has none
    ctx.params.anything;
  },
});

const typed = defineWebSocket<'/rooms/:id', { tenant: string }, { count: number }>({
  open(conn, ctx) {
    const id: string = ctx.params.id;
    const tenant: string = ctx.state.tenant;
    conn.data = { count: id.length + tenant.length };
    // @ts-expect-error: conn.data is { count: number }
    conn.data = { count: 'many' };
  },
  message(conn, data, isBinary) {
    const n: number = conn.data.count;
    // @ts-expect-error: data may be bytes, not only a string
    const s: string = data;
    void n;
    void s;
    void isBinary;
  },
});
app.ws('/rooms/:id', typed);

// @ts-expect-error: beforeUpgrade may not return a number
app.ws('/bad', { beforeUpgrade: () => 42 });

// Literal constant types, as DaloyJS declares them (`as const`).
const ping: 9 = WS_OPCODE.PING;
// @ts-expect-error: PING is 9, not 10
const notPong: 10 = WS_OPCODE.PING;
const closed: 3 = WS_READY_STATE.CLOSED;
void ping;
void notPong;
void closed;

// parseFrame's result must be narrowed before use.
const result = parseFrame(new Uint8Array(2));
// @ts-expect-error: the result may be FRAME_INCOMPLETE
result.payload;
if (result !== FRAME_INCOMPLETE) void result.payload;

// A final *name segment types its parameter; "*" alone is ctx.params.wildcard.
app.ws('/files/:bucket/*path', {
  open(conn, ctx) {
    const where: string = ctx.params.bucket + ctx.params.path;
    // @ts-expect-error: no parameter "file"
    ctx.params.file;
    void where;
  },
});
app.ws('/any/*', {
  open(conn, ctx) {
    const rest: string = ctx.params.wildcard;
    void rest;
  },
});

// defineWebSocket types ctx.params from the pattern given as P, and only then.
defineWebSocket<'/chat/:room'>({
  open(conn, ctx) {
    const room: string = ctx.params.room;
    // @ts-expect-error: "/chat/:room" has no parameter "user"
    ctx.params.user;
    // @ts-expect-error: conn.data is unknown unless TData is given
    conn.data.user;
    void room;
  },
});

// DaloyJS's app options and registry.
const prodApp = new App({ env: 'production', acknowledgeInsecureDefaults: false, secureDefaults: true });
prodApp.ws('/feed', { acknowledgeUnauthenticated: true, allowedOrigins: 'same-origin' }).decorate('db', {});
const found = prodApp.webSocketRoutes.find('/feed');
if (found !== undefined) {
  const path: string = found.handler.path;
  const state: Record<string, unknown> = found.handler.createState();
  void path;
  void state;
}
