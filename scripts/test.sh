#!/usr/bin/env bash
# The whole test suite: the Rust core, the JavaScript surface against the built addon, and
# Autobahn|Testsuite against the echo example. `npm test` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "build the addon (release)"
npm run --silent build

step "cargo test: the core, without Node symbols"
cargo test --no-default-features

step "tsc --strict over the README's code blocks"
node scripts/readme-types.mjs
# The scale-out tests (__test__/redis.test.mjs) start their own Redis servers on free ports.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  step "install Debian's redis-server (for the scale-out tests)"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends redis-server
fi
echo "$(redis-server --version)"

step "node --test: the JavaScript surface ($(node --version))"
node --test --test-concurrency=1 __test__/*.test.mjs __test__/runtime/*.test.mjs

# Text messages are decoded natively or by the engine depending on the runtime (NATIVE_UTF16 in
# lib/primitives/frame-sink.js): the text suites once more with each choice forced.
for forced in 1 0; do
  step "node --test: text decoding with DALOY_WS_NATIVE_UTF16=$forced"
  DALOY_WS_NATIVE_UTF16=$forced node --test --test-concurrency=1 __test__/sink-text.test.mjs __test__/sink.test.mjs __test__/differential.test.mjs
done

# The transport after the 101 (lib/node/native-socket.js): the runs above use the default, the
# native transport where it applies; the suites that drive Node's wiring once more on Node's stream.
step "node --test: the Node wiring with DALOY_WS_TRANSPORT=stream"
DALOY_WS_TRANSPORT=stream node --test --test-concurrency=1 __test__/node-*.test.mjs __test__/ws-*.test.mjs __test__/app-guards.test.mjs __test__/origin.test.mjs

step "Autobahn|Testsuite against examples/echo-server.mjs"
bash scripts/conformance.sh

step "Autobahn|Testsuite against examples/echo-server.mjs, DALOY_WS_TRANSPORT=stream"
DALOY_WS_TRANSPORT=stream AUTOBAHN_OUT="autobahn-reports/echo-server-stream" bash scripts/conformance.sh

step "Autobahn|Testsuite against examples/ws-echo-server.mjs (daloy-ws-native/ws)"
AUTOBAHN_SERVER=examples/ws-echo-server.mjs bash scripts/conformance.sh

step "Autobahn|Testsuite against examples/ws-echo-server.mjs, DALOY_WS_TRANSPORT=stream"
DALOY_WS_TRANSPORT=stream AUTOBAHN_SERVER=examples/ws-echo-server.mjs AUTOBAHN_OUT="autobahn-reports/ws-echo-server-stream" bash scripts/conformance.sh

step "Autobahn|Testsuite in client mode against daloy-ws-native/ws's client"
AUTOBAHN_MODE=client bash scripts/conformance.sh

# permessage-deflate: every case (12.* and 13.* included) in the shared mode, and the 13.* group
# (every combination of parameters) in the dedicated mode; 12.* in the dedicated mode is run by
# hand (README, Conformance).
step "Autobahn|Testsuite against examples/echo-server.mjs --deflate (every case)"
AUTOBAHN_SERVER_ARGS="--deflate" AUTOBAHN_EXCLUDE="" AUTOBAHN_OUT="autobahn-reports/echo-server-deflate" bash scripts/conformance.sh

step "Autobahn|Testsuite against examples/echo-server.mjs --deflate=dedicated (13.*)"
AUTOBAHN_SERVER_ARGS="--deflate=dedicated" AUTOBAHN_CASES="13.*" AUTOBAHN_EXCLUDE="" AUTOBAHN_OUT="autobahn-reports/echo-server-deflate-dedicated" bash scripts/conformance.sh

# The `ws` module with permessage-deflate: 13.* (every combination of parameters) against its echo
# server with `ws`'s defaults, and against its client, which offers the extension by default; 12.*
# is run by hand (README, Conformance).
step "Autobahn|Testsuite against examples/ws-echo-server.mjs --deflate (13.*)"
AUTOBAHN_SERVER=examples/ws-echo-server.mjs AUTOBAHN_SERVER_ARGS="--deflate" AUTOBAHN_CASES="13.*" AUTOBAHN_EXCLUDE="" AUTOBAHN_OUT="autobahn-reports/ws-echo-server-deflate" bash scripts/conformance.sh

step "Autobahn|Testsuite in client mode against daloy-ws-native/ws's client with deflate (13.*)"
AUTOBAHN_MODE=client AUTOBAHN_CASES="13.*" AUTOBAHN_EXCLUDE="" AUTOBAHN_OUT="autobahn-reports/ws-client-deflate" bash scripts/conformance.sh
