#!/usr/bin/env bash
# Autobahn|Testsuite, every case but the permessage-deflate groups 12.* and 13.* (no extension is
# negotiated), in one of two modes:
#   server (default): wstest -m fuzzingclient against an echo server, examples/echo-server.mjs by
#     default; AUTOBAHN_SERVER=examples/ws-echo-server.mjs for the `ws`-compatible module;
#   client (AUTOBAHN_MODE=client): wstest -m fuzzingserver, driven by daloy-ws-native/ws's client
#     (scripts/autobahn/ws-client.mjs), on a free ephemeral port.
# Fails unless every case is OK or INFORMATIONAL (none NON-STRICT, UNIMPLEMENTED or FAILED), every
# closing behaviour is OK, every planned case has a result, and (server mode) the server, still
# running at the end, stops cleanly (exit code 0) on SIGTERM.
#
#   bash scripts/conformance.sh        (npm run conformance)
#
# Needs the built addon (npm run build). The first run installs wstest (scripts/autobahn/install.sh,
# root or sudo needed once for Python 2.7). Environment: AUTOBAHN_MODE (server or client),
# AUTOBAHN_SERVER (the example to run; it takes --port and --host and prints "listening on ws://..."),
# AUTOBAHN_SERVER_ARGS (its extra arguments: "--deflate" or "--deflate=dedicated" with
# AUTOBAHN_EXCLUDE="" runs the permessage-deflate groups 12.* and 13.* too),
# AUTOBAHN_OUT (report directory, default autobahn-reports/<example> or autobahn-reports/ws-client;
# open index.html in it), AUTOBAHN_CASES (default "*"), AUTOBAHN_EXCLUDE (default "12.*,13.*"),
# AUTOBAHN_TIMEOUT (seconds, default 900), AUTOBAHN_HOME.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MODE="${AUTOBAHN_MODE:-server}"
if [ "$MODE" = client ]; then
  NAME=ws-client
  AGENT=daloy-ws-native-ws-client
elif [ "$MODE" = server ]; then
  SERVER="${AUTOBAHN_SERVER:-examples/echo-server.mjs}"
  NAME="$(basename "$SERVER" .mjs)"
  # The report names the agent after the example, except for the default server (as before).
  AGENT="daloy-ws-native"
  [ "$NAME" = echo-server ] || AGENT="daloy-ws-native-$NAME"
else
  echo "conformance: AUTOBAHN_MODE must be server or client, not $MODE" >&2
  exit 2
fi
OUT="${AUTOBAHN_OUT:-$ROOT/autobahn-reports/$NAME}"
CASES="${AUTOBAHN_CASES:-*}"
EXCLUDE="${AUTOBAHN_EXCLUDE-12.*,13.*}"
TIMEOUT="${AUTOBAHN_TIMEOUT:-900}"
read -r -a SERVER_ARGS <<< "${AUTOBAHN_SERVER_ARGS:-}"

WSTEST="$(bash scripts/autobahn/install.sh)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
find "$OUT" -maxdepth 1 -type f \( -name '*.json' -o -name '*.html' -o -name '*.log' \) -delete

# The wstest spec: fuzzingclient names the servers to test, fuzzingserver the URL it listens on.
write_spec() {
  node -e '
    const [file, target, cases, exclude, agent] = process.argv.slice(1);
    const list = (s) => s.split(/[\s,]+/).filter(Boolean);
    const spec = { outdir: require("node:path").dirname(file), cases: list(cases), "exclude-cases": list(exclude), "exclude-agent-cases": {} };
    if (agent) spec.servers = [{ agent, url: target }];
    else spec.url = target;
    require("node:fs").writeFileSync(file, JSON.stringify(spec, null, 2));
  ' "$@"
}

PID=""
stop_pid() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  PID=""
}
trap stop_pid EXIT

STATUS=0
if [ "$MODE" = server ]; then
  node "$SERVER" --port 0 --host 127.0.0.1 ${SERVER_ARGS[@]+"${SERVER_ARGS[@]}"} > "$OUT/server.log" 2>&1 &
  PID=$!
  URL=""
  for _ in $(seq 1 200); do
    URL="$(sed -n 's/^listening on \(ws:\/\/[^ ]*\)$/\1/p' "$OUT/server.log" | head -n 1)"
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || { cat "$OUT/server.log" >&2; echo "conformance: the echo server did not start" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$URL" ] || { echo "conformance: the echo server did not report its address" >&2; exit 1; }
  write_spec "$OUT/fuzzingclient.json" "$URL" "$CASES" "$EXCLUDE" "$AGENT"

  echo "conformance: wstest against $URL (cases [$CASES], excluded [$EXCLUDE]); report in $OUT" >&2
  set +e
  (cd "$OUT" && timeout -k 10 "$TIMEOUT" "$WSTEST" -m fuzzingclient -s fuzzingclient.json) > "$OUT/wstest.log" 2>&1
  RUN_RC=$?
  set -e
  if [ "$RUN_RC" -ne 0 ]; then
    echo "conformance: wstest exited with $RUN_RC (124: timeout); its last lines:" >&2
    tail -n 20 "$OUT/wstest.log" >&2
  fi
  EXPECTED="$(sed -n 's/^Ok, will run \([0-9][0-9]*\) test cases.*/\1/p' "$OUT/wstest.log" | head -n 1)"
  [ -n "$EXPECTED" ] || { echo "conformance: wstest did not say how many cases it planned" >&2; STATUS=1; }

  if ! kill -0 "$PID" 2>/dev/null; then
    echo "conformance: the echo server died during the run:" >&2
    tail -n 20 "$OUT/server.log" >&2
    STATUS=1
  else
    kill -TERM "$PID"
    set +e
    wait "$PID"
    SERVER_RC=$?
    set -e
    PID=""
    if [ "$SERVER_RC" -ne 0 ]; then
      echo "conformance: the echo server exited with $SERVER_RC on SIGTERM, not 0" >&2
      STATUS=1
    fi
  fi
else
  PORT="$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
  URL="ws://127.0.0.1:$PORT"
  write_spec "$OUT/fuzzingserver.json" "$URL" "$CASES" "$EXCLUDE"
  (cd "$OUT" && exec "$WSTEST" -m fuzzingserver -s fuzzingserver.json) > "$OUT/wstest.log" 2>&1 &
  PID=$!
  READY=0
  for _ in $(seq 1 300); do
    if node -e 'const s = require("node:net").connect(Number(process.argv[1]), "127.0.0.1"); s.on("connect", () => process.exit(0)); s.on("error", () => process.exit(1));' "$PORT"; then
      READY=1
      break
    fi
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$READY" -ne 1 ]; then
    tail -n 20 "$OUT/wstest.log" >&2
    echo "conformance: the fuzzing server did not start" >&2
    exit 1
  fi

  echo "conformance: daloy-ws-native/ws's client against $URL (cases [$CASES], excluded [$EXCLUDE]); report in $OUT" >&2
  set +e
  timeout -k 10 "$TIMEOUT" node scripts/autobahn/ws-client.mjs "$URL" "$AGENT" > "$OUT/client.log" 2>&1
  RUN_RC=$?
  set -e
  stop_pid
  if [ "$RUN_RC" -ne 0 ]; then
    echo "conformance: the client driver exited with $RUN_RC (124: timeout); its last lines:" >&2
    tail -n 20 "$OUT/client.log" >&2
  fi
  EXPECTED="$(sed -n 's/^ws-client: ran \([0-9][0-9]*\) cases$/\1/p' "$OUT/client.log" | head -n 1)"
  [ -n "$EXPECTED" ] || { echo "conformance: the client driver did not say how many cases it ran" >&2; STATUS=1; }
fi

[ "$RUN_RC" -eq 0 ] || STATUS=1
set +e
node scripts/autobahn/check-report.mjs "$OUT" --agent "$AGENT" ${EXPECTED:+--expected "$EXPECTED"}
REPORT_RC=$?
set -e
[ "$REPORT_RC" -eq 0 ] || STATUS=1
[ "$STATUS" -eq 0 ] && echo "conformance: passed" >&2 || echo "conformance: FAILED" >&2
exit "$STATUS"
