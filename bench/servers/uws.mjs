// Echo server on uWebSockets.js (npm uwebsockets@3.0.6, installed under bench/.tools by bench/run.sh):
// route /echo, text echoed as text, binary as binary, as the other servers of the matrix.
//
//   node bench/servers/uws.mjs [--port 8080] [--host 127.0.0.1]
//
// uWebSockets.js owns its sockets (it polls them on Node's libuv loop), so it listens on a port of its
// own rather than on a node:http server. Like the other servers: messages up to 64 MiB, no compression,
// no idle timeout, and whatever a slow reader has not taken yet is buffered rather than dropped.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_PAYLOAD = 64 * 1024 * 1024;
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const dir = path.join(here, '../.tools/node_modules/uwebsockets');

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
let uWS;
try {
  uWS = require(dir);
} catch (err) {
  console.error(`uWebSockets.js is not installed under bench/.tools (npm install --prefix bench/.tools uwebsockets@3.0.6): ${err.message}`);
  process.exit(1);
}
const version = require(path.join(dir, 'package.json')).version;

const sockets = new Set();
const app = uWS.App();
app.ws('/echo', {
  maxPayloadLength: MAX_PAYLOAD,
  // Buffer up to four 64 MiB messages for a slow reader; never close over it.
  maxBackpressure: 4 * MAX_PAYLOAD,
  closeOnBackpressureLimit: false,
  // 0: no idle timeout, as the other servers.
  idleTimeout: 0,
  compression: uWS.DISABLED,
  open(ws) {
    sockets.add(ws);
  },
  message(ws, message, isBinary) {
    // `message` is valid during this call only; send copies it (or writes it out at once).
    ws.send(message, isBinary);
  },
  close(ws) {
    sockets.delete(ws);
  },
});
app.any('/*', (res) => {
  res.writeStatus('404 Not Found').end('not found\n');
});

let listenSocket = null;
app.listen(opts.host, opts.port, (token) => {
  if (!token) {
    console.error(`uWebSockets.js: cannot listen on ${opts.host}:${opts.port}`);
    process.exit(1);
  }
  listenSocket = token;
  const port = uWS.us_socket_local_port(token);
  console.error(`uWebSockets.js (uwebsockets ${version}) on Node ${process.version}`);
  console.log(`listening on ws://${opts.host}:${port}/echo`);
});

function shutdown() {
  if (listenSocket !== null) uWS.us_listen_socket_close(listenSocket);
  listenSocket = null;
  for (const ws of sockets) ws.end(1001);
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
