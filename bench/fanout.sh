#!/usr/bin/env bash
# The fan-out cell: 1,000 connections in 10 rooms, one publisher per room keeping P messages in flight,
# each message delivered by the server to the 100 members of its room (the publisher included);
# delivered messages per second, 16 B and 1 KiB, binary. Side by side in one run: this package's topics
# on Node (and on Bun), `ws` with a hand-written broadcast loop, uWebSockets.js's publish (npm
# uwebsockets@3.0.6 on Node 20) and Bun's server.publish. Server pinned to core 0, load generator to
# core 1; the implementations alternate their order from one repetition to the next; medians.
#
#   bash bench/fanout.sh [--reps 3] [--duration 3] [--warmup 1] [--in-flight 4]
#
# Prints a Markdown table and writes it, with every run's JSON line, under bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=3 DURATION=3 WARMUP=1 IN_FLIGHT=4 CONNECTIONS=1000 ROOMS=10
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --in-flight) IN_FLIGHT=$2; shift 2 ;;
    *) echo "unknown flag: $1" >&2; exit 2 ;;
  esac
done

SERVER_CORE=0 LOAD_CORE=1
BUN="${BUN:-$PWD/.cache/runtimes/node_modules/.bin/bun}"
LOADGEN=bench/loadgen/target/release/daloy-loadgen
cargo build --quiet --release --manifest-path bench/loadgen/Cargo.toml --target-dir bench/loadgen/target
if [ ! -d bench/.tools/node_modules/uwebsockets ]; then
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix bench/.tools uwebsockets@3.0.6 >/dev/null
fi

IMPLS=(daloy-node ws-node uws-node bun daloy-bun)
server_cmd() {
  case "$1" in
    daloy-node) echo "node bench/servers/fanout.mjs --impl daloy" ;;
    ws-node) echo "node bench/servers/fanout.mjs --impl ws" ;;
    uws-node) echo "node bench/servers/fanout.mjs --impl uws" ;;
    bun) echo "$BUN bench/servers/fanout.mjs --impl bun" ;;
    daloy-bun) echo "$BUN bench/servers/fanout.mjs --impl daloy" ;;
  esac
}

# Hypervisor steal and total jiffies from /proc/stat's cpu line.
steal() { awk '/^cpu / { print $9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }

stamp=$(date -u +%Y-%m-%dT%H-%M-%SZ)
mkdir -p bench/results
raw="bench/results/fanout-$stamp.jsonl"
: >"$raw"
read -r steal0 total0 < <(steal)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

run_one() { # impl size rep
  local impl=$1 size=$2 rep=$3 out err pid url line
  out=$(mktemp) err=$(mktemp)
  # shellcheck disable=SC2046
  taskset -c "$SERVER_CORE" $(server_cmd "$impl") >"$out" 2>"$err" &
  pid=$!
  for _ in $(seq 100); do
    url=$(grep -o 'ws://[^ ]*' "$out" || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "$impl did not start: $(cat "$err")" >&2
    kill "$pid" 2>/dev/null || true
    return 1
  fi
  line=$(taskset -c "$LOAD_CORE" timeout 120 "$LOADGEN" --mode fanout --url "$url" -c "$CONNECTIONS" --rooms "$ROOMS" \
    -p "$IN_FLIGHT" -s "$size" --warmup "$WARMUP" --duration "$DURATION" --server-pid "$pid" \
    --label "$impl" --json || true)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "{\"impl\":\"$impl\",\"size\":$size,\"rep\":$rep,\"server\":\"$(head -n1 "$err" | tr -d '"')\",\"result\":$line}" >>"$raw"
  echo "$impl $size B rep $rep: $(echo "$line" | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(Math.round(r.msgs_per_sec),"msg/s","errors",r.errors,"mismatches",r.mismatches)')" >&2
  rm -f "$out" "$err"
}

for size in 16 1024; do
  for rep in $(seq "$REPS"); do
    # Alternate the order so machine noise falls on every implementation.
    order=("${IMPLS[@]}")
    if [ $((rep % 2)) -eq 0 ]; then order=($(printf '%s\n' "${IMPLS[@]}" | tac)); fi
    for impl in "${order[@]}"; do run_one "$impl" "$size" "$rep"; done
  done
done

read -r steal1 total1 < <(steal)
steal_pct=$(awk -v s0="$steal0" -v s1="$steal1" -v t0="$total0" -v t1="$total1" 'BEGIN { printf "%.2f", 100 * (s1 - s0) / (t1 - t0) }')
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); steal during the run: $steal_pct%" >&2
node bench/lib/fanout-table.mjs "$raw" "$steal_pct" | tee "bench/results/fanout-$stamp.md"
