// The smoke test of an installed daloy-ws-native, run from inside an app that installed it (the
// install proof copies it there): every export present through require() and import, the
// native core answering, and an echo round trip through `serve` on this runtime's adapter
// (daloy-ws-native/node, /bun or /deno) with the runtime's own WebSocket client.
//   <runtime> smoke.mjs <expected-exports.json>
// The JSON maps each subpath ('.', './node', ...) to the export names the source tree has.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import process from 'node:process';

const require = createRequire(import.meta.url);
const expected = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const runtime = typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node';
const version = runtime === 'bun' ? Bun.version : runtime === 'deno' ? Deno.version.deno : process.versions.node;
const timeoutMs = Number(process.env.SMOKE_TIMEOUT_MS || 30_000);
const fail = (message) => {
  console.error(`smoke FAILED (${runtime} ${version}): ${message}`);
  process.exit(1);
};
setTimeout(() => fail(`not done after ${timeoutMs} ms`), timeoutMs).unref?.();

let count = 0;
for (const [subpath, names] of Object.entries(expected)) {
  const specifier = subpath === '.' ? 'daloy-ws-native' : `daloy-ws-native/${subpath.slice(2)}`;
  const cjs = require(specifier);
  const esm = await import(specifier);
  const got = Object.keys(cjs).sort();
  if (JSON.stringify(got) !== JSON.stringify([...names].sort())) {
    fail(`require('${specifier}') exports [${got}], the source tree [${[...names].sort()}]`);
  }
  for (const name of names) {
    if (esm[name] === undefined || esm[name] !== cjs[name]) fail(`import('${specifier}').${name} is not require()'s`);
  }
  count += names.length;
}

const ws = require('daloy-ws-native');
const accept = ws.computeAcceptKeySync('dGhlIHNhbXBsZSBub25jZQ==');
if (accept !== 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=') fail(`computeAcceptKeySync gave ${accept}`);

const { serve } = await import(`daloy-ws-native/${runtime}`);
const app = new ws.App();
app.ws('/echo', {
  message(conn, data, isBinary) {
    conn.send(data, { binary: isBinary });
  },
});
const started = performance.now();
const server = serve(app, { port: 0, hostname: '127.0.0.1', handleSignals: false });
await server.ready;

const client = new WebSocket(`ws://127.0.0.1:${server.port}/echo`);
client.binaryType = 'arraybuffer';
const replies = [];
await new Promise((resolve, reject) => {
  client.onerror = (event) => reject(new Error(`client error: ${event.message ?? event.type}`));
  client.onopen = () => {
    client.send('héllo, wörld');
    client.send(new Uint8Array([0, 1, 2, 253, 254, 255]));
  };
  client.onmessage = (event) => {
    replies.push(event.data);
    if (replies.length === 2) resolve();
  };
});
client.close(1000, 'done');
const text = replies[0];
const binary = new Uint8Array(replies[1]);
if (text !== 'héllo, wörld') fail(`text came back as ${JSON.stringify(text)}`);
if (binary.join() !== '0,1,2,253,254,255') fail(`binary came back as [${binary.join()}]`);
const elapsed = Math.round(performance.now() - started);
await server.close();

console.log(
  `smoke ok: ${runtime} ${version} ${process.arch}: ${count} exports via require() and import, ` +
    `native accept key, echo of text and binary through daloy-ws-native/${runtime} serve in ${elapsed} ms`,
);
process.exit(0);
