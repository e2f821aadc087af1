// Echo server written the `ws` way, on this package's `ws` module: text comes back as text, binary
// as binary. The target of Autobahn|Testsuite for the module (scripts/conformance.sh) and of the
// benchmarks.
//
//   node examples/ws-echo-server.mjs [--port 9001] [--host 127.0.0.1] [--deflate[=ws|shared]]
//
// Selects the subprotocol "echo.v1" when a client offers it. `--deflate` negotiates
// permessage-deflate with `ws`'s defaults (`perMessageDeflate: true`: each connection keeps its
// compression window); `--deflate=shared` with `serverNoContextTakeover` and
// `clientNoContextTakeover`, this package's shared mode (nothing held by an idle connection).
// Stops cleanly on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'daloy-ws-native/ws';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9001' },
    host: { type: 'string', default: '127.0.0.1' },
    deflate: { type: 'string' },
  },
  // `--deflate` alone: parseArgs wants a value for a string option, so the bare flag is read below.
  args: process.argv.slice(2).map((arg) => (arg === '--deflate' ? '--deflate=ws' : arg)),
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`ws-echo-server: invalid --port ${values.port}`);
  process.exit(2);
}
const DEFLATE = {
  ws: true,
  shared: { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 },
};
if (values.deflate !== undefined && !Object.hasOwn(DEFLATE, values.deflate)) {
  console.error(`ws-echo-server: --deflate must be ws or shared (got ${values.deflate})`);
  process.exit(2);
}

const wss = new WebSocketServer({
  port,
  host: values.host,
  path: '/echo',
  // Autobahn|Testsuite sends messages of up to 16 MiB, and 4 MiB in 64-byte fragments (65,536
  // frames; ws's default allows 16,384 a message).
  maxPayload: 64 * 1024 * 1024,
  maxFragments: 128 * 1024,
  handleProtocols: (protocols) => (protocols.has('echo.v1') ? 'echo.v1' : false),
  perMessageDeflate: values.deflate === undefined ? false : DEFLATE[values.deflate],
});

wss.on('connection', (ws) => {
  ws.on('error', () => {
    // A protocol error closes the connection with its code; nothing else to do here.
  });
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
});

wss.on('listening', () => {
  const { port: bound } = wss.address();
  const host = values.host.includes(':') ? `[${values.host}]` : values.host;
  console.log(`listening on ws://${host}:${bound}/echo`);
});

// Shutdown: refuse new connections, say 1001 to the open ones, and let the process end once they
// are gone (a client that does not answer is cut off after 2 s).
function shutdown() {
  for (const ws of wss.clients) ws.close(1001, 'Server shutting down');
  const cutoff = setTimeout(() => {
    for (const ws of wss.clients) ws.terminate();
  }, 2000);
  cutoff.unref();
  wss.close(() => process.exit(0));
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
