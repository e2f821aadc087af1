#!/usr/bin/env bash
# Autobahn|Testsuite (wstest -m fuzzingclient) against examples/echo-server.mjs run by Bun and by
# Deno (its `serve` is then Bun.serve / Deno.serve), every case but permessage-deflate (12.*, 13.*).
# There the runtime frames, so its own strictness decides NON-STRICT cases: the bar is no FAILED
# case and no UNIMPLEMENTED one, a result for every planned case, and a server that still runs at
# the end and exits 0 on SIGTERM. Prints per runtime the line
#   autobahn(RUNTIME): OK=n NON-STRICT=n INFORMATIONAL=n UNIMPLEMENTED=n FAILED=n
# and the cases that were not OK.
#
#   bash scripts/conformance-runtimes.sh [bun] [deno]
#
# Needs the built addon and Bun/Deno (scripts/runtimes.sh installs them; BUN / DENO override);
# wstest comes from scripts/autobahn/install.sh. Reports go to autobahn-reports/runtime-RUNTIME.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RUNTIMES_DIR="${RUNTIMES_DIR:-$ROOT/.cache/runtimes}"
find_bin() {
  for dir in "$RUNTIMES_DIR/node_modules/.bin" "$ROOT/bench/.tools/node_modules/.bin"; do
    [ -x "$dir/$1" ] && { echo "$dir/$1"; return; }
  done
  command -v "$1" || { echo "conformance-runtimes: $1 not found (run scripts/runtimes.sh first)" >&2; exit 1; }
}
BUN="${BUN:-$(find_bin bun)}"
DENO="${DENO:-$(find_bin deno)}"
TIMEOUT="${AUTOBAHN_TIMEOUT:-900}"
WSTEST="$(bash scripts/autobahn/install.sh)"

RUNTIMES=("$@")
[ ${#RUNTIMES[@]} -gt 0 ] || RUNTIMES=(bun deno)

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT

run_one() {
  local runtime="$1" out="$ROOT/autobahn-reports/runtime-$1" agent="daloy-ws-native-$1"
  mkdir -p "$out"
  find "$out" -maxdepth 1 -type f \( -name '*.json' -o -name '*.html' -o -name '*.log' \) -delete
  case "$runtime" in
    bun) "$BUN" examples/echo-server.mjs --port 0 > "$out/server.log" 2>&1 & ;;
    deno) NO_COLOR=1 "$DENO" run -A examples/echo-server.mjs --port 0 > "$out/server.log" 2>&1 & ;;
    *) echo "conformance-runtimes: unknown runtime $runtime" >&2; return 1 ;;
  esac
  SERVER_PID=$!
  local url=""
  for _ in $(seq 1 300); do
    url="$(sed -n 's/^listening on \(ws:\/\/[^ ]*\)$/\1/p' "$out/server.log" | head -n 1)"
    [ -n "$url" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$out/server.log" >&2; echo "conformance-runtimes: the $runtime server did not start" >&2; return 1; }
    sleep 0.1
  done
  [ -n "$url" ] || { echo "conformance-runtimes: the $runtime server did not report its address" >&2; return 1; }

  printf '{"outdir":"%s","servers":[{"agent":"%s","url":"%s"}],"cases":["*"],"exclude-cases":["12.*","13.*"],"exclude-agent-cases":{}}\n' \
    "$out" "$agent" "$url" > "$out/fuzzingclient.json"
  echo "conformance-runtimes: wstest against $url ($runtime); report in $out" >&2
  local rc=0
  (cd "$out" && timeout -k 10 "$TIMEOUT" "$WSTEST" -m fuzzingclient -s fuzzingclient.json) > "$out/wstest.log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { echo "conformance-runtimes: wstest exited with $rc" >&2; tail -n 20 "$out/wstest.log" >&2; }
  local expected
  expected="$(sed -n 's/^Ok, will run \([0-9][0-9]*\) test cases.*/\1/p' "$out/wstest.log" | head -n 1)"

  local alive=1
  kill -0 "$SERVER_PID" 2>/dev/null || alive=0
  local status=0
  node -e '
    const fs = require("node:fs");
    const [out, agent, runtime, expected] = process.argv.slice(1);
    let report;
    try { report = JSON.parse(fs.readFileSync(out + "/index.json", "utf8"))[agent]; } catch { report = undefined; }
    if (!report) { console.log(`autobahn(${runtime}): ERROR no report`); process.exit(1); }
    const kinds = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"];
    const count = Object.fromEntries(kinds.map((k) => [k, 0]));
    const notOk = [];
    const byId = (a, b) => a.localeCompare(b, undefined, { numeric: true });
    for (const id of Object.keys(report).sort(byId)) {
      const r = report[id];
      count[r.behavior] = (count[r.behavior] ?? 0) + 1;
      if (r.behavior !== "OK" && r.behavior !== "INFORMATIONAL") notOk.push(`${id} ${r.behavior}`);
      else if (r.behaviorClose !== "OK" && r.behaviorClose !== "INFORMATIONAL") notOk.push(`${id} close ${r.behaviorClose}`);
    }
    for (const line of notOk) console.log(`  ${line}`);
    const total = Object.keys(report).length;
    console.log(`autobahn(${runtime}): ` + kinds.map((k) => `${k}=${count[k]}`).join(" ") + ` (${total} cases)`);
    let ok = count.FAILED === 0 && count.UNIMPLEMENTED === 0;
    if (expected && total !== Number(expected)) { console.log(`only ${total} of ${expected} planned cases have a result`); ok = false; }
    process.exit(ok ? 0 : 1);
  ' "$out" "$agent" "$runtime" "$expected" || status=1
  [ "$rc" -eq 0 ] || status=1
  [ -n "$expected" ] || status=1
  if [ "$alive" -eq 0 ]; then
    echo "conformance-runtimes: the $runtime server died during the run" >&2
    tail -n 20 "$out/server.log" >&2
    status=1
  else
    kill -TERM "$SERVER_PID"
    local code=0
    wait "$SERVER_PID" || code=$?
    SERVER_PID=""
    [ "$code" -eq 0 ] || { echo "conformance-runtimes: the $runtime server exited with $code on SIGTERM" >&2; status=1; }
  fi
  return "$status"
}

OVERALL=0
for runtime in "${RUNTIMES[@]}"; do
  run_one "$runtime" || OVERALL=1
done
exit "$OVERALL"
