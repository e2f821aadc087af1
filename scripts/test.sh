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

step "node --test: the JavaScript surface ($(node --version))"
node --test --test-concurrency=1 __test__/*.test.mjs __test__/runtime/*.test.mjs

step "Autobahn|Testsuite against examples/echo-server.mjs"
bash scripts/conformance.sh
