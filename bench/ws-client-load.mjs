// One client load run for bench/ws-client.mjs: C connections of a `ws`-interface client (this
// package's daloy-ws-native/ws, or `ws` itself) to an echo server, each keeping P messages of S bytes
// in flight, for a warm-up then a measured window. Every echo is checked against what was sent.
// Prints one JSON line: { impl, msgs, seconds, msgs_per_sec, mismatches, cpu_us_per_msg }.
//
//   node bench/ws-client-load.mjs --impl daloy|ws --url ws://127.0.0.1:PORT/echo [-c 64] [-p 16] [-s 16] [--warmup 1] [--duration 3]
import { parseArgs } from 'node:util';
import { loadWs, require } from './lib/env.mjs';

const { values } = parseArgs({
  options: {
    impl: { type: 'string' },
    url: { type: 'string' },
    c: { type: 'string', default: '64' },
    p: { type: 'string', default: '16' },
    s: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '1' },
    duration: { type: 'string', default: '3' },
  },
});
if (!['daloy', 'ws'].includes(values.impl) || !values.url) {
  console.error('usage: ws-client-load.mjs --impl daloy|ws --url ws://HOST:PORT/PATH [-c N] [-p N] [-s BYTES] [--warmup S] [--duration S]');
  process.exit(2);
}
// `ws` must run with its native helpers (loadWs throws otherwise): a fallback would flatter this package.
const WebSocket = values.impl === 'ws' ? loadWs().ws : require('./ws.js');
const connections = Number(values.c);
const inFlight = Number(values.p);
const size = Number(values.s);
const payload = Buffer.alloc(size, 0x61);

let measuring = false;
let stopping = false;
let counted = 0;
let mismatches = 0;

const sockets = await Promise.all(
  Array.from(
    { length: connections },
    () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(values.url);
        ws.on('error', reject);
        ws.on('open', () => resolve(ws));
      }),
  ),
);
for (const ws of sockets) {
  ws.on('message', (data, isBinary) => {
    if (!isBinary || data.length !== size || data[0] !== 0x61) mismatches++;
    if (measuring) counted++;
    if (!stopping) ws.send(payload);
  });
  for (let i = 0; i < inFlight; i++) ws.send(payload);
}

await new Promise((resolve) => setTimeout(resolve, Number(values.warmup) * 1000));
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
measuring = true;
await new Promise((resolve) => setTimeout(resolve, Number(values.duration) * 1000));
measuring = false;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
stopping = true;
for (const ws of sockets) ws.terminate();
console.log(
  JSON.stringify({
    impl: values.impl,
    msgs: counted,
    seconds,
    msgs_per_sec: counted / seconds,
    mismatches,
    cpu_us_per_msg: counted > 0 ? (cpu.user + cpu.system) / counted : null,
  }),
);
process.exit(0);
