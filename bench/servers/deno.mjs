// Echo server on Deno.serve with Deno.upgradeWebSocket: route /echo, text echoed as text, binary as binary.
//
//   deno run --allow-net bench/servers/deno.mjs [--port 8080] [--host 127.0.0.1]
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

const opts = flags(Deno.args);

const server = Deno.serve(
  {
    port: opts.port,
    hostname: opts.host,
    onListen({ port }) {
      console.error(`Deno ${Deno.version.deno}`);
      console.log(`listening on ws://${opts.host}:${port}/echo`);
    },
  },
  (req) => {
    if (new URL(req.url).pathname !== '/echo' || req.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('not found\n', { status: 404 });
    }
    // idleTimeout 0: no server pings, as with the other servers.
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    // Binary messages arrive as ArrayBuffer (not Blob) and go back as they came.
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (e) => socket.send(e.data);
    socket.onerror = () => {};
    return response;
  },
);

function shutdown() {
  server.shutdown().finally(() => Deno.exit(0));
  setTimeout(() => Deno.exit(0), 500);
}
Deno.addSignalListener('SIGTERM', shutdown);
Deno.addSignalListener('SIGINT', shutdown);
