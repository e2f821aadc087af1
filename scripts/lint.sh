#!/usr/bin/env bash
# The format, lint and type gates (.ci/run runs this before the tests): rustfmt and clippy on the
# Rust crate with and without the binding, the rule that only src/binding/ imports napi, the
# JavaScript type check (checkJs over lib/ and the entries, tsconfig.json) and Biome's lint
# (biome.jsonc). Needs `npm install` (TypeScript and Biome are devDependencies).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# A toolchain installed without rustup's default profile may lack the two components.
if command -v rustup >/dev/null 2>&1; then
  for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
      rustup component add "$component"
    fi
  done
fi

step "cargo fmt --check (the crate and the fuzzers)"
cargo fmt --check
cargo fmt --check --manifest-path fuzz/Cargo.toml

step "cargo clippy -D warnings: the core alone, every target"
cargo clippy --all-targets --no-default-features -- -D warnings

step "cargo clippy -D warnings: with the napi binding"
cargo clippy --features napi -- -D warnings

step "napi is imported only in src/binding/"
# Any use of the napi crates (paths, attributes, imports) outside the binding's folder.
if grep -rnE '\bnapi(_derive|_sys)?::|#\[napi|\bextern crate napi' src tests --include='*.rs' | grep -v '^src/binding/'; then
  echo "lint: the lines above use napi outside src/binding/" >&2
  exit 1
fi
echo "ok"

step "JavaScript type check: tsc (checkJs) over lib/ and the entries"
# lib/primitives/ is typed against the generated binding.d.ts: build it on a fresh clone.
if [ ! -f binding.d.ts ]; then
  npm run --silent build
fi
node node_modules/typescript/bin/tsc -p tsconfig.json

step "JavaScript lint: biome"
node node_modules/@biomejs/biome/bin/biome lint --error-on-warnings .
