// Fan-out servers of bench/fanout.sh, one per implementation, all with the same behaviour: a
// connection to /room/:room joins that room, and each message it sends is delivered to every member of
// the room, the sender included, text as text and binary as binary.
//
//   node bench/servers/fanout.mjs --impl daloy | ws | uws     [--port 0] [--host 127.0.0.1]
//   bun bench/servers/fanout.mjs --impl bun | daloy
//
// daloy: this package's topics (app.publish: the frame built once on Node; Bun's native publish on Bun).
// ws: the `ws` package (with bufferutil) and the loop applications write by hand: for each member, send.
// uws: uWebSockets.js (npm uwebsockets@3.0.6 under bench/.tools) and its app.publish.
// bun: Bun.serve and server.publish.
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const LIMIT = 64 * 1024 * 1024;

function flags(argv) {
  const out = { impl: 'daloy', port: 0, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--impl') out.impl = argv[++i];
    else if (a === '--port') out.port = Number(argv[++i]);
    else if (a === '--host') out.host = argv[++i];
    else throw new Error(`unknown flag: ${a}`);
  }
  return out;
}

const opts = flags(process.argv.slice(2));
const roomOf = (url) => {
  const m = /^\/room\/([^/?]+)/.exec(url);
  return m === null ? null : m[1];
};
const ready = (port, what) => {
  console.error(what);
  console.log(`listening on ws://${opts.host}:${port}/room`);
};

async function daloy() {
  const { App } = await import('../../index.mjs');
  const { serve } = await import('../../node.mjs');
  const app = new App({ logger: false });
  app.ws('/room/:room', {
    maxPayloadLength: LIMIT,
    backpressureLimit: LIMIT,
    idleTimeout: 960,
    open(conn, ctx) {
      conn.data = ctx.params.room;
      conn.subscribe(ctx.params.room);
    },
    message(conn, data, isBinary) {
      app.publish(conn.data, data, { binary: isBinary });
    },
  });
  const server = serve(app, { port: opts.port, hostname: opts.host });
  await server.ready;
  ready(server.port, `daloy-ws-native topics on ${typeof Bun !== 'undefined' ? `Bun ${Bun.version}` : `Node ${process.version}`}`);
}

async function ws() {
  const { WebSocketServer } = await import('ws');
  const rooms = new Map();
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMIT });
  wss.on('connection', (socket, room) => {
    let members = rooms.get(room);
    if (members === undefined) rooms.set(room, (members = new Set()));
    members.add(socket);
    socket.on('message', (data, isBinary) => {
      for (const member of members) member.send(data, { binary: isBinary });
    });
    socket.on('close', () => members.delete(socket));
    socket.on('error', () => {});
  });
  const server = http.createServer((req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const room = roomOf(req.url);
    if (room === null) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (client) => wss.emit('connection', client, room));
  });
  await new Promise((resolve) => server.listen(opts.port, opts.host, resolve));
  ready(server.address().port, `ws ${require('ws/package.json').version} on Node ${process.version}, a broadcast loop`);
}

async function uws() {
  const uWS = require(path.join(here, '../.tools/node_modules/uwebsockets'));
  const app = uWS.App();
  app.ws('/room/:room', {
    maxPayloadLength: LIMIT,
    maxBackpressure: LIMIT,
    idleTimeout: 960,
    compression: uWS.DISABLED,
    upgrade(res, req, context) {
      res.upgrade(
        { room: req.getParameter(0) },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open(socket) {
      socket.subscribe(socket.getUserData().room);
    },
    message(socket, message, isBinary) {
      app.publish(socket.getUserData().room, message, isBinary);
    },
  });
  const port = await new Promise((resolve, reject) =>
    app.listen(opts.host, opts.port, (token) => (token ? resolve(uWS.us_socket_local_port(token)) : reject(new Error('uWS: listen failed')))),
  );
  ready(port, `uWebSockets.js (uwebsockets ${require(path.join(here, '../.tools/node_modules/uwebsockets/package.json')).version}) on Node ${process.version}`);
}

function bun() {
  const server = Bun.serve({
    port: opts.port,
    hostname: opts.host,
    fetch(req, srv) {
      const room = roomOf(new URL(req.url).pathname);
      if (room !== null && srv.upgrade(req, { data: { room } })) return undefined;
      return new Response('not found\n', { status: 404 });
    },
    websocket: {
      maxPayloadLength: LIMIT,
      backpressureLimit: LIMIT,
      closeOnBackpressureLimit: false,
      idleTimeout: 960,
      perMessageDeflate: false,
      open(socket) {
        socket.subscribe(socket.data.room);
      },
      message(socket, message) {
        server.publish(socket.data.room, message);
      },
    },
  });
  ready(server.port, `Bun ${Bun.version} server.publish`);
}

const impls = { daloy, ws, uws, bun };
if (!(opts.impl in impls)) throw new Error(`--impl must be one of ${Object.keys(impls).join(', ')}`);
await impls[opts.impl]();

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
