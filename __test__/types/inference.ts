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
