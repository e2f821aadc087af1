#!/usr/bin/env bash
# The fan-out cell: 1,000 connections in 10 rooms, one publisher per room keeping P messages in flight,
# each message delivered by the server to the 100 members of its room (the publisher included);
# delivered messages per second, 16 B and 1 KiB, binary. Side by side in one run: this package's topics
# on Node (and on Bun), `ws` with a hand-written broadcast loop, uWebSockets.js's publish (npm
# uwebsockets@3.0.6 on Node 20) and Bun's server.publish. Server pinned to core 0, load generator to
# core 1; the implementations alternate their order from one repetition to the next; medians.
#
#   bash bench/fanout.sh [--reps 3] [--duration 3] [--warmup 1] [--in-flight "4 16"] [--redis] [--results]
#
# --results: the tables also replace the fan-out section of bench/RESULTS.md (which bench/run.sh
# rewrites: run this after it).
#
# --in-flight: messages each publisher keeps in flight, one table per value. With few in flight the
# servers idle between round trips and the figures measure latency as much as work; with more, each
# read brings several messages and a server that batches its writes per connection pulls ahead.
#
# --redis adds the scale-out rows, text messages: examples/chat-cluster.mjs as two processes on one port
# (node:cluster, both on the server core) sharing the rooms through a Redis server (on the load core),
# against the same app in one process; each room's members are spread over both processes.
#
# Prints a Markdown table and writes it, with every run's JSON line, under bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=3 DURATION=3 WARMUP=1 IN_FLIGHT="4 16" CONNECTIONS=1000 ROOMS=10 REDIS=0 RESULTS=
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --in-flight) IN_FLIGHT=$2; shift 2 ;;
    --redis) REDIS=1; shift ;;
    --results) RESULTS=bench/RESULTS.md; shift ;;
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
    daloy-text) echo "node bench/servers/fanout.mjs --impl daloy" ;;
    daloy-redis) echo "node examples/chat-cluster.mjs --port 0 --host 127.0.0.1 --workers 2 --redis redis://127.0.0.1:$REDIS_PORT" ;;
  esac
}
# chat-cluster.mjs serves its rooms under /chat and publishes text only.
url_path() { case "$1" in daloy-redis) echo /chat ;; *) echo "" ;; esac; }
kind_flag() { case "$1" in daloy-text | daloy-redis) echo --text ;; *) echo --binary ;; esac; }

# Hypervisor steal and total jiffies from /proc/stat's cpu line.
steal() { awk '/^cpu / { print $9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }

stamp=$(date -u +%Y-%m-%dT%H-%M-%SZ)
mkdir -p bench/results
raw="bench/results/fanout-$stamp.jsonl"
: >"$raw"
read -r steal0 total0 < <(steal)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

run_one() { # impl size rep in-flight
  local impl=$1 size=$2 rep=$3 p=$4 out err pid url line desc
  out=$(mktemp) err=$(mktemp)
  # shellcheck disable=SC2046
  taskset -c "$SERVER_CORE" $(server_cmd "$impl") >"$out" 2>"$err" &
  pid=$!
  for _ in $(seq 100); do
    url=$(grep -o 'ws://[^ ]*' "$out" || true)
    [ -n "$url" ] && url="$url$(url_path "$impl")" && break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "$impl did not start: $(cat "$err")" >&2
    kill "$pid" 2>/dev/null || true
    return 1
  fi
  line=$(taskset -c "$LOAD_CORE" timeout 120 "$LOADGEN" --mode fanout --url "$url" -c "$CONNECTIONS" --rooms "$ROOMS" \
    -p "$p" -s "$size" "$(kind_flag "$impl")" --warmup "$WARMUP" --duration "$DURATION" --server-pid "$pid" \
    --label "$impl" --json || true)
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  desc=$(head -n1 "$err" | tr -d '"')
  if [ "$impl" = daloy-redis ]; then desc="examples/chat-cluster.mjs: 2 node:cluster workers on Node $(node --version), rooms shared through Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -c3-)"; fi
  echo "{\"impl\":\"$impl\",\"size\":$size,\"rep\":$rep,\"inFlight\":$p,\"server\":\"$desc\",\"result\":$line}" >>"$raw"
  echo "$impl $size B p=$p rep $rep: $(echo "$line" | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(Math.round(r.msgs_per_sec),"msg/s","errors",r.errors,"mismatches",r.mismatches)')" >&2
  rm -f "$out" "$err"
}

for p in $IN_FLIGHT; do
  for size in 16 1024; do
    for rep in $(seq "$REPS"); do
      # Alternate the order so machine noise falls on every implementation.
      order=("${IMPLS[@]}")
      if [ $((rep % 2)) -eq 0 ]; then mapfile -t order < <(printf '%s\n' "${IMPLS[@]}" | tac); fi
      for impl in "${order[@]}"; do run_one "$impl" "$size" "$rep" "$p"; done
    done
  done
done

if [ "$REDIS" = 1 ]; then
  REDIS_PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  redis_dir=$(mktemp -d)
  taskset -c "$LOAD_CORE" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$redis_dir" --loglevel warning >/dev/null &
  redis_pid=$!
  trap 'kill "$redis_pid" 2>/dev/null; rm -rf "$redis_dir"' EXIT
  until redis-cli -p "$REDIS_PORT" PING >/dev/null 2>&1; do sleep 0.1; done
  for p in $IN_FLIGHT; do
    for size in 16 1024; do
      for rep in $(seq "$REPS"); do
        order=(daloy-text daloy-redis)
        if [ $((rep % 2)) -eq 0 ]; then order=(daloy-redis daloy-text); fi
        for impl in "${order[@]}"; do run_one "$impl" "$size" "$rep" "$p"; done
      done
    done
  done
fi

read -r steal1 total1 < <(steal)
steal_pct=$(awk -v s0="$steal0" -v s1="$steal1" -v t0="$total0" -v t1="$total1" 'BEGIN { printf "%.2f", 100 * (s1 - s0) / (t1 - t0) }')
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); steal during the run: $steal_pct%" >&2
node bench/lib/fanout-table.mjs "$raw" "$steal_pct" $RESULTS | tee "bench/results/fanout-$stamp.md"
