#!/usr/bin/env bash
# Autobahn|Testsuite in client mode (wstest -m fuzzingserver) against daloy-ws-native/ws's client
# (scripts/autobahn/ws-client.mjs), every case but the permessage-deflate groups 12.* and 13.*.
# Holds the report to the bar of scripts/conformance.sh: every case OK or INFORMATIONAL, every
# closing behaviour OK, a result for every case.
#
#   bash scripts/conformance-client.sh
#
# The fuzzing server listens on a port the system picks (a free ephemeral port found just before).
# Environment: AUTOBAHN_OUT (default autobahn-reports/ws-client), AUTOBAHN_CASES (default "*"),
# AUTOBAHN_EXCLUDE (default "12.*,13.*"), AUTOBAHN_TIMEOUT (seconds, default 900).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

AGENT=daloy-ws-native-ws-client
OUT="${AUTOBAHN_OUT:-$ROOT/autobahn-reports/ws-client}"
CASES="${AUTOBAHN_CASES:-*}"
EXCLUDE="${AUTOBAHN_EXCLUDE-12.*,13.*}"
TIMEOUT="${AUTOBAHN_TIMEOUT:-900}"

WSTEST="$(bash scripts/autobahn/install.sh)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
find "$OUT" -maxdepth 1 -type f \( -name '*.json' -o -name '*.html' -o -name '*.log' \) -delete

PORT="$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
URL="ws://127.0.0.1:$PORT"
node -e '
  const [out, url, cases, exclude] = process.argv.slice(1);
  const list = (s) => s.split(/[\s,]+/).filter(Boolean);
  const spec = { url, outdir: out, cases: list(cases), "exclude-cases": list(exclude), "exclude-agent-cases": {} };
  require("node:fs").writeFileSync(out + "/fuzzingserver.json", JSON.stringify(spec, null, 2));
' "$OUT" "$URL" "$CASES" "$EXCLUDE"

WSTEST_PID=""
stop_wstest() {
  if [ -n "$WSTEST_PID" ] && kill -0 "$WSTEST_PID" 2>/dev/null; then
    kill -TERM "$WSTEST_PID" 2>/dev/null || true
    wait "$WSTEST_PID" 2>/dev/null || true
  fi
}
trap stop_wstest EXIT

(cd "$OUT" && exec "$WSTEST" -m fuzzingserver -s fuzzingserver.json) > "$OUT/wstest.log" 2>&1 &
WSTEST_PID=$!
READY=0
for _ in $(seq 1 300); do
  if node -e 'const s = require("node:net").connect(Number(process.argv[1]), "127.0.0.1"); s.on("connect", () => process.exit(0)); s.on("error", () => process.exit(1));' "$PORT"; then
    READY=1
    break
  fi
  kill -0 "$WSTEST_PID" 2>/dev/null || break
  sleep 0.1
done
if [ "$READY" -ne 1 ]; then
  tail -n 20 "$OUT/wstest.log" >&2
  echo "conformance-client: the fuzzing server did not start" >&2
  exit 1
fi

echo "conformance-client: daloy-ws-native/ws client against $URL (cases [$CASES], excluded [$EXCLUDE]); report in $OUT" >&2
set +e
timeout -k 10 "$TIMEOUT" node scripts/autobahn/ws-client.mjs "$URL" "$AGENT" > "$OUT/client.log" 2>&1
CLIENT_RC=$?
set -e
stop_wstest
WSTEST_PID=""
if [ "$CLIENT_RC" -ne 0 ]; then
  echo "conformance-client: the client driver exited with $CLIENT_RC (124: timeout):" >&2
  tail -n 20 "$OUT/client.log" >&2
fi
EXPECTED="$(sed -n 's/^ws-client: ran \([0-9][0-9]*\) cases$/\1/p' "$OUT/client.log" | head -n 1)"

set +e
node scripts/autobahn/check-report.mjs "$OUT" --agent "$AGENT" ${EXPECTED:+--expected "$EXPECTED"}
REPORT_RC=$?
set -e
STATUS=0
[ "$CLIENT_RC" -eq 0 ] || STATUS=1
[ -n "$EXPECTED" ] || { echo "conformance-client: the driver did not say how many cases it ran" >&2; STATUS=1; }
[ "$REPORT_RC" -eq 0 ] || STATUS=1
[ "$STATUS" -eq 0 ] && echo "conformance-client: passed" >&2 || echo "conformance-client: FAILED" >&2
exit "$STATUS"
