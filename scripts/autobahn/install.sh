#!/usr/bin/env bash
# Installs Autobahn|Testsuite's `wstest` (PyPI autobahntestsuite 25.10.1, which runs on Python 2.7
# only) for scripts/conformance.sh and prints the path of the `wstest` launcher on stdout.
#
#   bash scripts/autobahn/install.sh
#
# Everything goes under $AUTOBAHN_HOME (default: <project>/.cache/autobahn) except Python 2.7
# itself. Debian bookworm no longer ships Python 2.7; bullseye does, and the Debian mirror this
# machine already uses still serves it. So python2.7 and python2.7-dev come from bullseye through an
# apt configuration of this script's own (source list, package lists and cache under
# $AUTOBAHN_HOME/apt): the system's apt sources stay as they are, and the script stops if apt would
# upgrade, downgrade or remove any installed package. That step needs root (or sudo) and runs once.
#
# Then pip 20.3.4 (the last pip for Python 2.7; its wheel fetched with the host's Python 3 pip and
# checked against a pinned SHA-256) installs autobahntestsuite with the versions pinned in
# constraints-py27.txt into a user base under $AUTOBAHN_HOME. Re-running is a no-op once `wstest`
# answers with the expected version.
#
# Environment: AUTOBAHN_HOME; AUTOBAHN_BULLSEYE_SOURCE (an apt source line for bullseye main,
# default: the system's own Debian mirror).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
AUTOBAHN_HOME="${AUTOBAHN_HOME:-$ROOT/.cache/autobahn}"
VERSION=25.10.1
PIP_VERSION=20.3.4
PIP_WHEEL="pip-$PIP_VERSION-py2.py3-none-any.whl"
PIP_WHEEL_SHA256=217ae5161a0e08c0fb873858806e3478c9775caffce5168b50ec885e358c199d
PYTHON2=/usr/bin/python2.7
USER_BASE="$AUTOBAHN_HOME/py27"
LAUNCHER="$AUTOBAHN_HOME/bin/wstest"

say() { printf 'autobahn/install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "root (or sudo) is needed to run: $*"
  fi
}

launcher_works() {
  [ -x "$LAUNCHER" ] && "$LAUNCHER" -a 2>/dev/null | grep -q "AutobahnTestSuite $VERSION"
}

if launcher_works; then
  say "wstest $VERSION already installed"
  echo "$LAUNCHER"
  exit 0
fi
mkdir -p "$AUTOBAHN_HOME/bin" "$AUTOBAHN_HOME/wheels"

# ------------------------------------------------------------------ Python 2.7 from bullseye
python2_ready() {
  [ -x "$PYTHON2" ] && [ -f /usr/include/python2.7/Python.h ] &&
    "$PYTHON2" -c 'import ssl, zlib, ctypes' >/dev/null 2>&1
}

# The first non-security Debian mirror of the system's apt sources (deb822 or one-line format).
# Reads its whole input (no early exit that would SIGPIPE the readers under pipefail) and prints
# exactly one line.
debian_mirror() {
  local found
  found=$({
    sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr ' ' '\n'
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; break } }' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
  } | awk 'NF && $0 !~ /-security/ && !seen { print; seen = 1 }') || true
  echo "${found:-http://deb.debian.org/debian}"
}

if ! python2_ready; then
  command -v apt-get >/dev/null 2>&1 || die "python2.7 is missing and this is not a Debian system"
  SOURCE="${AUTOBAHN_BULLSEYE_SOURCE:-deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) bullseye main}"
  APT_HOME="$AUTOBAHN_HOME/apt"
  mkdir -p "$APT_HOME/lists/partial" "$APT_HOME/cache/archives/partial"
  printf '%s\n' "$SOURCE" > "$APT_HOME/bullseye.list"
  APT=(apt-get
    -o "Dir::Etc::SourceList=$APT_HOME/bullseye.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$APT_HOME/lists"
    -o "Dir::Cache=$APT_HOME/cache"
    -o "APT::Install-Recommends=false"
    -o "APT::Install-Suggests=false")
  say "python2.7 from bullseye ($SOURCE)"
  as_root timeout 600 "${APT[@]}" -q update >&2
  PLAN="$(as_root timeout 300 "${APT[@]}" -s install python2.7 python2.7-dev)"
  printf '%s\n' "$PLAN" | grep -E '^(Inst|Remv|Purg) ' >&2 || true
  # "Inst name [installed version] (...)" replaces a package; Remv/Purg remove one.
  if printf '%s\n' "$PLAN" | grep -Eq '^(Remv|Purg) |^Inst [^ ]+ \['; then
    die "installing python2.7 from bullseye would change installed packages; refusing (plan above)"
  fi
  as_root env DEBIAN_FRONTEND=noninteractive timeout 900 "${APT[@]}" -y -q install python2.7 python2.7-dev >&2
  python2_ready || die "python2.7 is still not usable after installing it"
fi
say "$("$PYTHON2" -V 2>&1)"
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 ||
  die "a C compiler is needed to build wstest's accelerators (wsaccel, ujson)"

# ------------------------------------------------------------------ pip 20.3.4, then wstest
WHEEL="$AUTOBAHN_HOME/wheels/$PIP_WHEEL"
if [ ! -f "$WHEEL" ]; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    say "installing python3-pip to fetch the pip wheel"
    as_root env DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -y -q install --no-install-recommends python3-pip >&2
  fi
  say "fetching $PIP_WHEEL"
  timeout 300 python3 -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 2.7 --dest "$AUTOBAHN_HOME/wheels" "pip==$PIP_VERSION" >&2
fi
echo "$PIP_WHEEL_SHA256  $WHEEL" | sha256sum -c --quiet - >&2 || {
  rm -f "$WHEEL"
  die "$PIP_WHEEL does not have the expected SHA-256"
}

export PYTHONUSERBASE="$USER_BASE"
export PIP_DISABLE_PIP_VERSION_CHECK=1
unset PYTHONPATH PYTHONHOME PYTHONNOUSERSITE PIP_REQUIRE_VIRTUALENV PIP_TARGET PIP_PREFIX PIP_USER || true
# pip runs from its own wheel to install itself (Python 2.7 has no pip of its own here).
say "pip $PIP_VERSION for python2.7 in $USER_BASE"
timeout 600 "$PYTHON2" "$WHEEL/pip" install --user --no-warn-script-location \
  -c "$HERE/constraints-py27.txt" "pip==$PIP_VERSION" setuptools wheel >&2
say "autobahntestsuite $VERSION"
timeout 1800 "$PYTHON2" -m pip install --user --no-warn-script-location \
  -c "$HERE/constraints-py27.txt" "autobahntestsuite==$VERSION" >&2

cat > "$LAUNCHER.tmp" <<LAUNCH
#!/bin/sh
# wstest of Autobahn|Testsuite $VERSION on Python 2.7, installed by scripts/autobahn/install.sh.
unset PYTHONPATH PYTHONHOME PYTHONNOUSERSITE
PYTHONUSERBASE='$USER_BASE' exec '$PYTHON2' '$USER_BASE/bin/wstest' "\$@"
LAUNCH
chmod +x "$LAUNCHER.tmp"
mv -f "$LAUNCHER.tmp" "$LAUNCHER"
launcher_works || die "wstest does not start: $LAUNCHER -a"
say "ready: $LAUNCHER"
echo "$LAUNCHER"
