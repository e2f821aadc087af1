#!/usr/bin/env bash
# Builds the release binary of one napi target and puts it in its platform package:
#   bash scripts/release/build.sh <rust-triple>     e.g. aarch64-unknown-linux-gnu
# -> npm/<platform>/daloy-ws-native.<platform>.node (stripped, release profile with LTO).
# The host's own target builds with cargo; a Linux target of another architecture or libc is
# cross-compiled with zig (cargo-zigbuild, through napi's --cross-compile). macOS and Windows
# targets build on their own runners (the release workflow's matrix), or on a Mac for both
# darwin targets. Also regenerates binding.js/binding.d.ts, which every build writes alike.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/release/tools.sh

triple="${1:?usage: build.sh <rust-triple>}"
platform="$(node scripts/release/targets.mjs platform "$triple")"
host="$(rustc -vV | sed -n 's/^host: //p')"

need_rust_target "$triple"
cross=()
case "$triple" in
  "$host") ;;
  *-apple-darwin) [ "$(uname -s)" = Darwin ] || { echo "$triple builds on macOS only" >&2; exit 1; } ;;
  *-linux-*) need_zig; cross=(--cross-compile) ;;
  *-windows-msvc) [ "$(uname -s)" != Linux ] || { echo "$triple builds on a Windows runner" >&2; exit 1; } ;;
esac

out="target/release-artifacts/$triple"
rm -rf "$out"
mkdir -p "$out"
npx napi build --platform --release --strip --target "$triple" "${cross[@]}" \
  --output-dir "$out" --js binding.js --dts binding.d.ts
binary="$(ls "$out"/*."$platform".node)"
cp "$out/binding.js" "$out/binding.d.ts" .
rm -f npm/"$platform"/*.node
cp "$binary" "npm/$platform/"
echo "built npm/$platform/$(basename "$binary") ($(wc -c < "$binary") bytes)"
