// Echo server on uWebSockets.js (npm uwebsockets@3.0.6, installed under bench/.tools by
// bench/run.sh, bench/deflate-e2e.mjs and bench/fanout.sh): route /echo, text echoed as text, binary as
// binary.
//
//   node bench/servers/uws-node.mjs [--port 0] [--host 127.0.0.1] [--deflate=shared|dedicated]
//
// `--deflate=shared`: SHARED_COMPRESSOR | SHARED_DECOMPRESSOR (no context takeover either way, what
// this package's shared mode and `ws --deflate-no-context` agree). `--deflate=dedicated`:
// DEDICATED_COMPRESSOR_256KB | DEDICATED_DECOMPRESSOR (window 15 and memLevel 8 for the compressor,
// a 32 KiB window for the decompressor: `ws`'s defaults). Every message is sent compressed, as the
// other deflate servers do with threshold 0.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' }, deflate: { type: 'string' } },
});
const uWS = require(path.join(here, '../.tools/node_modules/uwebsockets'));
const version = require(path.join(here, '../.tools/node_modules/uwebsockets/package.json')).version;
const COMPRESSION = {
  undefined: uWS.DISABLED,
  shared: uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR,
  dedicated: uWS.DEDICATED_COMPRESSOR_256KB | uWS.DEDICATED_DECOMPRESSOR,
};
const compression = COMPRESSION[values.deflate];
if (compression === undefined) throw new Error(`--deflate must be shared or dedicated (got ${values.deflate})`);
const compress = compression !== uWS.DISABLED;

const app = uWS.App();
app.ws('/echo', {
  maxPayloadLength: 64 * 1024 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 960,
  compression,
  message(socket, message, isBinary) {
    socket.send(message, isBinary, compress);
  },
});
const port = await new Promise((resolve, reject) =>
  app.listen(values.host, Number(values.port), (token) => (token ? resolve(uWS.us_socket_local_port(token)) : reject(new Error('uWS: listen failed')))),
);
console.error(`uWebSockets.js (uwebsockets ${version}) on Node ${process.version}, compression ${values.deflate ?? 'off'}`);
console.log(`listening on ws://${values.host}:${port}/echo`);
const stop = () => {
  app.close?.();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
