# Sourced by the release scripts: helpers that install what a step needs, or say in one line
# what could not be had and fail. Nothing is skipped silently.
#   RELEASE_TOOLS_DIR  where zig, cargo-zigbuild and actionlint go (default .cache/release-tools)

RELEASE_TOOLS_DIR="${RELEASE_TOOLS_DIR:-$PWD/.cache/release-tools}"

# refused WHAT: the one line that says a download was refused, then fail.
refused() {
  echo "refused: $* could not be downloaded on this machine; cannot go on without it" >&2
  exit 1
}

# A Rust target's standard library (rustup target add), idempotent.
need_rust_target() {
  local triple="$1"
  # (grep without -q: an early exit would fail the pipeline under pipefail)
  rustup target list --installed 2>/dev/null | grep -x "$triple" >/dev/null && return 0
  rustup target add "$triple" >/dev/null 2>&1 || refused "the Rust standard library for $triple (rustup target add $triple)"
}

# A private Python environment for the release tools (Debian's python refuses pip --user).
tools_python() {
  if [ ! -x "$RELEASE_TOOLS_DIR/venv/bin/pip" ]; then
    mkdir -p "$RELEASE_TOOLS_DIR"
    python3 -m venv "$RELEASE_TOOLS_DIR/venv" || { echo "python3 -m venv failed" >&2; exit 1; }
  fi
  echo "$RELEASE_TOOLS_DIR/venv/bin"
}

# zig (PyPI's ziglang) and cargo-zigbuild (its PyPI wheel), on PATH afterwards.
need_zig() {
  local bin
  bin="$(tools_python)"
  if [ ! -x "$bin/cargo-zigbuild" ] || ! "$bin/python" -c 'import ziglang' 2>/dev/null; then
    "$bin/pip" install -q --only-binary=:all: "ziglang==${ZIGLANG_VERSION:-0.17.1}" "cargo-zigbuild==${CARGO_ZIGBUILD_VERSION:-0.24.1}" \
      >/dev/null 2>&1 || refused "ziglang and cargo-zigbuild from PyPI"
  fi
  # cargo-zigbuild finds zig through `python3 -m ziglang` when no zig is on PATH.
  export PATH="$bin:$PATH"
}
