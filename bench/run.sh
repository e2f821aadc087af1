#!/usr/bin/env bash
# The end-to-end benchmark matrix: this package's echo server against `ws` (with and without its native
# addons), Bun and Deno, driven by bench/loadgen. Each server runs pinned to core 0 and the load generator
# to core 1; every cell is repeated REPS times, the servers interleaved within each repetition so that a
# change in the machine's load falls on all of them alike. Writes bench/RESULTS.md and keeps every raw
# result line in bench/results/e2e-<stamp>.jsonl (server logs: bench/loadgen/target/e2e-logs/<stamp>/).
#
#   bench/run.sh                          the whole matrix (about 10 minutes)
#   REPS=1 DURATION=2 bench/run.sh        a quick look
#   SERVERS="daloy bun" CELLS="throughput latency" bench/run.sh
#   bench/run.sh --report bench/results/e2e-STAMP.jsonl     rewrite RESULTS.md from a run's raw lines
#
# Environment: REPS (3), WARMUP (1 s), DURATION (3 s), IDLE_CONNS (10000), IDLE_HOLD (1 s),
# SERVERS (daloy ws-facade ws-addons ws-plain bun deno; ws-facade is examples/ws-echo-server.mjs, the echo
# server written the `ws` way on daloy-ws-native/ws), CELLS (idle latency throughput text1k bin64k large1m
# large16m storm), BUN_VERSION, DENO_VERSION, OUT (bench/RESULTS.md).
#
# Exits non-zero when a server fails to start or dies during the matrix (RESULTS.md is written anyway).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

REPS="${REPS:-3}"
WARMUP="${WARMUP:-1}"
DURATION="${DURATION:-3}"
IDLE_CONNS="${IDLE_CONNS:-10000}"
IDLE_HOLD="${IDLE_HOLD:-1}"
BUN_VERSION="${BUN_VERSION:-1.4.5}"
DENO_VERSION="${DENO_VERSION:-2.9.6}"
OUT="${OUT:-bench/RESULTS.md}"
read -r -a servers <<< "${SERVERS:-daloy ws-facade ws-addons ws-plain bun deno}"
read -r -a cells <<< "${CELLS:-idle latency throughput text1k bin64k large1m large16m storm}"

SERVER_CORE=0
LOAD_CORE=1
if [ "$(nproc)" -lt 2 ]; then
  echo "run.sh: needs two cores (server on one, load on the other)" >&2
  exit 2
fi

# --- RESULTS.md from raw result lines -----------------------------------------------------------------

render() {
  node --input-type=module - "$1" "$OUT" <<'EOF'
// Turns the raw result lines into bench/RESULTS.md: medians over the repetitions, their spread, the
// ratios of this package against each competitor, and the issue's targets checked against them.
import { readFileSync, writeFileSync } from 'node:fs';

const [rawPath, outPath] = process.argv.slice(2);
const lines = readFileSync(rawPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
// The first line describes the run, the last one (written when the matrix ends) adds how it went.
const meta = Object.assign({ notes: [] }, ...lines.filter((l) => l.meta).map((l) => l.meta));
meta.raw = rawPath;
const rows = lines.filter((l) => l.result);

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
  bun: 'Bun',
  deno: 'Deno',
};
const US = 'daloy';
const competitors = meta.servers.filter((s) => s !== US);
// A server's name in a cell table, with how many of its runs gave figures when not all did.
const label = (s, a) => `${NAMES[s] ?? s}${a.n < a.runs ? ` (${a.n} of ${a.runs} runs)` : ''}`;

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

// The figure a cell is judged by, and whether more is better.
const primary = (cell, a) => (cell === 'idle' ? a?.rss : a?.rate);
const higherIsBetter = (cell) => cell !== 'idle';
const usOver = (cell, comp) => {
  const c = agg[cell];
  if (!c?.[US] || !c?.[comp]) return null;
  return ratio(primary(cell, c[US]), primary(cell, c[comp]));
};

const out = [];
const p = (s = '') => out.push(s);
p('# End-to-end benchmark results');
p();
p(`Written by \`bench/run.sh\` on ${meta.date}; raw result lines in \`${meta.raw}\`.`);
p();
p('**The machine is shared** with other work (builds, tests) and a busy neighbour halves absolute figures:');
p('only the ratios between servers measured in one run count. The servers are interleaved within each');
p('repetition so that a change in load falls on all of them alike.');
p();
p('| | |');
p('| --- | --- |');
p(`| machine | ${meta.cpu}, ${meta.cores} cores, Linux ${meta.kernel} |`);
p(`| load average before / after | ${meta.loadBefore} / ${meta.loadAfter} |`);
p(`| Node | ${meta.node} |`);
p(`| ws | ${meta.ws} (bufferutil and utf-8-validate for "ws + addons") |`);
p(`| Bun | ${meta.bun} |`);
p(`| Deno | ${meta.deno} |`);
p(`| rustc (load generator) | ${meta.rustc} |`);
p(`| this package | commit ${meta.commit}${meta.dirty ? ' plus uncommitted changes' : ''}, addon built ${meta.addon || 'n/a'} |`);
p(`| method | server on core 0, load generator on core 1 (\`taskset\`); each cell run ${meta.reps} times, medians; warm-up ${meta.warmup} s, measured ${meta.duration} s; matrix took ${meta.elapsed} s |`);
p();
for (const n of meta.notes) p(`- ${n}`);
if (meta.notes.length) p();

if (meta.servers.includes(US)) {
  p('## Ratios: daloy-ws-native ÷ each competitor');
  p();
  p('msg/s (handshakes/s for the storm; above 1 is better), RSS per connection for the idle cell (below 1 is better).');
  p();
  p(`| cell | ${competitors.map((c) => `vs ${NAMES[c] ?? c}`).join(' | ')} |`);
  p(`| --- | ${competitors.map(() => '---:').join(' | ')} |`);
  for (const cell of Object.keys(CELLS)) {
    if (!agg[cell]) continue;
    p(`| ${cell} | ${competitors.map((c) => fmtRatio(usOver(cell, c))).join(' | ')} |`);
  }
  p();

  p('## Ratios of server CPU per message: each competitor ÷ daloy-ws-native');
  p();
  p('Server CPU time per message (per handshake in the storm) over the measured window; above 1 means this');
  p('package spends less CPU per message. Less sensitive than msg/s to what else the machine was doing.');
  p();
  p(`| cell | ${competitors.map((c) => `vs ${NAMES[c] ?? c}`).join(' | ')} |`);
  p(`| --- | ${competitors.map(() => '---:').join(' | ')} |`);
  for (const cell of Object.keys(CELLS)) {
    if (!agg[cell]?.[US] || agg[cell][US].cpuPerMsg == null) continue;
    p(`| ${cell} | ${competitors.map((c) => fmtRatio(ratio(agg[cell][c]?.cpuPerMsg, agg[cell][US].cpuPerMsg))).join(' | ')} |`);
  }
  p();

  p('## Targets (issue 4)');
  p();
  p('| target | measured | met |');
  p('| --- | --- | --- |');
  const target = (what, r, ok) => p(`| ${what} | ${r} | ${ok == null ? '–' : ok ? 'yes' : 'no'} |`);
  const chk = (r, min) => (r == null ? null : r >= min);
  const t = usOver('throughput', 'ws-addons');
  target('throughput ≥ 3x ws + addons', fmtRatio(t), chk(t, 3));
  const tb = usOver('throughput', 'bun');
  target('throughput ≥ 0.8x Bun', fmtRatio(tb), chk(tb, 0.8));
  for (const cell of ['latency', 'text1k', 'bin64k', 'large1m', 'large16m']) {
    const r = usOver(cell, 'ws-addons');
    target(`${cell} ≥ 1.0x ws + addons`, fmtRatio(r), chk(r, 1));
  }
  for (const cell of ['large1m', 'large16m']) {
    const r = usOver(cell, 'bun');
    target(`${cell} ≥ 0.9x Bun`, fmtRatio(r), chk(r, 0.9));
  }
  const s = usOver('storm', 'ws-addons');
  target('storm ≥ 1.5x ws + addons', fmtRatio(s), chk(s, 1.5));
  for (const cell of ['latency', 'throughput', 'text1k', 'bin64k', 'large1m', 'large16m', 'storm']) {
    const a = agg[cell]?.[US]?.p99;
    const b = agg[cell]?.['ws-addons']?.p99;
    target(`${cell} p99 ≤ ws + addons`, a != null && b != null ? `${fmt(a)} vs ${fmt(b)} µs` : '–', a != null && b != null ? a <= b : null);
  }
  const ir = usOver('idle', 'ws-addons');
  target('idle RSS per connection ≤ ws + addons', fmtRatio(ir), ir == null ? null : ir <= 1);
  p();
}

// The `ws`-compatible module (issue 12): the same echo written the `ws` way on daloy-ws-native/ws, against
// `ws` with its addons and against this package's own serve().
if (meta.servers.includes('ws-facade')) {
  const F = 'ws-facade';
  const over = (cell, other) => {
    const c = agg[cell];
    if (!c?.[F] || !c?.[other]) return null;
    return ratio(primary(cell, c[F]), primary(cell, c[other]));
  };
  p('## daloy-ws-native/ws (issue 12)');
  p();
  p('`examples/ws-echo-server.mjs`, the echo server written the `ws` way on this module: msg/s ÷ the other');
  p('server\'s (handshakes/s for the storm; above 1 is better), RSS per connection for the idle cell (below 1');
  p('is better).');
  p();
  p('| cell | vs ws + addons | vs daloy-ws-native serve() |');
  p('| --- | ---: | ---: |');
  for (const cell of Object.keys(CELLS)) {
    if (!agg[cell]?.[F]) continue;
    p(`| ${cell} | ${fmtRatio(over(cell, 'ws-addons'))} | ${fmtRatio(over(cell, US))} |`);
  }
  p();
  p('| target | measured | met |');
  p('| --- | --- | --- |');
  const target = (what, r, ok) => p(`| ${what} | ${r} | ${ok == null ? '–' : ok ? 'yes' : 'no'} |`);
  const t = over('throughput', 'ws-addons');
  target('throughput ≥ 4x ws + addons', fmtRatio(t), t == null ? null : t >= 4);
  for (const cell of ['latency', 'text1k', 'bin64k', 'large1m', 'large16m', 'storm']) {
    const r = over(cell, 'ws-addons');
    target(`${cell} ≥ 1.0x ws + addons`, fmtRatio(r), r == null ? null : r >= 1);
  }
  for (const cell of Object.keys(CELLS)) {
    const r = over(cell, US);
    // Within 15% of serve(): at least 0.85x its rate, at most 1.15x its RSS per idle connection.
    const ok = r == null ? null : cell === 'idle' ? r <= 1.15 : r >= 0.85;
    target(`${cell} within 15% of serve()`, fmtRatio(r), ok);
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
      p(`| ${NAMES[s] ?? s} | ${fmt(a.cpuPerMsg, 2)} | ${fmt(a.loadgenPerMsg, 2)} | ${fmt(1e6 / a.cpuPerMsg)} | ${fmt(1e6 / a.loadgenPerMsg)} | ${limit} |`);
    }
    p();
  }
  const over = rowsLg.filter((r) => r.cell !== 'latency' && r.a.loadgenPerMsg > r.a.cpuPerMsg);
  if (over.length) {
    p('Cells where the load generator spent more CPU per message than the server, so that with a core each it');
    p('would set the ceiling (the latency cell is left out: one message at a time keeps both sides waiting):');
    for (const { cell, s, a } of over) {
      p(`- ${cell}, ${NAMES[s] ?? s}: load generator ${fmt(a.loadgenPerMsg, 2)} µs against the server's ${fmt(a.cpuPerMsg, 2)} µs.`);
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
  for (const [s, a] of errs) p(`\n${NAMES[s] ?? s}: ${a.errors} errors, ${a.mismatches} mismatches; first: \`${a.firstError}\``);
  p();
}

p('Where a target is missed, `bench/README.md` ("End to end: what stands in the way") has the profile');
p('that shows why and what was tried.');
p();
p('## How to run');
p();
p('```');
p('bench/run.sh                     # the whole matrix, about 10 minutes');
p('REPS=1 DURATION=2 bench/run.sh   # a quick look');
p('bench/run.sh --report bench/results/e2e-STAMP.jsonl   # rewrite this file from a run\'s raw lines');
p('bench/loadgen/target/release/daloy-loadgen --help');
p('```');
writeFileSync(outPath, out.join('\n') + '\n');
console.log(`wrote ${outPath}`);
EOF
}

if [ "${1:-}" = "--report" ]; then
  [ -f "${2:-}" ] || { echo "usage: bench/run.sh --report bench/results/e2e-STAMP.jsonl" >&2; exit 2; }
  render "$2"
  exit 0
fi

stamp="$(date -u +%Y%m%d-%H%M%S)"
results_dir="bench/results"
raw="$results_dir/e2e-$stamp.jsonl"
# Server output and load generator errors: kept out of git, beside the load generator's build.
logs="bench/loadgen/target/e2e-logs/$stamp"
mkdir -p "$results_dir" "$logs"
: > "$raw"
notes=()
failed=0
started_at=$(date +%s)

# --- tools -------------------------------------------------------------------------------------------

echo "== building the load generator"
cargo build --release --quiet --manifest-path bench/loadgen/Cargo.toml --target-dir bench/loadgen/target
loadgen="$root/bench/loadgen/target/release/daloy-loadgen"

tools="$root/bench/.tools"
bun="$tools/node_modules/.bin/bun"
deno="$tools/node_modules/.bin/deno"
wants() { local s; for s in "${servers[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
if { wants bun && [ ! -x "$bun" ]; } || { wants deno && [ ! -x "$deno" ]; }; then
  echo "== installing bun@$BUN_VERSION and deno@$DENO_VERSION into bench/.tools"
  mkdir -p "$tools"
  npm install --no-save --no-audit --no-fund --prefix "$tools" "bun@$BUN_VERSION" "deno@$DENO_VERSION" >/dev/null
fi

if wants daloy; then
  if [ ! -f examples/echo-server.mjs ]; then
    notes+=("This package's server (examples/echo-server.mjs) was not there: the matrix ran without it.")
    servers=("${servers[@]/daloy/}")
  elif ! ls ./*.node >/dev/null 2>&1; then
    echo "== building the addon (npm run build)"
    npm run build >"$logs/addon-build.log" 2>&1
  fi
fi
read -r -a servers <<< "${servers[*]}"

# The idle cell holds IDLE_CONNS sockets in the server and as many in the load generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- servers -----------------------------------------------------------------------------------------

server_cmd() {
  case "$1" in
    daloy) echo "node examples/echo-server.mjs --port 0 --host 127.0.0.1" ;;
    ws-facade) echo "node examples/ws-echo-server.mjs --port 0 --host 127.0.0.1" ;;
    ws-addons) echo "node bench/servers/ws-node.mjs --addons --port 0 --host 127.0.0.1" ;;
    ws-plain) echo "node bench/servers/ws-node.mjs --no-addons --port 0 --host 127.0.0.1" ;;
    bun) echo "$bun bench/servers/bun.mjs --port 0 --host 127.0.0.1" ;;
    deno) echo "$deno run --allow-net bench/servers/deno.mjs --port 0 --host 127.0.0.1" ;;
    *) echo "run.sh: unknown server $1" >&2; return 1 ;;
  esac
}

server_pid=""
server_url=""

stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

# Starts server $1 pinned to the server core, waits for its "listening on ws://..." line, and checks that
# it echoes. Returns non-zero (with the reason in $logs) when it does not.
start_server() {
  local name=$1 tag=$2 cmd out
  cmd=$(server_cmd "$name")
  out="$logs/$tag.out"
  # shellcheck disable=SC2086 # the command is a word list on purpose
  taskset -c "$SERVER_CORE" $cmd >"$out" 2>"$logs/$tag.err" &
  server_pid=$!
  server_url=""
  for _ in $(seq 1 200); do
    server_url=$(grep -o -m1 'listening on ws://[^ ]*' "$out" 2>/dev/null | sed 's/^listening on //' || true)
    [ -n "$server_url" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$server_url" ]; then
    echo "run.sh: $name did not start; its stderr:" >&2
    tail -n 20 "$logs/$tag.err" >&2 || true
    return 1
  fi
  if ! taskset -c "$LOAD_CORE" "$loadgen" --url "$server_url" -c 1 -p 1 -s 16 --warmup 0 --duration 0.3 \
      --json >"$logs/$tag.probe" 2>&1; then
    echo "run.sh: $name at $server_url does not echo:" >&2
    cat "$logs/$tag.probe" >&2
    return 1
  fi
}

# --- cells -------------------------------------------------------------------------------------------

cell_args() {
  local d="--warmup $WARMUP --duration $DURATION"
  case "$1" in
    idle) echo "--mode idle -c $IDLE_CONNS --duration $IDLE_HOLD" ;;
    latency) echo "--mode echo -c 1 -p 1 -s 16 --binary $d" ;;
    throughput) echo "--mode echo -c 64 -p 16 -s 16 --binary $d" ;;
    text1k) echo "--mode echo -c 64 -p 1 -s 1KiB --text $d" ;;
    bin64k) echo "--mode echo -c 8 -p 1 -s 64KiB --binary $d" ;;
    large1m) echo "--mode large -c 1 -p 1 -s 1MiB --binary $d" ;;
    large16m) echo "--mode large -c 1 -p 1 -s 16MiB --binary $d" ;;
    storm) echo "--mode storm -c 32 $d" ;;
    *) echo "run.sh: unknown cell $1" >&2; return 1 ;;
  esac
}

run_cell() {
  local name=$1 cell=$2 rep=$3 args line rc
  args=$(cell_args "$cell")
  rc=0
  # shellcheck disable=SC2086
  line=$(taskset -c "$LOAD_CORE" "$loadgen" --url "$server_url" --server-pid "$server_pid" --label "$name/$cell" \
    $args --json 2>>"$logs/$name-$rep.loadgen.err") || rc=$?
  if [ -z "$line" ]; then
    line="{\"label\":\"$name/$cell\",\"errors\":1,\"first_error\":\"load generator exit $rc without a result\"}"
  fi
  echo "{\"server\":\"$name\",\"cell\":\"$cell\",\"rep\":$rep,\"exit\":$rc,\"result\":$line}" >>"$raw"
  printf '  %-10s %-10s rep %s  %s\n' "$name" "$cell" "$rep" "$(summary_of "$line")"
}

# One short human line per result, for the console.
summary_of() {
  node -e '
    const r = JSON.parse(process.argv[1]);
    const f = (v, d = 0) => (v == null ? "?" : Number(v).toFixed(d));
    let s = r.mode === "idle" ? `${f(r.rss_per_conn)} B/conn (${r.held} held)`
      : r.mode === "storm" ? `${f(r.msgs_per_sec)} handshakes/s`
      : `${f(r.msgs_per_sec)} msg/s p99 ${f(r.p99_us)} us`;
    if (r.server_cpu_us_per_msg != null) s += `, server ${f(r.server_cpu_us_per_msg, 2)} us/msg`;
    if (r.errors || r.mismatches) s += `, ERRORS ${r.errors} MISMATCHES ${r.mismatches}: ${r.first_error}`;
    console.log(s);' "$1"
}

# --- what is measured with what ------------------------------------------------------------------

ver() { "$@" 2>/dev/null | head -n1 || echo "n/a"; }
node_v=$(node --version)
ws_v=$(node -p 'require("ws/package.json").version' 2>/dev/null || echo "n/a")
bun_v=$([ -x "$bun" ] && ver "$bun" --version || echo "n/a")
deno_v=$([ -x "$deno" ] && ver "$deno" --version | sed -e 's/ (.*//' -e 's/^deno //' || echo "n/a")
rustc_v=$(rustc --version)
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "n/a")
dirty=$(git status --porcelain -- src lib index.js index.mjs examples 2>/dev/null | head -n1)
addon=$(ls -l --time-style=+%Y-%m-%dT%H:%M ./*.node 2>/dev/null | awk '{print $6, $7}' | head -n1)

meta_json() {
  # Arguments: key value pairs; every value is passed as a string.
  node -e 'const a = process.argv.slice(1); const o = {};
    for (let i = 0; i < a.length; i += 2) o[a[i]] = a[i + 1];
    console.log(JSON.stringify({ meta: o }));' "$@"
}
meta_json date "$(date -u '+%Y-%m-%d %H:%M UTC')" cpu "$cpu_model" cores "$(nproc)" kernel "$(uname -r)" \
  node "$node_v" ws "$ws_v" bun "$bun_v" deno "$deno_v" rustc "$rustc_v" commit "$commit" dirty "$dirty" \
  addon "$addon" reps "$REPS" warmup "$WARMUP" duration "$DURATION" idleConns "$IDLE_CONNS" \
  idleHold "$IDLE_HOLD" loadBefore "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw"

# The hypervisor's steal (/proc/stat, all CPUs): a run with much of it is not to be trusted.
cpu_jiffies() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $9 }' /proc/stat; }
read -r total_before steal_before <<< "$(cpu_jiffies)"

# --- the matrix --------------------------------------------------------------------------------------

echo "== matrix: servers ${servers[*]}; cells ${cells[*]}; $REPS repetitions; raw results in $raw"
for rep in $(seq 1 "$REPS"); do
  for name in "${servers[@]}"; do
    tag="$name-$rep"
    echo "-- $name (repetition $rep)"
    if ! start_server "$name" "$tag"; then
      notes+=("$name failed to start in repetition $rep (see $logs/$tag.err).")
      failed=1
      stop_server
      continue
    fi
    for cell in "${cells[@]}"; do
      if ! kill -0 "$server_pid" 2>/dev/null; then
        status=0
        wait "$server_pid" || status=$?
        server_pid=""
        notes+=("$name exited (status $status) before the $cell cell of repetition $rep (see $logs/$tag.err).")
        failed=1
        break
      fi
      run_cell "$name" "$cell" "$rep"
      # Let the server finish closing the last cell's connections before the next one starts.
      sleep 0.3
    done
    stop_server
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
read -r total_after steal_after <<< "$(cpu_jiffies)"
steal_pct=$(awk -v s=$((steal_after - steal_before)) -v t=$((total_after - total_before)) 'BEGIN { printf "%.1f", (t > 0 ? 100 * s / t : 0) }')
notes+=("Hypervisor steal over the matrix: ${steal_pct}% of all CPU time (/proc/stat).")
elapsed=$(( $(date +%s) - started_at ))
echo "== matrix took ${elapsed} s"

# --- RESULTS.md --------------------------------------------------------------------------------------

printf '%s\n' "${notes[@]+"${notes[@]}"}" | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.stringify({ meta: {
    elapsed: process.argv[1], loadAfter: process.argv[2], servers: process.argv[3].split(" ").filter(Boolean),
    notes: s.split("\n").filter(Boolean) } })));' "$elapsed" "$load_after" "${servers[*]}" >>"$raw"
render "$raw"
exit "$failed"
