# Sourced by the install proofs: a fresh app to install tarballs into, and what the smoke test
# (scripts/release/smoke.mjs) checks the installed package against.

# export_names <file>: the export names of each entry point, taken from the source tree.
export_names() {
  node -e '
    const out = {};
    for (const [subpath, file] of [[".", "index"], ["./websocket", "index"], ["./node", "node"], ["./bun", "bun"], ["./deno", "deno"]]) {
      out[subpath] = Object.keys(require(`./${file}.js`));
    }
    require("fs").writeFileSync(process.argv[1], JSON.stringify(out));
  ' "$1"
}

# new_app <dir>: an empty app with the smoke test in it.
new_app() {
  mkdir -p "$1"
  printf '{ "name": "app", "version": "1.0.0", "private": true, "type": "module" }\n' > "$1/package.json"
  cp scripts/release/smoke.mjs "$1/"
}
