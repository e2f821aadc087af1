// Turns the raw result lines of bench/run.sh into bench/RESULTS.md: medians over the repetitions, their
// spread, the ratios of this package against each competitor, and the issues' targets checked against them.
//
//   node bench/lib/e2e-report.mjs bench/results/e2e-STAMP.jsonl bench/RESULTS.md
//
// A server is named by its key in the matrix, `NAME` or `NAME@TRANSPORT` (this package's servers run with
// DALOY_WS_TRANSPORT=TRANSPORT). Sections of the existing RESULTS.md that this script does not write (the
// fan-out and client tables, notes written by hand) are kept, after the ones it writes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [rawPath, outPath] = process.argv.slice(2);
const lines = readFileSync(rawPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
// The first line describes the run, the last one (written when the matrix ends) adds how it went.
const meta = Object.assign({ notes: [] }, ...lines.filter((l) => l.meta).map((l) => l.meta));
meta.raw = rawPath;
const rows = lines.filter((l) => l.result);
// A run cut short has no closing line: its servers are the ones that gave results, in order.
meta.servers ??= [...new Set(rows.map((r) => r.server))];
// What each server said about the transport it ran (one line per server start): server -> Set of answers.
const reported = {};
for (const { transport: t } of lines.filter((l) => l.transport)) (reported[t.server] ??= new Set()).add(t.reported ?? 'not reported');

const CELLS = {
  latency: 'Latency: C=1, P=1, 16 B binary',
  throughput: 'Throughput: C=64, P=16, 16 B binary',
  text1k: 'C=64, P=1, 1 KiB text',
  bin64k: 'C=8, P=1, 64 KiB binary',
  large1m: 'C=1, P=1, 1 MiB binary',
  large16m: 'C=1, P=1, 16 MiB binary',
  storm: 'Connection storm: 32 connectors, handshake + clean close',
  idle: `Idle: ${meta.idleConns} connections held, server RSS per connection`,
};
const NAMES = {
  daloy: 'daloy-ws-native',
  'ws-facade': 'daloy-ws-native/ws',
  'ws-addons': 'ws + addons',
  'ws-plain': 'ws (no addons)',
  uws: 'uWebSockets.js',
  bun: 'Bun',
  deno: 'Deno',
};
const baseOf = (s) => s.split('@')[0];
const transportOf = (s) => s.split('@')[1];
// A server's name: `daloy@native` is "daloy-ws-native (native)"; a dagger when the server did not report
// the transport it ran, and what it reported when that is not the one asked for.
const name = (s) => {
  const base = NAMES[baseOf(s)] ?? baseOf(s);
  const t = transportOf(s);
  if (t === undefined) return base;
  const said = [...(reported[s] ?? [])].filter((r) => r !== 'not reported');
  if (said.length === 0) return `${base} (${t}†)`;
  return said.length === 1 && said[0] === t ? `${base} (${t})` : `${base} (${t} asked, ${said.join(' and ')} ran)`;
};
// This package's own servers (serve()), one per transport asked for; the first is the one the issue 4
// targets and the per-cell ratio columns are computed for.
const OURS = meta.servers.filter((s) => baseOf(s) === 'daloy');
const US = OURS[0];
const FACADES = meta.servers.filter((s) => baseOf(s) === 'ws-facade');
// A server's name in a cell table, with how many of its runs gave figures when not all did.
const label = (s, a) => `${name(s)}${a.n < a.runs ? ` (${a.n} of ${a.runs} runs)` : ''}`;

const median = (xs) => {
  const v = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const spread = (xs) => {
  const v = xs.filter((x) => x != null && Number.isFinite(x));
  const m = median(v);
  if (v.length < 2 || !m) return null;
  return (100 * (Math.max(...v) - Math.min(...v))) / m;
};
const fmt = (v, digits = 0) => {
  if (v == null) return '–';
  if (Math.abs(v) >= 1000 && digits === 0) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
};
const ratio = (a, b) => (a != null && b ? a / b : null);
const fmtRatio = (r) => (r == null ? '–' : `${r.toFixed(2)}x`);

// cell -> server -> aggregated figures
const agg = {};
for (const cell of Object.keys(CELLS)) {
  for (const server of meta.servers) {
    const all = rows.filter((r) => r.cell === cell && r.server === server);
    if (!all.length) continue;
    // Figures come from runs that measured something; errors are counted over all of them.
    const rs = all.filter((r) => r.exit <= 1 && (r.result.msgs > 0 || r.result.held > 0)).map((r) => r.result);
    const pick = (k) => rs.map((r) => r[k]);
    (agg[cell] ??= {})[server] = {
      n: rs.length,
      rate: median(pick('msgs_per_sec')),
      rateSpread: spread(pick('msgs_per_sec')),
      mb: median(pick('mb_per_sec')),
      p50: median(pick('p50_us')),
      p99: median(pick('p99_us')),
      cpuPerMsg: median(pick('server_cpu_us_per_msg')),
      serverPct: median(pick('server_cpu_pct')),
      loadgenPct: median(pick('loadgen_cpu_pct')),
      loadgenPerMsg: median(pick('loadgen_cpu_us_per_msg')),
      rss: median(pick('rss_per_conn')),
      rssSpread: spread(pick('rss_per_conn')),
      runs: all.length,
      errors: all.reduce((a, r) => a + (r.result.errors ?? 0), 0),
      mismatches: all.reduce((a, r) => a + (r.result.mismatches ?? 0), 0),
      firstError: all.map((r) => r.result.first_error).find(Boolean),
    };
  }
}

// The figure a cell is judged by (more is better, except RSS per connection in the idle cell).
const primary = (cell, a) => (cell === 'idle' ? a?.rss : a?.rate);
// Server `a`'s figure ÷ server `b`'s in a cell (msg/s, or RSS per connection for the idle cell).
const over = (cell, a, b) => {
  const c = agg[cell];
  if (!c?.[a] || !c?.[b]) return null;
  return ratio(primary(cell, c[a]), primary(cell, c[b]));
};
// Server CPU per message: `b`'s ÷ `a`'s (above 1: `a` spends less per message).
const cpuOver = (cell, a, b) => ratio(agg[cell]?.[b]?.cpuPerMsg, agg[cell]?.[a]?.cpuPerMsg);
const usOver = (cell, comp) => over(cell, US, comp);

const out = [];
const p = (s = '') => out.push(s);
p('# End-to-end benchmark results');
p();
p(`Written by \`bench/run.sh\` on ${meta.date}; raw result lines in \`${meta.raw}\`.`);
p();
p('**The machine is shared** with other work (builds, tests) and a busy neighbour halves absolute figures:');
p('only the ratios between servers measured in one run count. The servers are interleaved within each');
p('repetition, in an order rotated from one repetition to the next, so that a change in load falls on all');
p('of them alike.');
p();
p('| | |');
p('| --- | --- |');
p(`| machine | ${meta.cpu}, ${meta.cores} cores, Linux ${meta.kernel} |`);
p(`| load average before / after | ${meta.loadBefore} / ${meta.loadAfter} |`);
p(`| Node | ${meta.node} |`);
p(`| ws | ${meta.ws} (bufferutil and utf-8-validate for "ws + addons") |`);
if (meta.uws) p(`| uWebSockets.js | npm uwebsockets ${meta.uws} (on the same Node) |`);
p(`| Bun | ${meta.bun} |`);
p(`| Deno | ${meta.deno} |`);
p(`| rustc (load generator) | ${meta.rustc} |`);
p(`| this package | commit ${meta.commit}${meta.dirty ? ' plus uncommitted changes' : ''}, addon built ${meta.addon || 'n/a'} |`);
p(`| method | server on core 0, load generator on core 1 (\`taskset\`); each cell run ${meta.reps} times, medians; warm-up ${meta.warmup} s, measured ${meta.duration} s; matrix took ${meta.elapsed} s |`);
p();
for (const n of meta.notes) p(`- ${n}`);
const unsaid = meta.servers.filter((s) => transportOf(s) !== undefined && name(s).includes('†'));
if (unsaid.length) {
  p(`- †: run with DALOY_WS_TRANSPORT set as shown, but the server did not report which transport its connections got (${unsaid.map((s) => `\`${s}\``).join(', ')}).`);
}
if (meta.notes.length || unsaid.length) p();

const target = (what, r, ok) => p(`| ${what} | ${r} | ${ok == null ? '–' : ok ? 'yes' : 'no'} |`);
const atLeast = (r, min) => (r == null ? null : r >= min);
const atMost = (r, max) => (r == null ? null : r <= max);

// Per transport of this package: msg/s and server CPU per message against every other server.
for (const us of OURS) {
  const others = meta.servers.filter((s) => s !== us);
  if (!others.length) continue;
  p(`## Ratios: ${name(us)} ÷ each other server`);
  p();
  p('msg/s (handshakes/s for the storm; above 1 is better), RSS per connection for the idle cell (below 1 is better).');
  p();
  p(`| cell | ${others.map((c) => `vs ${name(c)}`).join(' | ')} |`);
  p(`| --- | ${others.map(() => '---:').join(' | ')} |`);
  for (const cell of Object.keys(CELLS)) {
    if (!agg[cell]?.[us]) continue;
    p(`| ${cell} | ${others.map((c) => fmtRatio(over(cell, us, c))).join(' | ')} |`);
  }
  p();
  p(`Server CPU per message (per handshake in the storm) over the measured window, each other server's ÷`);
  p(`${name(us)}'s: above 1 means this package spends less CPU per message. Less sensitive than msg/s to what`);
  p('else the machine was doing.');
  p();
  p(`| cell | ${others.map((c) => `vs ${name(c)}`).join(' | ')} |`);
  p(`| --- | ${others.map(() => '---:').join(' | ')} |`);
  for (const cell of Object.keys(CELLS)) {
    if (agg[cell]?.[us]?.cpuPerMsg == null) continue;
    p(`| ${cell} | ${others.map((c) => fmtRatio(cpuOver(cell, us, c))).join(' | ')} |`);
  }
  p();
}

// Issue 15: uWebSockets.js and Bun as the anchors, for each transport.
const anchors = ['uws', 'bun'].filter((a) => meta.servers.includes(a));
if (OURS.length && anchors.length) {
  p('## Against uWebSockets.js and Bun (issue 15)');
  p();
  p('msg/s of this package ÷ the anchor\'s (above 1 is better; RSS per connection for the idle cell, below 1 is');
  p('better), then the anchor\'s server CPU per message ÷ this package\'s (above 1: this package spends less).');
  p();
  for (const us of OURS) {
    p(`### ${name(us)}`);
    p();
    p(`| cell | ${anchors.map((a) => `msg/s ÷ ${name(a)}`).join(' | ')} | ${anchors.map((a) => `CPU/msg ${name(a)} ÷ this`).join(' | ')} |`);
    p(`| --- | ${anchors.map(() => '---:').join(' | ')} | ${anchors.map(() => '---:').join(' | ')} |`);
    for (const cell of Object.keys(CELLS)) {
      if (!agg[cell]?.[us]) continue;
      const rates = anchors.map((a) => fmtRatio(over(cell, us, a))).join(' | ');
      const cpus = anchors.map((a) => (cell === 'idle' ? '–' : fmtRatio(cpuOver(cell, us, a)))).join(' | ');
      p(`| ${cell} | ${rates} | ${cpus} |`);
    }
    p();
  }
  const native = OURS.find((s) => transportOf(s) === 'native');
  const stream = OURS.find((s) => transportOf(s) === 'stream');
  const nativeRan = native === undefined ? [] : [...(reported[native] ?? [])];
  if (native !== undefined && nativeRan.length > 0 && !nativeRan.includes('native') && !nativeRan.includes('not reported')) {
    p(`Targets of the native transport: not judged, since its connections ran on ${nativeRan.join(' and ')} (${name(native)}).`);
    p();
  } else if (native !== undefined && meta.servers.includes('uws')) {
    p(`Targets of the native transport, ${name(native)}${nativeRan.includes('native') ? '' : ' (which transport ran is not known)'}:`);
    p();
    p('| target | measured | met |');
    p('| --- | --- | --- |');
    for (const cell of ['text1k', 'bin64k', 'large1m', 'large16m']) {
      const r = over(cell, native, 'uws');
      target(`${cell} msg/s ≥ 1.0x uWebSockets.js`, fmtRatio(r), atLeast(r, 1));
    }
    const c = cpuOver('throughput', native, 'uws');
    target('throughput server CPU per message ≤ uWebSockets.js (ratio ≥ 1.0x)', fmtRatio(c), atLeast(c, 1));
    if (stream !== undefined) {
      const ir = over('idle', native, stream);
      target('idle RSS per connection ≤ the stream transport', fmtRatio(ir), atMost(ir, 1));
      const st = over('storm', native, stream);
      target('storm handshakes/s no worse than the stream transport', fmtRatio(st), atLeast(st, 1));
    }
    p();
  }
}

if (US !== undefined) {
  p(`## Targets (issue 4), for ${name(US)}`);
  p();
  p('| target | measured | met |');
  p('| --- | --- | --- |');
  const t = usOver('throughput', 'ws-addons');
  target('throughput ≥ 3x ws + addons', fmtRatio(t), atLeast(t, 3));
  const tb = usOver('throughput', 'bun');
  target('throughput ≥ 0.8x Bun', fmtRatio(tb), atLeast(tb, 0.8));
  for (const cell of ['latency', 'text1k', 'bin64k', 'large1m', 'large16m']) {
    const r = usOver(cell, 'ws-addons');
    target(`${cell} ≥ 1.0x ws + addons`, fmtRatio(r), atLeast(r, 1));
  }
  for (const cell of ['large1m', 'large16m']) {
    const r = usOver(cell, 'bun');
    target(`${cell} ≥ 0.9x Bun`, fmtRatio(r), atLeast(r, 0.9));
  }
  const s = usOver('storm', 'ws-addons');
  target('storm ≥ 1.5x ws + addons', fmtRatio(s), atLeast(s, 1.5));
  for (const cell of ['latency', 'throughput', 'text1k', 'bin64k', 'large1m', 'large16m', 'storm']) {
    const a = agg[cell]?.[US]?.p99;
    const b = agg[cell]?.['ws-addons']?.p99;
    target(`${cell} p99 ≤ ws + addons`, a != null && b != null ? `${fmt(a)} vs ${fmt(b)} µs` : '–', a != null && b != null ? a <= b : null);
  }
  const ir = usOver('idle', 'ws-addons');
  target('idle RSS per connection ≤ ws + addons', fmtRatio(ir), atMost(ir, 1));
  p();
}

// The `ws`-compatible module (issue 12): the same echo written the `ws` way on daloy-ws-native/ws, against
// `ws` with its addons and against this package's own serve() on the same transport.
for (const F of FACADES) {
  const t = transportOf(F);
  const serve = OURS.find((s) => transportOf(s) === t) ?? US;
  p(`## ${name(F)} (issue 12)`);
  p();
  p('`examples/ws-echo-server.mjs`, the echo server written the `ws` way on this module: msg/s ÷ the other');
  p('server\'s (handshakes/s for the storm; above 1 is better), RSS per connection for the idle cell (below 1');
  p(`is better); server CPU per message, ${serve === undefined ? 'serve()' : name(serve)}'s ÷ the module's (above 1: the module spends less).`);
  p();
  p('| cell | vs ws + addons | vs serve() | CPU/msg vs serve() |');
  p('| --- | ---: | ---: | ---: |');
  for (const cell of Object.keys(CELLS)) {
    if (!agg[cell]?.[F]) continue;
    const cpu = cell === 'idle' || serve === undefined ? '–' : fmtRatio(cpuOver(cell, F, serve));
    p(`| ${cell} | ${fmtRatio(over(cell, F, 'ws-addons'))} | ${fmtRatio(serve === undefined ? null : over(cell, F, serve))} | ${cpu} |`);
  }
  p();
  p('| target | measured | met |');
  p('| --- | --- | --- |');
  const tp = over('throughput', F, 'ws-addons');
  target('throughput ≥ 4x ws + addons', fmtRatio(tp), atLeast(tp, 4));
  for (const cell of ['latency', 'text1k', 'bin64k', 'large1m', 'large16m', 'storm']) {
    const r = over(cell, F, 'ws-addons');
    target(`${cell} ≥ 1.0x ws + addons`, fmtRatio(r), atLeast(r, 1));
  }
  for (const cell of Object.keys(CELLS)) {
    const r = serve === undefined ? null : over(cell, F, serve);
    // Within 15% of serve(): at least 0.85x its rate, at most 1.15x its RSS per idle connection.
    target(`${cell} within 15% of serve()`, fmtRatio(r), cell === 'idle' ? atMost(r, 1.15) : atLeast(r, 0.85));
  }
  p();
}

// Whether the load generator could have driven each server harder: per message, it must cost less CPU than
// the server, since each has one core. Shares of a core do not tell on a busy machine; costs per message do.
{
  const rowsLg = [];
  for (const cell of ['throughput', 'latency', 'text1k', 'bin64k', 'large1m', 'large16m', 'storm']) {
    for (const [s, a] of Object.entries(agg[cell] ?? {})) {
      if (a.cpuPerMsg == null || a.loadgenPerMsg == null) continue;
      rowsLg.push({ cell, s, a });
    }
  }
  const tp = rowsLg.filter((r) => r.cell === 'throughput');
  if (tp.length) {
    p('## Does the load generator keep up?');
    p();
    p('CPU per message of each side in the throughput cell. With a core each, the side that costs more per');
    p('message sets the ceiling: 10⁶ ÷ µs/msg is what it could do on a core of its own.');
    p();
    p('| server | server µs/msg | load generator µs/msg | server ceiling msg/s | load generator ceiling msg/s | limited by |');
    p('| --- | ---: | ---: | ---: | ---: | --- |');
    for (const { s, a } of tp) {
      const limit = a.loadgenPerMsg > a.cpuPerMsg ? '**load generator**' : 'server';
      p(`| ${name(s)} | ${fmt(a.cpuPerMsg, 2)} | ${fmt(a.loadgenPerMsg, 2)} | ${fmt(1e6 / a.cpuPerMsg)} | ${fmt(1e6 / a.loadgenPerMsg)} | ${limit} |`);
    }
    p();
  }
  const over = rowsLg.filter((r) => r.cell !== 'latency' && r.a.loadgenPerMsg > r.a.cpuPerMsg);
  if (over.length) {
    p('Cells where the load generator spent more CPU per message than the server, so that with a core each it');
    p('would set the ceiling (the latency cell is left out: one message at a time keeps both sides waiting):');
    for (const { cell, s, a } of over) {
      p(`- ${cell}, ${name(s)}: load generator ${fmt(a.loadgenPerMsg, 2)} µs against the server's ${fmt(a.cpuPerMsg, 2)} µs.`);
    }
    p();
  }
}

p('## Cells');
p();
p('Medians over the repetitions; "±" is the spread (max − min) as a share of the median. Server CPU is');
p('utime + stime of the server process over the measured window (all its threads) divided by the messages');
p('(handshakes) in it; "server %" and "load %" are each process\'s CPU over the window, as a share of one');
p('core: a load generator near 100% while the server is not means the load generator set the pace.');
if (US !== undefined) p(`"daloy ÷ this" is ${name(US)}'s figure ÷ the row's.`);
p();
for (const [cell, title] of Object.entries(CELLS)) {
  const c = agg[cell];
  if (!c) continue;
  p(`### ${title}`);
  p();
  const ours = c[US];
  if (cell === 'idle') {
    p('| server | RSS per connection | ± | daloy ÷ this | errors |');
    p('| --- | ---: | ---: | ---: | ---: |');
    for (const [s, a] of Object.entries(c)) {
      const r = s === US ? '' : fmtRatio(ours ? ratio(ours.rss, a.rss) : null);
      p(`| ${label(s, a)} | ${a.rss == null ? '–' : `${fmt(a.rss / 1024, 1)} KiB`} | ${a.rssSpread == null ? '–' : `${fmt(a.rssSpread)}%`} | ${r} | ${a.errors + a.mismatches} |`);
    }
  } else {
    const unit = cell === 'storm' ? 'handshakes/s' : 'msg/s';
    const lat = cell === 'storm' ? ' (connect to 101)' : '';
    p(`| server | ${unit} | ± | MB/s | p50${lat} µs | p99 µs | server µs/msg | server % | load % | load µs/msg | daloy ÷ this | errors |`);
    p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [s, a] of Object.entries(c)) {
      const r = s === US ? '' : fmtRatio(ours ? ratio(ours.rate, a.rate) : null);
      p(`| ${label(s, a)} | ${fmt(a.rate)} | ${a.rateSpread == null ? '–' : `${fmt(a.rateSpread)}%`} | ${fmt(a.mb, 1)} | ${fmt(a.p50)} | ${fmt(a.p99)} | ${fmt(a.cpuPerMsg, 2)} | ${fmt(a.serverPct)} | ${fmt(a.loadgenPct)} | ${fmt(a.loadgenPerMsg, 2)} | ${r} | ${a.errors + a.mismatches} |`);
    }
  }
  const errs = Object.entries(c).filter(([, a]) => a.firstError);
  for (const [s, a] of errs) p(`\n${name(s)}: ${a.errors} errors, ${a.mismatches} mismatches; first: \`${a.firstError}\``);
  p();
}

p('Where a target is missed, `bench/README.md` ("End to end: what stands in the way") has the profile');
p('that shows why and what was tried.');
p();
p('## How to run');
p();
p('```');
p('bench/run.sh                     # the whole matrix (about 12 minutes)');
p('bench/run.sh --servers "daloy@native ws-facade@native uws" --cells "latency bin64k" --reps 5');
p('REPS=1 DURATION=2 bench/run.sh   # a quick look');
p('bench/run.sh --report bench/results/e2e-STAMP.jsonl   # rewrite this file from a run\'s raw lines');
p('bench/loadgen/target/release/daloy-loadgen --help');
p('```');
p();

// Sections of the existing file that this script does not write (other benchmarks' tables, notes written
// by hand) are kept after its own.
const ours = new Set(out.filter((l) => l.startsWith('## ')));
if (existsSync(outPath)) {
  const previous = readFileSync(outPath, 'utf8').split('\n');
  let keep = false;
  const kept = [];
  for (const l of previous) {
    if (l.startsWith('## ')) keep = !ours.has(l) && !/^## (Ratios|Targets|Against uWebSockets|daloy-ws-native\/ws( \(|$)|Does the load|Cells|How to run)/.test(l);
    if (keep) kept.push(l);
  }
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  if (kept.length) out.push(...kept, '');
}
writeFileSync(outPath, out.join('\n').replace(/\n+$/, '') + '\n');
console.log(`wrote ${outPath}`);
