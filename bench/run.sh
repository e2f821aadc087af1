#!/usr/bin/env bash
# The end-to-end benchmark matrix: this package's echo server (on each of its Node transports) against
# uWebSockets.js, `ws` (with and without its native addons), Bun and Deno, driven by bench/loadgen. Each
# server runs pinned to core 0 and the load generator to core 1; every cell is repeated REPS times, the
# servers interleaved within each repetition (in an order rotated from one repetition to the next) so that
# a change in the machine's load falls on all of them alike. Writes bench/RESULTS.md (through
# bench/lib/e2e-report.mjs) and keeps every raw result line in bench/results/e2e-<stamp>.jsonl (server
# logs: bench/loadgen/target/e2e-logs/<stamp>/).
#
#   bench/run.sh                          the whole matrix (about 12 minutes)
#   REPS=1 DURATION=2 bench/run.sh        a quick look
#   bench/run.sh --servers "daloy@native uws bun" --cells "throughput bin64k" --reps 5
#   bench/run.sh --report bench/results/e2e-STAMP.jsonl     rewrite RESULTS.md from a run's raw lines
#
# Servers: daloy (examples/echo-server.mjs, serve()), ws-facade (examples/ws-echo-server.mjs, the echo
# written the `ws` way on daloy-ws-native/ws), ws-addons and ws-plain (bench/servers/ws-node.mjs), uws
# (bench/servers/uws-node.mjs, uWebSockets.js from npm uwebsockets@3.0.6), bun, deno. This package's servers
# take a transport: `daloy@native` runs with DALOY_WS_TRANSPORT=native, `daloy@stream` with
# DALOY_WS_TRANSPORT=stream, plain `daloy` with the automatic choice. Which transport their connections
# got is recorded from a `transport: native` (or stream) line on their output, which
# bench/lib/transport-report.cjs (preloaded) prints; RESULTS.md says when it differs from the one asked
# for, or when the server did not say.
#
# Options (or the environment variables in brackets): --servers "..." [SERVERS] (default: daloy@native
# daloy@stream ws-facade@native ws-addons uws bun deno; ws-plain on request), --cells "..." [CELLS]
# (idle latency throughput text1k bin64k large1m large16m storm), --reps N [REPS] (3), --duration S
# [DURATION] (3 s measured per cell), --warmup S [WARMUP] (1 s), --out FILE [OUT] (bench/RESULTS.md), --cpu-prof DIR
# (Node servers write a V8 CPU profile per start into DIR, for bench/lib/cpuprofile-summary.mjs; the
# profiler slows them, so such a run's figures are for the profile only). Environment only:
# IDLE_CONNS (10000), IDLE_HOLD (1 s), BUN_VERSION, DENO_VERSION, UWS_VERSION.
# The idle cell's RSS is read after a full garbage collection on the Node servers (they start with
# --expose-gc and bench/lib/gc-on-signal.cjs; the load generator signals them, --gc-signal); Bun and
# Deno are read as they are.
#
# Run nothing else meanwhile (serialize benchmarks with flock(1) on a shared machine): two at once
# measure each other.
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
UWS_VERSION="${UWS_VERSION:-3.0.6}"
OUT="${OUT:-bench/RESULTS.md}"
SERVERS="${SERVERS:-daloy@native daloy@stream ws-facade@native ws-addons uws bun deno}"
CELLS="${CELLS:-idle latency throughput text1k bin64k large1m large16m storm}"
report=""
cpu_prof=""
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --servers) SERVERS=${2:?}; shift 2 ;;
    --cells) CELLS=${2:?}; shift 2 ;;
    --reps) REPS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    --report) report=${2:-}; shift 2 || shift ;;
    --cpu-prof) cpu_prof=$(realpath -m "${2:?}"); shift 2 ;;
    -h | --help) usage ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
  esac
done
read -r -a servers <<< "$SERVERS"
read -r -a cells <<< "$CELLS"

SERVER_CORE=0
LOAD_CORE=1
if [ "$(nproc)" -lt 2 ]; then
  echo "run.sh: needs two cores (server on one, load on the other)" >&2
  exit 2
fi

# --- RESULTS.md from raw result lines -----------------------------------------------------------------

render() {
  node bench/lib/e2e-report.mjs "$1" "$OUT"
}

if [ -n "$report" ]; then
  [ -f "$report" ] || { echo "usage: bench/run.sh --report bench/results/e2e-STAMP.jsonl" >&2; exit 2; }
  render "$report"
  exit 0
fi

# Every server and cell is checked before anything runs: a typo must not cost a matrix.
for s in "${servers[@]}"; do
  case "$s" in
    daloy | ws-facade | ws-addons | ws-plain | uws | bun | deno) ;;
    daloy@native | daloy@stream | ws-facade@native | ws-facade@stream) ;;
    *) echo "run.sh: unknown server $s (a transport, @native or @stream, applies to daloy and ws-facade)" >&2; exit 2 ;;
  esac
done
for c in "${cells[@]}"; do
  case "$c" in
    idle | latency | throughput | text1k | bin64k | large1m | large16m | storm) ;;
    *) echo "run.sh: unknown cell $c" >&2; exit 2 ;;
  esac
done

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
uws_dir="$tools/node_modules/uwebsockets"
# Whether a server of this kind is in the matrix, whatever its transport.
wants() { local s; for s in "${servers[@]}"; do [ "${s%%@*}" = "$1" ] && return 0; done; return 1; }
# Bun, Deno and uWebSockets.js (npm's uwebsockets carries its binaries for Node ABI 115/127/137,
# Node 20/22/24) go into bench/.tools in one `npm install`: a later `--no-save` install into the same
# prefix would prune what an earlier one installed.
tool_pkgs=()
missing=false
if wants bun || wants deno; then
  tool_pkgs+=("bun@$BUN_VERSION" "deno@$DENO_VERSION")
  { wants bun && [ ! -x "$bun" ]; } || { wants deno && [ ! -x "$deno" ]; } && missing=true
fi
if wants uws; then
  tool_pkgs+=("uwebsockets@$UWS_VERSION")
  [ "$(node -p 'require(process.argv[1] + "/package.json").version' "$uws_dir" 2>/dev/null)" != "$UWS_VERSION" ] && missing=true
fi
if [ "$missing" = true ]; then
  echo "== installing ${tool_pkgs[*]} into bench/.tools"
  mkdir -p "$tools"
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$tools" "${tool_pkgs[@]}" >/dev/null
fi

if wants daloy || wants ws-facade; then
  if ! ls ./*.node >/dev/null 2>&1; then
    echo "== building the addon (npm run build)"
    npm run build >"$logs/addon-build.log" 2>&1
  fi
fi

# The idle cell holds IDLE_CONNS sockets in the server and as many in the load generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- servers -----------------------------------------------------------------------------------------

# The command of server $1 (its kind: a transport suffix is the environment's business, see start_server).
server_cmd() {
  case "${1%%@*}" in
    daloy) echo "node examples/echo-server.mjs --port 0 --host 127.0.0.1" ;;
    ws-facade) echo "node examples/ws-echo-server.mjs --port 0 --host 127.0.0.1" ;;
    ws-addons) echo "node bench/servers/ws-node.mjs --addons --port 0 --host 127.0.0.1" ;;
    ws-plain) echo "node bench/servers/ws-node.mjs --no-addons --port 0 --host 127.0.0.1" ;;
    uws) echo "node bench/servers/uws-node.mjs --port 0 --host 127.0.0.1" ;;
    bun) echo "$bun bench/servers/bun.mjs --port 0 --host 127.0.0.1" ;;
    deno) echo "$deno run --allow-net bench/servers/deno.mjs --port 0 --host 127.0.0.1" ;;
    *) echo "run.sh: unknown server $1" >&2; return 1 ;;
  esac
}

server_pid=""
server_url=""

# Whether server $1 runs on Node (and so takes bench/lib/gc-on-signal.cjs).
is_node() {
  case "${1%%@*}" in daloy | ws-facade | ws-addons | ws-plain | uws) return 0 ;; *) return 1 ;; esac
}

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
# it echoes. Returns non-zero (with the reason in $logs) when it does not. `NAME@TRANSPORT` runs with
# DALOY_WS_TRANSPORT=TRANSPORT; every other server without the variable (the automatic choice).
start_server() {
  local name=$1 tag=$2 cmd out transport=()
  cmd=$(server_cmd "$name")
  # This package's servers say which transport their connections got (bench/lib/transport-report.cjs).
  case "$name" in
    daloy* | ws-facade*) cmd="node --require ./bench/lib/transport-report.cjs ${cmd#node }" ;;
  esac
  # Node servers collect their garbage when the idle cell asks (bench/lib/gc-on-signal.cjs).
  if is_node "$name"; then
    cmd="node --expose-gc --require ./bench/lib/gc-on-signal.cjs ${cmd#node }"
  fi
  if [ -n "$cpu_prof" ] && [ "${cmd%% *}" = node ]; then
    mkdir -p "$cpu_prof"
    cmd="node --cpu-prof --cpu-prof-dir=$cpu_prof --cpu-prof-name=$tag.cpuprofile ${cmd#node }"
  fi
  out="$logs/$tag.out"
  case "$name" in
    *@*) transport=(env "DALOY_WS_TRANSPORT=${name#*@}") ;;
    *) transport=(env -u DALOY_WS_TRANSPORT) ;;
  esac
  # shellcheck disable=SC2086 # the command is a word list on purpose
  taskset -c "$SERVER_CORE" "${transport[@]}" $cmd >"$out" 2>"$logs/$tag.err" &
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

# Records which transport server $1 said it ran (a `transport: native` or `transport: stream` line on its
# output, printed at start or per connection), against the one asked for.
record_transport() {
  local name=$1 tag=$2 said
  case "$name" in daloy* | ws-facade*) ;; *) return 0 ;; esac
  said=$(cat "$logs/$tag.out" "$logs/$tag.err" 2>/dev/null | grep -o -i -E 'transport[ :=]+"?(native|stream)' |
    grep -o -i -E '(native|stream)$' | tr 'A-Z' 'a-z' | sort -u | paste -sd, - || true)
  node -e 'const [server, rep, requested, reported] = process.argv.slice(1);
    console.log(JSON.stringify({ transport: { server, rep: +rep, requested: requested || "auto", reported: reported || null } }));' \
    "$name" "$rep" "$( [ "${name#*@}" != "$name" ] && echo "${name#*@}" )" "$said" >>"$raw"
  [ -n "$said" ] && echo "   $name reported transport: $said"
  return 0
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
  # The idle cell's RSS readings follow a full collection where the server can be asked for one (Node);
  # Bun and Deno are read as they are.
  if [ "$cell" = idle ] && is_node "$name"; then args="$args --gc-signal"; fi
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
uws_v=$(node -p 'require(process.argv[1] + "/package.json").version' "$uws_dir" 2>/dev/null || echo "n/a")
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
  node "$node_v" ws "$ws_v" uws "$uws_v" bun "$bun_v" deno "$deno_v" rustc "$rustc_v" commit "$commit" dirty "$dirty" \
  addon "$addon" reps "$REPS" warmup "$WARMUP" duration "$DURATION" idleConns "$IDLE_CONNS" \
  idleHold "$IDLE_HOLD" loadBefore "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw"

# The hypervisor's steal (/proc/stat, all CPUs): a run with much of it is not to be trusted.
cpu_jiffies() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $9 }' /proc/stat; }
read -r total_before steal_before <<< "$(cpu_jiffies)"

# --- the matrix --------------------------------------------------------------------------------------

echo "== matrix: servers ${servers[*]}; cells ${cells[*]}; $REPS repetitions; raw results in $raw"
for rep in $(seq 1 "$REPS"); do
  # Each repetition starts one server further down the list, so that no server always runs right after
  # the same neighbour or in the same part of a busy period.
  n=${#servers[@]}
  order=()
  for i in $(seq 0 $((n - 1))); do order+=("${servers[$(((i + rep - 1) % n))]}"); done
  for name in "${order[@]}"; do
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
    record_transport "$name" "$tag"
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
