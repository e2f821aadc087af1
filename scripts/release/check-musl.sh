#!/usr/bin/env bash
# Checks a linux-x64-musl binary, since no musl Node runs here:
#   bash scripts/release/check-musl.sh npm/linux-x64-musl/daloy-ws-native.linux-x64-musl.node
# - an x86-64 ELF shared object that needs no glibc symbol version and no library but musl's libc;
# - musl's own dynamic loader (Debian's `musl`, /lib/ld-musl-x86_64.so.1) maps it and resolves
#   every symbol but the Node-API ones (napi_*), which only Node provides;
# - every other symbol it imports is one musl's libc.so exports.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/release/tools.sh

binary="${1:?usage: check-musl.sh <file.node>}"
loader=/lib/ld-musl-x86_64.so.1
musl_libc=/lib/x86_64-linux-musl/libc.so
if [ ! -x "$loader" ] || [ ! -e "$musl_libc" ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl; } >/dev/null 2>&1 ||
    refused "Debian's musl (apt-get install musl)"
fi
bad() { echo "check-musl: $binary: $*" >&2; exit 1; }

kind="$(file -b "$binary")"
case "$kind" in "ELF 64-bit LSB shared object, x86-64"*) ;; *) bad "not an x86-64 ELF shared object: $kind" ;; esac
needed="$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
case "$needed" in "libc.so " | "libc.musl-x86_64.so.1 ") ;; *) bad "needs [$needed], expected musl's libc alone" ;; esac
if objdump -T "$binary" | grep 'GLIBC_' >/dev/null; then bad "refers to glibc symbol versions"; fi

# musl's loader as ldd: it lists the libraries, then one line per symbol it cannot resolve.
listing="$("$loader" --list "$binary" 2>&1 || true)"
unresolved="$(printf '%s\n' "$listing" | sed -n 's/^Error relocating .*: \(.*\): symbol not found$/\1/p' | sort -u)"
others="$(printf '%s\n' "$listing" | grep -v -e '^Error relocating .*: napi_[a-z0-9_]*: symbol not found$' -e '=>' -e "^[[:space:]]*$loader" || true)"
[ -z "$others" ] || bad "musl's loader reports: $others"
[ -n "$unresolved" ] || bad "musl's loader resolved every symbol, Node-API ones included: not a Node addon?"
imports="$(nm -D --undefined-only "$binary" | awk '$1 == "U" { print $2 }' | grep -v '^napi_' | sort -u)"
missing="$(comm -23 <(printf '%s\n' "$imports") <(nm -D --defined-only "$musl_libc" | awk '{ print $3 }' | sort -u))"
[ -z "$missing" ] || bad "imports symbols musl's libc lacks: $(echo $missing)"

echo "check-musl: $binary: $kind"
echo "check-musl: needs [${needed% }], no glibc symbol version; musl's loader maps it and leaves only" \
  "$(printf '%s\n' "$unresolved" | wc -l) Node-API symbols unresolved; its $(printf '%s\n' "$imports" | wc -l) other imports are all in musl's libc"
