// Echo server: text comes back as text, binary as binary. The target of Autobahn|Testsuite
// (scripts/conformance.sh) and of the benchmarks.
//
//   node examples/echo-server.mjs [--port 9001] [--host 127.0.0.1] [--deflate[=shared|dedicated]]
//
// Offers the subprotocol "echo.v1" to clients that ask for it. `--deflate` negotiates
// permessage-deflate (RFC 7692) on /echo in the shared mode, `--deflate=dedicated` with a window per
// connection. Stops cleanly on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { App } from 'daloy-ws-native';
import { serve } from 'daloy-ws-native/node';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9001' },
    host: { type: 'string', default: '127.0.0.1' },
    deflate: { type: 'string' },
  },
  // `--deflate` alone: parseArgs wants a value for a string option, so the bare flag is read below.
  args: process.argv.slice(2).map((arg) => (arg === '--deflate' ? '--deflate=shared' : arg)),
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`echo-server: invalid --port ${values.port}`);
  process.exit(2);
}

const mode = values.deflate;
if (mode !== undefined && mode !== 'shared' && mode !== 'dedicated') {
  console.error(`echo-server: --deflate must be shared or dedicated (got ${mode})`);
  process.exit(2);
}

const app = new App();
app.ws('/echo', {
  // A public echo for any origin, on purpose: said so, it also starts under NODE_ENV=production.
  acknowledgeUnauthenticated: true,
  acknowledgeCrossOriginUpgrade: true,
  // Autobahn|Testsuite sends messages of up to 16 MiB.
  maxPayloadLength: 64 * 1024 * 1024,
  // Every message compressed when the extension is agreed, as Autobahn's 12.* and 13.* expect.
  perMessageDeflate: mode === undefined ? false : { mode, threshold: 0 },
  beforeUpgrade(request, ctx) {
    return ctx.protocols.includes('echo.v1') ? 'echo.v1' : undefined;
  },
  message(conn, data, isBinary) {
    conn.send(data, { binary: isBinary });
  },
});

const server = serve(app, { port, hostname: values.host, handleSignals: true });
await server.ready;
const host = values.host.includes(':') ? `[${values.host}]` : values.host;
console.log(`listening on ws://${host}:${server.port}/echo`);
