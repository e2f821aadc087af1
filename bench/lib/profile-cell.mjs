// Runs one parse cell for one competitor for a while, with nothing else in the process, so a
// profiler sees only that work:
//
//   taskset -c 1 node --cpu-prof --cpu-prof-dir=/tmp/prof bench/lib/profile-cell.mjs \
//     --kind=binary --size=1048576 --reads=16384 --who=this --seconds=5
//   taskset -c 1 perf record -g node --perf-basic-prof bench/lib/profile-cell.mjs ...
//
// `--who` is `this`, `ws` (Buffers) or `ws+toString`; `--reads` is a read size or `frame`.

import { loadWs, loadThis, parseArgs } from './env.mjs';
import { KINDS, buildCell, runSink, runWsBuffer, runWsString } from './cells.mjs';
import { rate, mbps } from './stats.mjs';

const opts = parseArgs({
  kind: 'binary',
  size: 1048576,
  reads: '16384',
  who: 'this',
  seconds: 5,
  passBytes: 16 << 20,
  passFrames: 65536,
});

const kind = KINDS[opts.kind];
if (!kind) throw new Error(`unknown kind ${opts.kind}`);
const cell = buildCell(kind, opts.size, String(opts.reads), opts);
const run = {
  this: () => runSink(loadThis().FrameSink, cell, opts.seconds),
  ws: () => runWsBuffer(loadWs().ws.Receiver, cell, opts.seconds),
  'ws+toString': () => runWsString(loadWs().ws.Receiver, cell, opts.seconds),
}[opts.who];
if (!run) throw new Error(`unknown competitor ${opts.who}`);
const r = run();
console.log(
  `${opts.who} ${opts.kind} ${opts.size} B in reads of ${opts.reads}: ${rate(r.ops / r.seconds)} msg/s, ` +
    `${mbps(r.bytes / r.seconds)} MB/s over ${r.seconds.toFixed(2)} s timed${r.ok ? '' : `; CHECK FAILED: ${r.error}`}`,
);
