#!/usr/bin/env bash
# Packs the main package and the given platform packages into a folder, as `npm publish` would
# pack them, and checks every tarball: the main one with binding.js, its types and LICENSE and
# no .node file, each platform one with exactly one .node file and LICENSE.
#   bash scripts/release/pack.sh <out-dir> <platform>...      e.g. /tmp/out linux-x64-gnu
# The main package is packed with its optionalDependencies written (scripts/release/
# optional-deps.mjs), as it is published; package.json is restored afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."

out="$(mkdir -p "${1:?usage: pack.sh <out-dir> <platform>...}" && cd "$1" && pwd)"
shift

saved="$(mktemp)"
cp package.json "$saved"
trap 'cp "$saved" package.json; rm -f "$saved"' EXIT
node scripts/release/optional-deps.mjs
main="$(npm pack --silent --pack-destination "$out")"
cp "$saved" package.json

check() { # check <tarball> <what> <test...>
  local tarball="$1" what="$2"; shift 2
  if ! "$@"; then echo "pack: $tarball: $what" >&2; exit 1; fi
}
listing() { tar -tzf "$out/$1"; }
has() { listing "$1" | grep -x "package/$2" >/dev/null; }
nodes() { listing "$1" | grep -c '\.node$' || true; }

for file in LICENSE package.json binding.js binding.d.ts index.d.ts index.js; do
  check "$main" "has no $file" has "$main" "$file"
done
check "$main" "carries a .node file" test "$(nodes "$main")" -eq 0
echo "packed $main ($(wc -c < "$out/$main") bytes, $(listing "$main" | wc -l) files, no .node)"

for platform in "$@"; do
  tarball="$(cd "npm/$platform" && npm pack --silent --pack-destination "$out")"
  check "$tarball" "has no LICENSE" has "$tarball" LICENSE
  check "$tarball" "does not carry exactly one .node file" test "$(nodes "$tarball")" -eq 1
  echo "packed $tarball ($(wc -c < "$out/$tarball") bytes: $(listing "$tarball" | sed 's#^package/##' | tr '\n' ' '))"
done
