#!/usr/bin/env bash
# The package under Bun and Deno: the primitives suites run by each runtime's own test runner,
# then the behavioural suite (__test__/runtime/) against a server under Node, Bun and Deno.
# Bun and Deno come from npm into a private prefix when missing (RUNTIMES_DIR, default
# .cache/runtimes); set BUN / DENO to use other binaries. Needs the addon built (npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNTIMES_DIR="${RUNTIMES_DIR:-$PWD/.cache/runtimes}"
BUN_VERSION="${BUN_VERSION:-1.4.5}"
DENO_VERSION="${DENO_VERSION:-2.9.6}"

step() { printf '\n== %s\n' "$*"; }

if [ -z "${BUN:-}" ] || [ -z "${DENO:-}" ]; then
  if [ ! -x "$RUNTIMES_DIR/node_modules/.bin/bun" ] || [ ! -x "$RUNTIMES_DIR/node_modules/.bin/deno" ]; then
    step "install bun@$BUN_VERSION and deno@$DENO_VERSION into $RUNTIMES_DIR"
    mkdir -p "$RUNTIMES_DIR"
    npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$RUNTIMES_DIR" \
      "bun@$BUN_VERSION" "deno@$DENO_VERSION" >/dev/null
  fi
fi
export BUN="${BUN:-$RUNTIMES_DIR/node_modules/.bin/bun}"
export DENO="${DENO:-$RUNTIMES_DIR/node_modules/.bin/deno}"
echo "bun $("$BUN" --version), $("$DENO" --version | head -n 1)"

# The primitives suites (node:test based). Bun resolves the `ws` package to its built-in `ws`,
# which has no lib/receiver.js, so the differential suite against ws's Receiver runs on Deno only.
PRIMITIVES=(constants errors module handshake origin frame close send-payload sink sink-text sink-table)
files() { for name in "$@"; do printf '__test__/%s.test.mjs\n' "$name"; done; }

step "primitives under bun test"
mapfile -t BUN_FILES < <(files "${PRIMITIVES[@]}")
timeout 600 "$BUN" test "${BUN_FILES[@]}"

step "primitives under deno test"
mapfile -t DENO_FILES < <(files "${PRIMITIVES[@]}" differential)
NO_COLOR=1 timeout 600 "$DENO" test -A --quiet "${DENO_FILES[@]}"

# Text decoding both ways on each (see NATIVE_UTF16 in lib/primitives/frame-sink.js): the runs above took the default.
for forced in 1 0; do
  step "text decoding with DALOY_WS_NATIVE_UTF16=$forced under bun and deno"
  DALOY_WS_NATIVE_UTF16=$forced timeout 300 "$BUN" test __test__/sink-text.test.mjs __test__/sink.test.mjs
  DALOY_WS_NATIVE_UTF16=$forced NO_COLOR=1 timeout 300 "$DENO" test -A --quiet __test__/sink-text.test.mjs __test__/sink.test.mjs
done

# bun-node: the Node wiring (serve of daloy-ws-native/node forced onto node:http) on Bun, the
# path of an application that attaches to a node:http server there.
for runtime in node bun deno bun-node; do
  step "behavioural suite against a $runtime server"
  DALOY_RUNTIME="$runtime" timeout 600 node --test --test-concurrency=1 --test-reporter=dot __test__/runtime/
done
