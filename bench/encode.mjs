// Framing throughput: this package's `encodeFrame` (DaloyJS's contract: one Uint8Array holding the
// complete frame) against `ws`'s `Sender.frame`, which returns the 2-14 byte header and the payload
// as separate buffers for the socket to write with writev, so an unmasked frame costs it no pass
// over the payload. To say where copying the payload costs what, two references run alongside:
// `ws` made to produce a complete frame too (`Sender.frame` + `Buffer.concat` when it returned two
// parts), and the bare cost of a complete frame's allocation and payload copy (`alloc+copy`).
//
//   taskset -c 1 node bench/encode.mjs [--reps=5] [--min-time=0.5] [--sizes=16,125,...] [--impl=path]

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Buffer } from 'node:buffer';
import { loadWs, loadThis, machine, printMachine, parseArgs, require, root } from './lib/env.mjs';
import { rng, binaryOfBytes, headerLength, decodeFrame } from './lib/payloads.mjs';
import { measureCell } from './lib/run.mjs';
import { spread, rate, mbps, ratio, sizeLabel, table, today } from './lib/stats.mjs';

const opts = parseArgs({
  reps: 5,
  minTime: 0.5,
  warmup: 0.15,
  sizes: '16,125,1024,65536,1048576',
  masks: 'unmasked,masked',
  impl: '',
  out: path.join(root, 'bench', 'results'),
});

const { ws, helpers } = loadWs();
const self = opts.impl ? require(path.resolve(opts.impl)) : loadThis();
const { encodeFrame } = self;
const { Sender } = ws;
const BINARY = 2;

const env = machine(helpers);
printMachine(env);
console.log(`settings    ${opts.reps} reps, >= ${opts.minTime} s timed per run; binary payloads, FIN set\n`);

// Each competitor returns what it built, so the last result of a run can be checked afterwards.
function thisFrame(payload, mask) {
  return encodeFrame({ opcode: BINARY, payload, fin: true, mask });
}

// What `ws.send(buffer)` asks of the framer: the caller's Buffer is read-only, so a masked frame is
// copied and masked into one new buffer; an unmasked one comes back as [header, payload].
function wsParts(payload, mask) {
  return Sender.frame(payload, { opcode: BINARY, fin: true, mask, readOnly: true });
}

function wsComplete(payload, mask) {
  const parts = Sender.frame(payload, { opcode: BINARY, fin: true, mask, readOnly: true });
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, parts[0].length + parts[1].length);
}

// The floor for any complete unmasked frame built in JavaScript: allocate it, write a header, copy.
function allocCopy(payload) {
  const n = payload.length;
  const h = headerLength(n, false);
  const out = Buffer.allocUnsafe(h + n);
  out[0] = 0x80 | BINARY;
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(n, 6);
  }
  out.set(payload, h);
  return out;
}

function frameLength(result) {
  return Array.isArray(result) ? result.reduce((a, b) => a + b.length, 0) : result.length;
}

function checkFrame(result, payload, mask) {
  const bytes = Array.isArray(result) ? Buffer.concat(result) : Buffer.from(result.buffer, result.byteOffset, result.byteLength);
  const f = decodeFrame(bytes);
  if (!f) return 'not a complete frame';
  if (f.consumed !== bytes.length) return `frame of ${f.consumed} bytes inside ${bytes.length}`;
  if (!f.fin || f.opcode !== BINARY) return `fin ${f.fin} opcode ${f.opcode}`;
  if (f.masked !== mask) return `masked ${f.masked}, expected ${mask}`;
  if (Buffer.compare(f.payload, payload) !== 0) return 'payload differs';
  return null;
}

function runner(build, payload, mask) {
  const perBatch = Math.max(1, Math.floor((4 << 20) / (payload.length + 14)));
  const expectLength = headerLength(payload.length, mask) + payload.length;
  return (minTime) => {
    let seconds = 0;
    let ops = 0;
    let total = 0;
    let last;
    while (seconds < minTime) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < perBatch; i++) {
        last = build(payload, mask);
        total += frameLength(last);
      }
      seconds += Number(process.hrtime.bigint() - t0) / 1e9;
      ops += perBatch;
    }
    let error = checkFrame(last, payload, mask);
    if (!error && total !== ops * expectLength) error = `${total} frame bytes, expected ${ops * expectLength}`;
    return { seconds, ops, bytes: ops * payload.length, ok: !error, error };
  };
}

const sizes = opts.sizes.split(',').map(Number);
const masks = opts.masks.split(',');
const results = [];

for (const size of sizes) {
  const payload = binaryOfBytes(size, rng(size + 1));
  for (const maskName of masks) {
    const mask = maskName === 'masked';
    const competitors = {
      this: runner(thisFrame, payload, mask),
      'ws parts': runner(wsParts, payload, mask),
      'ws complete': runner(wsComplete, payload, mask),
    };
    if (!mask) competitors['alloc+copy'] = runner(allocCopy, payload, mask);
    const m = measureCell(competitors, opts);
    const result = {
      size,
      masked: mask,
      failures: m.failures,
      competitors: m.competitors,
      ratios: { 'ws parts': m.pairedRatio('this', 'ws parts'), 'ws complete': m.pairedRatio('this', 'ws complete') },
    };
    if (!mask) result.ratios['alloc+copy'] = m.pairedRatio('this', 'alloc+copy');
    results.push(result);
    const c = result.competitors;
    console.log(
      [
        `${sizeLabel(size).padStart(7)} ${maskName.padEnd(8)}`,
        ...Object.keys(c).map((n) => `${n} ${rate(c[n].opsPerSec.median)}/s ${spread(c[n].opsPerSec)}`),
        `this/ws parts ${ratio(result.ratios['ws parts'].median)}`,
        `this/ws complete ${ratio(result.ratios['ws complete'].median)}`,
        m.failures.length ? `INVALID: ${m.failures[0]}` : '',
      ]
        .filter(Boolean)
        .join(' | '),
    );
  }
}

const rows = results.map((r) => {
  const c = r.competitors;
  const cell = (n) => (c[n] ? `${rate(c[n].opsPerSec.median)} ${spread(c[n].opsPerSec)}` : '—');
  return [
    sizeLabel(r.size),
    r.masked ? 'masked' : 'unmasked',
    cell('this'),
    mbps(c.this.bytesPerSec.median),
    cell('ws parts'),
    cell('ws complete'),
    cell('alloc+copy'),
    `**${ratio(r.ratios['ws parts'].median)}**`,
    ratio(r.ratios['ws complete'].median),
    r.failures.length ? `INVALID (${r.failures[0]})` : '',
  ];
});
const md = table(
  ['size', 'frame', 'encodeFrame frames/s', 'MB/s', 'ws Sender.frame /s (parts)', 'ws frame+concat /s', 'alloc+copy /s', 'this/ws parts', 'this/ws complete', 'check'],
  rows,
);
console.log(`\n${md}`);

mkdirSync(opts.out, { recursive: true });
const base = path.join(opts.out, `encode-${today()}`);
writeFileSync(`${base}.json`, `${JSON.stringify({ machine: env, settings: opts, results }, null, 2)}\n`);
writeFileSync(`${base}.md`, `${md}\n`);
console.log(`\nwrote ${path.relative(process.cwd(), base)}.json and .md`);
