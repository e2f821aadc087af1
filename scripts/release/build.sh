#!/usr/bin/env bash
# Builds the release binary of one napi target and puts it in its platform package:
#   bash scripts/release/build.sh <rust-triple>     e.g. aarch64-unknown-linux-gnu
# -> npm/<platform>/daloy-ws-native.<platform>.node (stripped, release profile with LTO).
# Linux targets build with zig (cargo-zigbuild, through napi's --cross-compile), the host's own
# too: against glibc 2.17 for the gnu ones (GLIBC_FLOOR), as napi-rs packages do, so that the
# binary loads on every distribution Node 20 runs on, not only on ones as new as the build
# machine. The host's non-Linux target builds with cargo. macOS and Windows
# targets build on their own runners (the release workflow's matrix), or on a Mac for both
# darwin targets. Also regenerates binding.js/binding.d.ts, which every build writes alike.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/release/tools.sh

triple="${1:?usage: build.sh <rust-triple>}"
platform="$(node scripts/release/targets.mjs platform "$triple")"
host="$(rustc -vV | sed -n 's/^host: //p')"

need_rust_target "$triple"
glibc_floor="${GLIBC_FLOOR:-2.17}"
cross=()
build_target="$triple"
case "$triple" in
  *-linux-gnu) need_zig; cross=(--cross-compile); build_target="$triple.$glibc_floor" ;;
  *-linux-*) need_zig; cross=(--cross-compile) ;;
  "$host") ;;
  *-apple-darwin) [ "$(uname -s)" = Darwin ] || { echo "$triple builds on macOS only" >&2; exit 1; } ;;
  *-windows-msvc) [ "$(uname -s)" != Linux ] || { echo "$triple builds on a Windows runner" >&2; exit 1; } ;;
esac

out="target/release-artifacts/$triple"
rm -rf "$out"
mkdir -p "$out"
npx napi build --platform --release --strip --target "$build_target" "${cross[@]}" \
  --output-dir "$out" --js binding.js --dts binding.d.ts
binary="$(ls "$out"/*."$platform".node)"
if [[ "$triple" == *-linux-gnu ]]; then
  newest="$(objdump -T "$binary" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)"
  if [ "$(printf '%s\n%s\n' "$newest" "$glibc_floor" | sort -V | tail -n 1)" != "$glibc_floor" ]; then
    echo "build: $binary needs glibc $newest, newer than $glibc_floor" >&2
    exit 1
  fi
  echo "build: $(basename "$binary") needs glibc $newest at most (floor $glibc_floor)"
fi
cp "$out/binding.js" "$out/binding.d.ts" .
rm -f npm/"$platform"/*.node
cp "$binary" "npm/$platform/"
echo "built npm/$platform/$(basename "$binary") ($(wc -c < "$binary") bytes)"
