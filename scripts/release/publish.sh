#!/usr/bin/env bash
# Publishes the platform packages, then the main package with its optionalDependencies at the
# exact version (the release workflow's last step; `--dry-run` packs and checks without
# publishing). Each package's prepack refuses a tarball without its binary, types or LICENSE.
#   bash scripts/release/publish.sh [--dry-run] [<platform>...]    (default: every napi target)
# package.json is restored afterwards. Provenance is attested when run by GitHub Actions (which holds the OIDC token it needs).
set -euo pipefail
cd "$(dirname "$0")/../.."

flags=(--access public)
if [ "${1:-}" = --dry-run ]; then flags+=(--dry-run); shift; fi
if [ "${GITHUB_ACTIONS:-}" = true ]; then flags+=(--provenance); fi
saved="$(mktemp)"
cp package.json "$saved"
trap 'cp "$saved" package.json; rm -f "$saved"' EXIT
mapfile -t platforms < <(if [ $# -gt 0 ]; then printf '%s\n' "$@"; else node scripts/release/targets.mjs list | cut -d' ' -f2; fi)

# Provenance requires each package to name the repository it was built from.
if [ -n "${GITHUB_REPOSITORY:-}" ]; then
  for dir in . "${platforms[@]/#/npm/}"; do
    (cd "$dir" && npm pkg set repository.type=git "repository.url=git+https://github.com/$GITHUB_REPOSITORY.git")
  done
fi

for platform in "${platforms[@]}"; do
  echo "publish npm/$platform"
  (cd "npm/$platform" && npm publish "${flags[@]}")
done
node scripts/release/optional-deps.mjs
echo "publish the main package"
npm publish "${flags[@]}"
