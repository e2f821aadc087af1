#!/usr/bin/env bash
# The install proof: what a user gets from the published packages, made and checked here.
#  1. linux-x64-gnu: build, pack the main package and npm/linux-x64-gnu, install both tarballs
#     into a fresh app with no Rust toolchain on PATH, time npm install -> a running quick-start
#     server, and smoke-test the install under Node 20, Node 24, Bun and Deno;
#  2. the main package alone: the load error names the triple and the package, and its
#     build-from-source command, run as printed, gives a working install;
#  3. aarch64-unknown-linux-gnu: cross-build with zig, pack npm/linux-arm64-gnu, install into a
#     fresh app and smoke-test under qemu-aarch64 with an arm64 Node from npm;
#  4. x86_64-unknown-linux-musl: cross-build with zig and check the artifact (no musl Node here);
#  5. `npm version` moves every package.json, and a publish dry run of the built packages.
# Whatever cannot be downloaded is said in one line, and the proof fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/release/tools.sh
source scripts/install-runtimes.sh
source scripts/release/app.sh

repo="$PWD"
began=$SECONDS
work="$(mktemp -d "${TMPDIR:-/tmp}/daloy-install-proof.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n== [%ss] %s\n' "$((SECONDS - began))" "$*"; }
die() { echo "proof: $*" >&2; exit 1; }

# A PATH with node and npm and the system directories, but no Rust toolchain.
node_dir="$(dirname "$(command -v node)")"
bare_path="$node_dir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
rustless=(env -u CARGO_HOME -u RUSTUP_HOME PATH="$bare_path")
no_rust() { "${rustless[@]}" "$@"; }
for tool in cargo rustc rustup; do
  if no_rust sh -c "command -v $tool" >/dev/null; then die "$tool is on the Rust-free PATH ($bare_path)"; fi
done

export_names "$work/exports.json"

# ---------------------------------------------------------------- 1. linux-x64-gnu
step "build x86_64-unknown-linux-gnu"
bash scripts/release/build.sh x86_64-unknown-linux-gnu
step "pack the main package and npm/linux-x64-gnu"
bash scripts/release/pack.sh "$work/tarballs" linux-x64-gnu
version="$(node -p 'require("./package.json").version')"
main_tgz="$work/tarballs/daloy-ws-native-$version.tgz"
x64_tgz="$work/tarballs/daloy-ws-native-linux-x64-gnu-$version.tgz"

step "install both tarballs into a fresh app, no Rust on PATH; start the quick-start server"
app="$work/app-x64"
new_app "$app"
cat > "$app/server.mjs" <<'JS'
import { App } from 'daloy-ws-native';
import { serve } from 'daloy-ws-native/node';

const app = new App();
app.ws('/echo', { message(conn, data, isBinary) { conn.send(data, { binary: isBinary }); } });
const server = serve(app, { port: 0, hostname: '127.0.0.1' });
await server.ready;
console.log(`listening on ws://127.0.0.1:${server.port}/echo`);
JS
t0=$(date +%s%N)
(cd "$app" && no_rust npm install --no-audit --no-fund "$main_tgz" "$x64_tgz") > "$work/install.log" 2>&1 ||
  { cat "$work/install.log"; die "npm install of the tarballs failed"; }
t1=$(date +%s%N)
if grep -E 'EBADENGINE|gyp|cargo' "$work/install.log"; then die "the install warned or compiled (above)"; fi
(cd "$app" && exec "${rustless[@]}" node server.mjs) > "$work/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 200); do grep -q '^listening on' "$work/server.log" && break; sleep 0.05; done
t2=$(date +%s%N)
grep '^listening on' "$work/server.log" || { cat "$work/server.log"; die "the quick-start server did not start"; }
install_ms=$(((t1 - t0) / 1000000))
ready_ms=$(((t2 - t0) / 1000000))
echo "npm install of the two tarballs: ${install_ms} ms; npm install -> a listening server: ${ready_ms} ms"
ls "$app/node_modules" | grep daloy
kill -TERM "$server_pid"
wait "$server_pid" || die "the server did not exit cleanly on SIGTERM"
if find "$app/node_modules" -name '*.node' | grep -v linux-x64-gnu; then die "binaries of other platforms were installed"; fi

step "smoke test of the x64 install: Node 20, Node 24, Bun, Deno (no Rust on PATH)"
need_node24
need_bun_deno
node_flags=()
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 22 ] || node_flags=(--experimental-websocket)
(cd "$app" && no_rust node "${node_flags[@]}" smoke.mjs "$work/exports.json")
(cd "$app" && no_rust "$NODE24" smoke.mjs "$work/exports.json")
(cd "$app" && no_rust "$BUN" smoke.mjs "$work/exports.json")
(cd "$app" && NO_COLOR=1 no_rust "$DENO" run -A smoke.mjs "$work/exports.json")

# ---------------------------------------------------------------- 2. no binary
step "the main package without its platform package: the load error, then the build it names"
bare="$work/app-bare"
new_app "$bare"
(cd "$bare" && no_rust npm install --no-audit --no-fund --omit=optional "$main_tgz") > "$work/install-bare.log" 2>&1 ||
  { cat "$work/install-bare.log"; die "npm install of the main tarball failed"; }
if (cd "$bare" && no_rust node -e "require('daloy-ws-native')") 2> "$work/error.txt"; then die "loaded without a binary"; fi
sed -n '/^Error: daloy-ws-native/,/^  2\./p' "$work/error.txt"
grep -q 'x86_64-unknown-linux-gnu' "$work/error.txt" || die "the error does not name the triple"
grep -q 'package daloy-ws-native-linux-x64-gnu' "$work/error.txt" || die "the error does not name the package"
build_cmd="$(sed -n 's/^  2\. build it from source[^:]*: //p' "$work/error.txt")"
[ -n "$build_cmd" ] || die "the error gives no build command"
# As printed, with Rust on PATH; the repository's target dir keeps the compiled dependencies.
(cd "$bare" && CARGO_TARGET_DIR="$repo/target/proof-from-source" bash -c "$build_cmd") > "$work/from-source.log" 2>&1 ||
  { tail -n 30 "$work/from-source.log"; die "the build-from-source command failed"; }
(cd "$bare" && no_rust node "${node_flags[@]}" smoke.mjs "$work/exports.json")

# ---------------------------------------------------------------- 3. linux-arm64-gnu
step "cross-build aarch64-unknown-linux-gnu with zig"
bash scripts/release/build.sh aarch64-unknown-linux-gnu
step "pack, install with an arm64 npm and smoke-test on an arm64 Node under qemu"
bash scripts/release/smoke-arm64.sh

# ---------------------------------------------------------------- 4. linux-x64-musl
step "cross-build x86_64-unknown-linux-musl with zig; check the artifact"
bash scripts/release/build.sh x86_64-unknown-linux-musl
bash scripts/release/check-musl.sh npm/linux-x64-musl/daloy-ws-native.linux-x64-musl.node
bash scripts/release/pack.sh "$work/tarballs" linux-x64-musl | tail -n 1

# ---------------------------------------------------------------- 5. version, publish
step "npm version moves every package.json"
bump="$work/bump"
mkdir -p "$bump"
cp package.json "$bump/"
cp -r npm "$bump/npm"
find "$bump/npm" -name '*.node' -delete
(cd "$bump" && git init -q && git add -A && PATH="$repo/node_modules/.bin:$PATH" npm version 9.8.7 --no-git-tag-version >/dev/null)
stale="$(cd "$bump" && grep -L '"version": "9.8.7"' package.json npm/*/package.json || true)"
[ -z "$stale" ] || die "npm version left these behind: $stale"
echo "npm version 9.8.7: package.json and $(ls "$bump"/npm | wc -l) npm/*/package.json at 9.8.7"

step "publish dry run of what was built (the release workflow's last step)"
bash scripts/release/publish.sh --dry-run linux-x64-gnu linux-arm64-gnu linux-x64-musl > "$work/publish.log" 2>&1 ||
  { cat "$work/publish.log"; die "the publish dry run failed"; }
grep -E '^(publish|npm notice (name|version|total files))' "$work/publish.log"

step "done in $((SECONDS - began)) s: npm install of the x64 tarballs ${install_ms} ms, npm install -> listening server ${ready_ms} ms"
