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
import { loadWs, loadThis, machine, printMachine, parseArgs, require, root } from './lib/env.mjs';
import { KINDS, buildCell, runSink, runWsBuffer, runWsString } from './lib/cells.mjs';
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

const env = machine(helpers);
printMachine(env);
console.log(`settings    ${opts.reps} reps, >= ${opts.minTime} s timed per run, passes of <= ${opts.passBytes >> 20} MiB / ${opts.passFrames} frames\n`);

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
      const cell = buildCell(kind, size, reads, opts);
      const competitors = { this: (t) => runSink(FrameSink, cell, t), ws: (t) => runWsBuffer(Receiver, cell, t) };
      if (!kind.binary) competitors['ws+toString'] = (t) => runWsString(Receiver, cell, t);
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
