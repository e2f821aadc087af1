// Parsing throughput: this package's `FrameSink.push` against `ws`'s `Receiver` (with its native
// helpers), side by side in one run, on client-masked streams of 16 B .. 1 MiB messages, text and
// binary, fed in 16 KiB reads and one whole frame per read.
//
//   taskset -c 1 node bench/parse.mjs [--reps=5] [--min-time=0.5] [--sizes=16,125,...]
//     [--kinds=text,ascii,binary] [--reads=16384,frame] [--impl=path/to/entry.js] [--out=dir]
//
// Every run checks that each consumer saw every message, the exact payload total, no error, and
// the right content for the last message; a cell that fails a check is reported INVALID.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Buffer } from 'node:buffer';
import { loadWs, loadThis, machine, printMachine, parseArgs, require, root } from './lib/env.mjs';
import { rng, textOfBytes, binaryOfBytes, MIXED_SHARE, nonAsciiByteShare, buildStream, cut } from './lib/payloads.mjs';
import { measureCell } from './lib/run.mjs';
import { spread, rate, mbps, ratio, sizeLabel, table, today } from './lib/stats.mjs';

const opts = parseArgs({
  reps: 5,
  minTime: 0.5,
  warmup: 0.15,
  sizes: '16,125,1024,65536,1048576',
  kinds: 'text,ascii,binary',
  reads: '16384,frame',
  // A pass is one feed of the pre-built stream; passes repeat until min-time of timed work.
  passBytes: 16 << 20,
  passFrames: 65536,
  impl: '',
  out: path.join(root, 'bench', 'results'),
});

const { ws, helpers } = loadWs();
const self = opts.impl ? require(path.resolve(opts.impl)) : loadThis();
const { FrameSink } = self;
const { Receiver } = ws;
const MAX_PAYLOAD = 64 << 20;

const env = machine(helpers);
printMachine(env);
console.log(`settings    ${opts.reps} reps, >= ${opts.minTime} s timed per run, passes of <= ${opts.passBytes >> 20} MiB / ${opts.passFrames} frames\n`);

const KINDS = {
  text: { label: 'text, ~10% non-ASCII bytes', opcode: 1, binary: false, share: MIXED_SHARE },
  ascii: { label: 'text, pure ASCII', opcode: 1, binary: false, share: 0 },
  binary: { label: 'binary', opcode: 2, binary: true },
};

function makePayloads(kind, size) {
  const next = rng(size * 31 + kind.opcode);
  const count = Math.max(4, Math.min(257, Math.floor((8 << 20) / size)));
  const values = [];
  const bytes = [];
  for (let i = 0; i < count; i++) {
    if (kind.binary) {
      const b = binaryOfBytes(size, next);
      values.push(b);
      bytes.push(b);
    } else {
      const s = textOfBytes(size, next, kind.share);
      values.push(s);
      bytes.push(Buffer.from(s));
    }
  }
  return { values, bytes };
}

function buildCell(kind, size, reads) {
  const { values, bytes } = makePayloads(kind, size);
  const s = buildStream(bytes, kind.opcode, { maxBytes: opts.passBytes, maxFrames: opts.passFrames, minFrames: 8 });
  let units = 0; // string length (UTF-16 units) for text, bytes for binary, per pass
  for (let f = 0; f < s.frames; f++) units += values[f % values.length].length;
  return {
    kind,
    size,
    reads,
    stream: s.stream,
    pristine: Buffer.from(s.stream),
    views: cut(s.stream, s.ends, reads === 'frame' ? 'frame' : Number(reads)),
    frames: s.frames,
    payloadBytes: s.payloadBytes,
    units,
    lastValue: values[(s.frames - 1) % values.length],
    lastBytes: bytes[(s.frames - 1) % bytes.length],
    nonAscii: kind.binary ? null : nonAsciiByteShare(bytes),
  };
}

// One hot loop per competitor, so no call site inside them turns polymorphic across competitors.
function feedSink(sink, views) {
  for (let i = 0; i < views.length; i++) sink.push(views[i]);
}

function feedReceiver(receiver, views) {
  for (let i = 0; i < views.length; i++) receiver.write(views[i]);
}

// `ws` unmasks in place, in the caller's buffer: every pass starts from the pristine stream, for
// every competitor alike (so they see the same cache state). The refresh is not timed.
function timedPasses(cell, minTime, feed, target) {
  let seconds = 0;
  let passes = 0;
  while (seconds < minTime) {
    cell.stream.set(cell.pristine);
    const t0 = process.hrtime.bigint();
    feed(target, cell.views);
    seconds += Number(process.hrtime.bigint() - t0) / 1e9;
    passes++;
  }
  return { seconds, passes };
}

function check(cell, passes, got, expectUnits) {
  const problems = [];
  if (got.errors.length) problems.push(`errors: ${got.errors[0]}`);
  if (got.count !== passes * cell.frames) problems.push(`${got.count} messages, expected ${passes * cell.frames}`);
  if (got.units !== passes * expectUnits) problems.push(`${got.units} payload units, expected ${passes * expectUnits}`);
  const last = got.last;
  const want = cell.kind.binary ? cell.lastBytes : cell.lastValue;
  const same =
    typeof want === 'string'
      ? typeof last === 'string' && last === want
      : last instanceof Uint8Array && Buffer.compare(Buffer.from(last.buffer, last.byteOffset, last.byteLength), want) === 0;
  if (!same) problems.push(`last message differs (got ${typeof last} of length ${last?.length})`);
  return problems.length ? problems.join('; ') : null;
}

function runSink(cell, minTime) {
  const got = { count: 0, units: 0, last: undefined, errors: [] };
  const sink = new FrameSink({
    onMessage(ev) {
      got.count++;
      got.units += ev.data.length;
      got.last = ev.data;
    },
    onPing() {},
    onPong() {},
    onClose(code) {
      got.errors.push(`unexpected close ${code}`);
    },
    onProtocolError(err) {
      got.errors.push(String(err && err.message));
    },
    requireMask: true,
    maxPayloadLength: MAX_PAYLOAD,
  });
  const { seconds, passes } = timedPasses(cell, minTime, feedSink, sink);
  const error = check(cell, passes, got, cell.units);
  return { seconds, ops: got.count, bytes: passes * cell.payloadBytes, ok: !error, error };
}

function makeReceiver(got, onMessage) {
  const receiver = new Receiver({ isServer: true, maxPayload: MAX_PAYLOAD, binaryType: 'nodebuffer' });
  receiver.on('message', onMessage);
  receiver.on('error', (err) => got.errors.push(String(err && err.message)));
  receiver.on('conclude', (code) => got.errors.push(`unexpected close ${code}`));
  return receiver;
}

// `ws` as its users get it: text arrives as a Buffer of UTF-8 bytes.
function runWsBuffer(cell, minTime) {
  const got = { count: 0, units: 0, last: undefined, errors: [] };
  const receiver = makeReceiver(got, (data) => {
    got.count++;
    got.units += data.length;
    got.last = data;
  });
  const { seconds, passes } = timedPasses(cell, minTime, feedReceiver, receiver);
  // Buffers are bytes: compare against the byte total, and the last message as bytes.
  const error = check({ ...cell, kind: { ...cell.kind, binary: true } }, passes, got, cell.payloadBytes);
  return { seconds, ops: got.count, bytes: passes * cell.payloadBytes, ok: !error, error };
}

// `ws` doing what this package does for text: hand over a string.
function runWsString(cell, minTime) {
  const got = { count: 0, units: 0, last: undefined, errors: [] };
  const receiver = makeReceiver(got, (data, isBinary) => {
    const value = isBinary ? data : data.toString();
    got.count++;
    got.units += value.length;
    got.last = value;
  });
  const { seconds, passes } = timedPasses(cell, minTime, feedReceiver, receiver);
  const error = check(cell, passes, got, cell.units);
  return { seconds, ops: got.count, bytes: passes * cell.payloadBytes, ok: !error, error };
}

const TARGETS = {
  small: { text: '>= 2x ws', min: 2 },
  large: { text: '>= 3x ws+toString', min: 3 },
  binaryRate: { text: '>= 5 GB/s', minBytes: 5e9 },
  notSlower: { text: '>= 1x ws', min: 1 },
};

function verdicts(cell, result) {
  const out = [];
  const fair = cell.kind.binary ? 'ws' : 'ws+toString';
  const r = result.ratios[fair].median;
  if (cell.size === 16 || cell.size === 125) out.push({ target: TARGETS.small.text, value: r, pass: r >= 2 });
  if (!cell.kind.binary && cell.size >= 65536) out.push({ target: TARGETS.large.text, value: r, pass: r >= 3 });
  if (cell.kind.binary && cell.size === 1 << 20 && cell.reads === '16384') {
    const bps = result.competitors.this.bytesPerSec.median;
    out.push({ target: TARGETS.binaryRate.text, value: bps, pass: bps >= 5e9 });
  }
  out.push({ target: TARGETS.notSlower.text, value: r, pass: r >= 1 });
  return out;
}

const sizes = opts.sizes.split(',').map(Number);
const kinds = opts.kinds.split(',');
const readsList = opts.reads.split(',');
const results = [];

for (const kindName of kinds) {
  const kind = KINDS[kindName];
  if (!kind) throw new Error(`unknown kind ${kindName}`);
  for (const size of sizes) {
    for (const reads of readsList) {
      const cell = buildCell(kind, size, reads);
      const competitors = { this: (t) => runSink(cell, t), ws: (t) => runWsBuffer(cell, t) };
      if (!kind.binary) competitors['ws+toString'] = (t) => runWsString(cell, t);
      const m = measureCell(competitors, opts);
      const result = {
        kind: kindName,
        size,
        reads: reads === 'frame' ? 'frame' : Number(reads),
        framesPerPass: cell.frames,
        readsPerPass: cell.views.length,
        nonAsciiByteShare: cell.nonAscii,
        failures: m.failures,
        competitors: m.competitors,
        ratios: { ws: m.pairedRatio('this', 'ws') },
      };
      if (!kind.binary) result.ratios['ws+toString'] = m.pairedRatio('this', 'ws+toString');
      result.verdicts = m.failures.length ? [] : verdicts(cell, result);
      results.push(result);
      const c = result.competitors;
      const fair = kind.binary ? 'ws' : 'ws+toString';
      const line = [
        `${kindName.padEnd(6)} ${sizeLabel(size).padStart(7)} ${(reads === 'frame' ? 'frame' : sizeLabel(Number(reads))).padStart(7)}`,
        `this ${rate(c.this.opsPerSec.median)} msg/s ${mbps(c.this.bytesPerSec.median)} MB/s ${spread(c.this.opsPerSec)}`,
        `ws ${rate(c.ws.opsPerSec.median)} msg/s ${spread(c.ws.opsPerSec)}`,
        kind.binary ? '' : `ws+toString ${rate(c['ws+toString'].opsPerSec.median)} msg/s ${spread(c['ws+toString'].opsPerSec)}`,
        `ratio ${ratio(result.ratios[fair].median)}`,
        m.failures.length ? `INVALID: ${m.failures[0]}` : result.verdicts.map((v) => `${v.pass ? 'PASS' : 'MISS'} ${v.target}`).join(', '),
      ].filter(Boolean);
      console.log(line.join(' | '));
    }
  }
}

function verdictCell(r) {
  if (r.failures.length) return `INVALID (${r.failures[0]})`;
  return r.verdicts.map((v) => `${v.pass ? 'PASS' : '**MISS**'} ${v.target}`).join('; ');
}

function markdown() {
  const parts = [];
  for (const kindName of kinds) {
    const kind = KINDS[kindName];
    const rows = results.filter((r) => r.kind === kindName);
    if (!rows.length) continue;
    const share = rows[0].nonAsciiByteShare;
    parts.push(`#### ${kind.label}${share ? ` (measured: ${(share * 100).toFixed(1)}% of payload bytes non-ASCII)` : ''}\n`);
    if (kind.binary) {
      parts.push(
        table(
          ['size', 'reads', 'this msg/s', 'this MB/s', 'ws msg/s', 'ws MB/s', 'this/ws', 'targets'],
          rows.map((r) => [
            sizeLabel(r.size),
            r.reads === 'frame' ? '1 frame' : sizeLabel(r.reads),
            `${rate(r.competitors.this.opsPerSec.median)} ${spread(r.competitors.this.opsPerSec)}`,
            mbps(r.competitors.this.bytesPerSec.median),
            `${rate(r.competitors.ws.opsPerSec.median)} ${spread(r.competitors.ws.opsPerSec)}`,
            mbps(r.competitors.ws.bytesPerSec.median),
            `**${ratio(r.ratios.ws.median)}**`,
            verdictCell(r),
          ]),
        ),
      );
    } else {
      parts.push(
        table(
          ['size', 'reads', 'this msg/s', 'this MB/s', 'ws msg/s (Buffer)', 'ws+toString msg/s', 'ws+toString MB/s', 'this/ws+toString', 'this/ws (Buffer)', 'targets'],
          rows.map((r) => [
            sizeLabel(r.size),
            r.reads === 'frame' ? '1 frame' : sizeLabel(r.reads),
            `${rate(r.competitors.this.opsPerSec.median)} ${spread(r.competitors.this.opsPerSec)}`,
            mbps(r.competitors.this.bytesPerSec.median),
            `${rate(r.competitors.ws.opsPerSec.median)} ${spread(r.competitors.ws.opsPerSec)}`,
            `${rate(r.competitors['ws+toString'].opsPerSec.median)} ${spread(r.competitors['ws+toString'].opsPerSec)}`,
            mbps(r.competitors['ws+toString'].bytesPerSec.median),
            `**${ratio(r.ratios['ws+toString'].median)}**`,
            ratio(r.ratios.ws.median),
            verdictCell(r),
          ]),
        ),
      );
    }
    parts.push('');
  }
  const all = results.flatMap((r) => r.verdicts);
  const misses = all.filter((v) => !v.pass).length;
  const invalid = results.filter((r) => r.failures.length).length;
  parts.push(`Targets: ${all.length - misses} PASS, ${misses} MISS${invalid ? `, ${invalid} cells INVALID` : ''}.`);
  return parts.join('\n');
}

const md = markdown();
console.log(`\n${md}`);

mkdirSync(opts.out, { recursive: true });
const base = path.join(opts.out, `parse-${today()}`);
writeFileSync(`${base}.json`, `${JSON.stringify({ machine: env, settings: opts, results }, null, 2)}\n`);
writeFileSync(`${base}.md`, `${md}\n`);
console.log(`\nwrote ${path.relative(process.cwd(), base)}.json and .md`);
