#!/usr/bin/env bash
# Runs the test suites on a binary built elsewhere (the release workflow's test jobs download the
# build job's artifact: npm/<platform>/*.node and binding.js), without building anything:
#   bash scripts/release/test-artifact.sh node    the node --test suites, on the Node on PATH
#   bash scripts/release/test-artifact.sh bun     the Bun and Deno suites (scripts/runtimes.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."

platform="$(node -p "const e = require('./lib/primitives/native-error.js'); e.currentPlatform({ platform: process.platform, arch: process.arch, libc: e.detectLibc() })")"
binary="$(ls npm/"$platform"/*.node 2>/dev/null || true)"
[ -n "$binary" ] || { echo "test-artifact: no binary in npm/$platform/ (download the build artifact first)" >&2; exit 1; }
[ -f binding.js ] || { echo "test-artifact: binding.js is missing (it comes with the build artifact)" >&2; exit 1; }
# binding.js loads ./<binaryName>.<platform>.node before the platform package.
cp "$binary" .
echo "testing $binary on $platform"

case "${1:?usage: test-artifact.sh node|bun}" in
  node) npm run --silent test:js ;;
  bun) bash scripts/runtimes.sh ;;
  *) echo "test-artifact: unknown runtime $1" >&2; exit 2 ;;
esac
