// Echo server on Bun's native WebSocket server (Bun.serve): route /echo, text echoed as text, binary as
// binary.
//
//   bun bench/servers/bun.mjs [--port 8080] [--host 127.0.0.1]
const MAX_PAYLOAD = 64 * 1024 * 1024;

function flags(argv) {
  const out = { port: 8080, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') out.port = Number(argv[++i]);
    else if (a === '--host') out.host = argv[++i];
    else throw new Error(`unknown flag: ${a}`);
  }
  return out;
}

const opts = flags(process.argv.slice(2));

const server = Bun.serve({
  port: opts.port,
  hostname: opts.host,
  fetch(req, server) {
    if (new URL(req.url).pathname === '/echo' && server.upgrade(req)) return undefined;
    return new Response('not found\n', { status: 404 });
  },
  websocket: {
    maxPayloadLength: MAX_PAYLOAD,
    // Like the other servers, buffer whatever a slow reader has not taken yet rather than drop or close:
    // a 16 MiB echo must not hit the default 16 MiB backpressure limit.
    backpressureLimit: 4 * MAX_PAYLOAD,
    closeOnBackpressureLimit: false,
    // The other servers never time idle connections out; the longest Bun allows is 960 s.
    idleTimeout: 960,
    perMessageDeflate: false,
    message(ws, message) {
      ws.send(message);
    },
  },
});

console.error(`Bun ${Bun.version}`);
console.log(`listening on ws://${opts.host}:${server.port}/echo`);

function shutdown() {
  server.stop(true);
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
