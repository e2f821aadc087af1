// The server of the runtime-neutral behavioural suite (behaviour.test.mjs): the same App served by
// `serve` of daloy-ws-native/node, /bun or /deno, whichever runtime runs this file.
//
//   node server.mjs --adapter node | bun server.mjs --adapter bun | deno run -A server.mjs --adapter deno
//   bun server.mjs --adapter node   (the Node wiring on Bun's node:http)
//
// Prints `listening PORT`, then one JSON line per handler event: ["event", name, ...args].
import { parseArgs } from 'node:util';
import { App, WebSocketProtocolError } from '../../index.mjs';
import { addTopicRoutes } from './topic-routes.mjs';

const { values } = parseArgs({
  options: {
    adapter: { type: 'string', default: 'node' },
    port: { type: 'string', default: '0' },
  },
});
const adapters = { node: '../../node.mjs', bun: '../../bun.mjs', deno: '../../deno.mjs' };
if (!(values.adapter in adapters)) {
  console.error(`server.mjs: unknown adapter ${values.adapter}`);
  process.exit(2);
}
const { serve } = await import(adapters[values.adapter]);

function emit(name, ...args) {
  process.stdout.write(JSON.stringify(['event', name, ...args]) + '\n');
}

const logger = {
  error(fields, message) {
    emit('log', message, fields && fields.err instanceof Error ? fields.err.message : null);
  },
  warn(fields, message) {
    emit('warn', message);
  },
};

const app = new App({ logger });

function echo(conn, data, isBinary) {
  conn.send(data, { binary: isBinary });
}

function recordClose(conn, code, reason) {
  emit('close', conn.data ?? null, code, reason, conn.readyState);
}

app.ws('/echo', {
  maxPayloadLength: 1024,
  beforeUpgrade(request, ctx) {
    return ctx.protocols.includes('echo.v1') ? 'echo.v1' : undefined;
  },
  open(conn, ctx) {
    conn.data = ctx.query.tag ?? null;
    emit('open', conn.data);
  },
  message(conn, data, isBinary) {
    if (data === 'close-me') return conn.close(4000, 'bye');
    if (data === 'binary-string') return conn.send('as bytes', { binary: true });
    if (data === 'ping-me') {
      conn.ping('from server');
      conn.pong('unsolicited');
      return undefined;
    }
    if (data === 'big-ping') {
      try {
        conn.ping('x'.repeat(126));
      } catch (err) {
        conn.send(`${err.name}: ${err.message}`);
      }
      return undefined;
    }
    echo(conn, data, isBinary);
  },
  error(conn, err) {
    emit('error', conn.data, err.name, err.message);
  },
  close: recordClose,
});

// Same handler, a larger limit: Bun takes one limit per server, the adapter enforces each route's.
app.ws('/large', { maxPayloadLength: 4096, message: echo, close: recordClose });

app.ws('/ctx/:room', {
  open(conn, ctx) {
    conn.send(
      JSON.stringify({
        params: ctx.params,
        query: ctx.query,
        host: ctx.headers.host,
        custom: ctx.headers['x-custom'],
        protocols: ctx.protocols,
        method: ctx.request.method,
        url: new URL(ctx.request.url).pathname,
        state: ctx.state,
        readyState: conn.readyState,
        protocol: conn.protocol,
        extensions: conn.extensions,
        binaryType: conn.binaryType,
        bufferedAmount: typeof conn.bufferedAmount,
      }),
    );
  },
});

app.ws('/arraybuffer', {
  open(conn) {
    conn.binaryType = 'bogus';
    emit('binaryType', conn.binaryType);
    conn.binaryType = 'arraybuffer';
  },
  message(conn, data, isBinary) {
    emit('message-type', isBinary, data instanceof ArrayBuffer, data.byteLength);
    conn.send(data);
  },
});

app.ws('/origin', { allowedOrigins: ['http://allowed.example'], open: () => emit('open', 'origin') });

app.ws('/reject', {
  beforeUpgrade() {
    return new Response('unauthorized', { status: 401, headers: { 'x-reason': 'token' } });
  },
  open: () => emit('open', 'reject'),
});

// A Response of another fetch implementation (the undici package's): the same shape, another class.
app.ws('/reject-foreign', {
  beforeUpgrade() {
    const body = new TextEncoder().encode('payment required');
    return {
      status: 402,
      statusText: 'Payment Required',
      headers: new Headers({ 'x-reason': 'foreign' }),
      body: {},
      arrayBuffer: async () => body.buffer,
    };
  },
  open: () => emit('open', 'reject-foreign'),
});

app.ws('/before/:kind', {
  async beforeUpgrade(request, ctx) {
    const kind = ctx.params.kind;
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (kind === 'throw') throw new Error('before failed');
    if (kind === 'protocol-error') throw new WebSocketProtocolError('Bad token');
    if (kind === 'not-offered') return 'other.v1';
    if (kind === 'select') return 'second';
    return undefined;
  },
  open(conn) {
    emit('open', 'before', conn.protocol);
  },
});

app.ws('/before-sync-throw', {
  beforeUpgrade() {
    throw new Error('sync before failed');
  },
});

app.ws('/open-throws', {
  open() {
    throw new Error('open failed');
  },
  error(conn, err) {
    emit('error', 'open-throws', err.message);
  },
  close: recordClose,
});

app.ws('/message-throws', {
  message(conn, data) {
    if (data === 'throw') throw new Error('message failed');
    if (data === 'reject') return Promise.reject(new Error('message rejected'));
    conn.send(data);
  },
  error(conn, err) {
    emit('error', 'message-throws', err.message);
  },
});

app.ws('/idle', {
  idleTimeout: 1,
  open(conn) {
    conn.data = 'idle';
  },
  close: recordClose,
});

app.ws('/flood', {
  backpressureLimit: 64 * 1024,
  open(conn) {
    conn.data = 'flood';
  },
  message(conn) {
    // Sends until the adapter closes the connection for a peer that does not read.
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    const tick = () => {
      for (let i = 0; i < 16 && conn.readyState === 1 && sent < 4096; i++, sent++) conn.send(chunk);
      if (conn.readyState === 1 && sent < 4096) setTimeout(tick, 1);
    };
    tick();
  },
  close: recordClose,
});

addTopicRoutes(app, emit, () => server);

// With DALOY_REDIS_URL, topics travel between servers through Redis (topics-redis.test.mjs).
const redisUrl = process.env.DALOY_REDIS_URL;
const pubsub = redisUrl ? (await import('../../redis.mjs')).createRedisBroker({ url: redisUrl, logger }) : undefined;

// `runtime` keeps the Node wiring on node:http under Bun once serve() of /node detects the runtime.
const server = serve(app, { port: Number(values.port), hostname: '127.0.0.1', handleSignals: true, shutdownTimeout: 3000, runtime: values.adapter, pubsub });
await server.ready;
if (pubsub !== undefined) await pubsub.ready;
process.stdout.write(`listening ${server.port}\n`);
