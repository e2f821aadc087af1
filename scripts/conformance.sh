#!/usr/bin/env bash
# Autobahn|Testsuite (wstest -m fuzzingclient) against an echo server (examples/echo-server.mjs by
# default; AUTOBAHN_SERVER=examples/ws-echo-server.mjs for the `ws`-compatible module), every case but
# the permessage-deflate groups 12.* and 13.* (no extension is negotiated). Fails unless every case
# is OK or INFORMATIONAL (none NON-STRICT, UNIMPLEMENTED or FAILED), every closing behaviour is OK,
# every planned case has a result, and the server, still running at the end, stops cleanly (exit
# code 0) on SIGTERM.
#
#   bash scripts/conformance.sh        (npm run conformance)
#
# Needs the built addon (npm run build). The first run installs wstest (scripts/autobahn/install.sh,
# root or sudo needed once for Python 2.7). Environment: AUTOBAHN_OUT (report directory, default
# autobahn-reports/echo-server; open index.html in it), AUTOBAHN_CASES (default "*"),
# AUTOBAHN_EXCLUDE (default "12.*,13.*"), AUTOBAHN_TIMEOUT (seconds, default 900), AUTOBAHN_HOME,
# AUTOBAHN_SERVER (the example to run; it takes --port and --host and prints "listening on ws://...").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SERVER="${AUTOBAHN_SERVER:-examples/echo-server.mjs}"
NAME="$(basename "$SERVER" .mjs)"
# The report names the agent after the example, except for the default server (as before).
AGENT="daloy-ws-native"
[ "$NAME" = echo-server ] || AGENT="daloy-ws-native-$NAME"
OUT="${AUTOBAHN_OUT:-$ROOT/autobahn-reports/$NAME}"
CASES="${AUTOBAHN_CASES:-*}"
EXCLUDE="${AUTOBAHN_EXCLUDE-12.*,13.*}"
TIMEOUT="${AUTOBAHN_TIMEOUT:-900}"

WSTEST="$(bash scripts/autobahn/install.sh)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
find "$OUT" -maxdepth 1 -type f \( -name '*.json' -o -name '*.html' -o -name '*.log' \) -delete

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap stop_server EXIT

node "$SERVER" --port 0 --host 127.0.0.1 > "$OUT/server.log" 2>&1 &
SERVER_PID=$!
URL=""
for _ in $(seq 1 200); do
  URL="$(sed -n 's/^listening on \(ws:\/\/[^ ]*\)$/\1/p' "$OUT/server.log" | head -n 1)"
  [ -n "$URL" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/server.log" >&2; echo "conformance: the echo server did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "conformance: the echo server did not report its address" >&2; exit 1; }

node -e '
  const [out, agent, url, cases, exclude] = process.argv.slice(1);
  const list = (s) => s.split(/[\s,]+/).filter(Boolean);
  const spec = { outdir: out, servers: [{ agent, url }], cases: list(cases), "exclude-cases": list(exclude), "exclude-agent-cases": {} };
  require("node:fs").writeFileSync(out + "/fuzzingclient.json", JSON.stringify(spec, null, 2));
' "$OUT" "$AGENT" "$URL" "$CASES" "$EXCLUDE"

echo "conformance: wstest against $URL (cases [$CASES], excluded [$EXCLUDE]); report in $OUT" >&2
set +e
(cd "$OUT" && timeout -k 10 "$TIMEOUT" "$WSTEST" -m fuzzingclient -s fuzzingclient.json) > "$OUT/wstest.log" 2>&1
WSTEST_RC=$?
set -e
if [ "$WSTEST_RC" -ne 0 ]; then
  echo "conformance: wstest exited with $WSTEST_RC (124: timeout); its last lines:" >&2
  tail -n 20 "$OUT/wstest.log" >&2
fi
EXPECTED="$(sed -n 's/^Ok, will run \([0-9][0-9]*\) test cases.*/\1/p' "$OUT/wstest.log" | head -n 1)"

SERVER_ALIVE=1
kill -0 "$SERVER_PID" 2>/dev/null || SERVER_ALIVE=0
set +e
node scripts/autobahn/check-report.mjs "$OUT" --agent "$AGENT" ${EXPECTED:+--expected "$EXPECTED"}
REPORT_RC=$?
set -e

STATUS=0
[ "$WSTEST_RC" -eq 0 ] || STATUS=1
[ -n "$EXPECTED" ] || { echo "conformance: wstest did not say how many cases it planned" >&2; STATUS=1; }
[ "$REPORT_RC" -eq 0 ] || STATUS=1
if [ "$SERVER_ALIVE" -eq 0 ]; then
  echo "conformance: the echo server died during the run:" >&2
  tail -n 20 "$OUT/server.log" >&2
  STATUS=1
else
  kill -TERM "$SERVER_PID"
  set +e
  wait "$SERVER_PID"
  SERVER_RC=$?
  set -e
  SERVER_PID=""
  if [ "$SERVER_RC" -ne 0 ]; then
    echo "conformance: the echo server exited with $SERVER_RC on SIGTERM, not 0" >&2
    STATUS=1
  fi
fi
[ "$STATUS" -eq 0 ] && echo "conformance: passed" >&2 || echo "conformance: FAILED" >&2
exit "$STATUS"
