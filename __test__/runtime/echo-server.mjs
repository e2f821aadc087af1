// The echo route of examples/echo-server.mjs on whichever runtime runs this file, served by that
// runtime's adapter (Bun.serve on Bun, Deno.serve on Deno, node:http on Node): the target of
// scripts/conformance-runtimes.sh.
//
//   bun __test__/runtime/echo-server.mjs --port 0 | deno run -A __test__/runtime/echo-server.mjs
import { parseArgs } from 'node:util';
import { App } from '../../index.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9001' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const entry = typeof Bun !== 'undefined' ? '../../bun.mjs' : typeof Deno !== 'undefined' ? '../../deno.mjs' : '../../node.mjs';
const { serve } = await import(entry);

const app = new App();
app.ws('/echo', {
  // Autobahn|Testsuite sends messages of up to 16 MiB.
  maxPayloadLength: 64 * 1024 * 1024,
  beforeUpgrade(request, ctx) {
    return ctx.protocols.includes('echo.v1') ? 'echo.v1' : undefined;
  },
  message(conn, data, isBinary) {
    conn.send(data, { binary: isBinary });
  },
});

const server = serve(app, { port: Number(values.port), hostname: values.host, handleSignals: true });
await server.ready;
console.log(`listening on ws://${values.host}:${server.port}/echo`);
