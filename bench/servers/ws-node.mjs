// Echo server on Node's `http` with the `ws` package: route /echo, text echoed as text, binary as binary.
//
//   node bench/servers/ws-node.mjs [--port 8080] [--host 127.0.0.1] [--no-addons] [--deflate]
//
// `--deflate`: perMessageDeflate on at ws's defaults (context takeover both ways, window 15, zlib
// level 6), with threshold 0 so that every message is compressed, as the deflate benchmarks expect;
// `--deflate-no-context` the same with server_ and client_no_context_takeover (what this package's
// shared mode agrees).
//
// `ws` loads `bufferutil` and `utf-8-validate` when they are installed; `--no-addons` (or the environment
// variables WS_NO_BUFFER_UTIL=1 WS_NO_UTF_8_VALIDATE=1) runs it on its JavaScript fallbacks instead.
import http from 'node:http';
import { createRequire } from 'node:module';

const MAX_PAYLOAD = 64 * 1024 * 1024;

function flags(argv) {
  const out = { port: 8080, host: '127.0.0.1', addons: true, deflate: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') out.port = Number(argv[++i]);
    else if (a === '--host') out.host = argv[++i];
    else if (a === '--no-addons') out.addons = false;
    else if (a === '--addons') out.addons = true;
    else if (a === '--deflate') out.deflate = { threshold: 0 };
    else if (a === '--deflate-no-context') {
      out.deflate = { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true };
    }
    else throw new Error(`unknown flag: ${a}`);
  }
  return out;
}

const opts = flags(process.argv.slice(2));
if (!opts.addons) {
  // `ws` reads these once, when its modules load: set them before the import below.
  process.env.WS_NO_BUFFER_UTIL = '1';
  process.env.WS_NO_UTF_8_VALIDATE = '1';
}
const { WebSocketServer } = await import('ws');
const require = createRequire(import.meta.url);
const wsVersion = require('ws/package.json').version;
const addonsLoaded = !process.env.WS_NO_BUFFER_UTIL && canLoad('bufferutil');

function canLoad(name) {
  try {
    require(name);
    return true;
  } catch {
    return false;
  }
}

const wss = new WebSocketServer({
  noServer: true,
  maxPayload: MAX_PAYLOAD,
  clientTracking: true,
  perMessageDeflate: opts.deflate,
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});

const server = http.createServer((req, res) => {
  res.writeHead(404).end('not found\n');
});
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => {});
  const q = req.url.indexOf('?');
  const path = q === -1 ? req.url : req.url.slice(0, q);
  if (path !== '/echo') {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

server.listen(opts.port, opts.host, () => {
  const { port } = server.address();
  console.error(`ws ${wsVersion} on Node ${process.version}, native addons ${addonsLoaded ? 'on' : 'off'}`);
  console.log(`listening on ws://${opts.host}:${port}/echo`);
});

function shutdown() {
  for (const ws of wss.clients) ws.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
