#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for FUZZ_SECONDS seconds each (default 60), one after
# another, and prints per target the seconds run, the executions and the verdict. Exits non-zero
# when any target finds a crash (the input is left in fuzz/artifacts/<target>/).
#
#   FUZZ_SECONDS=600 scripts/fuzz.sh              every target, 10 minutes each
#   FUZZ_TARGETS="sink utf8" scripts/fuzz.sh      a subset
#
# New corpus entries go to fuzz/target/corpus/<target> (not versioned); the seeds in
# fuzz/corpus/<target> are only read.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${FUZZ_SECONDS:-60}"
read -r -a targets <<< "${FUZZ_TARGETS:-sink header utf8 utf16 close handshake negotiation inflate}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

# cargo-fuzz passes nightly-only flags (-Zsanitizer, ...) to rustc: the stable toolchain accepts
# them when bootstrapping is allowed.
export RUSTC_BOOTSTRAP=1

# AddressSanitizer when the toolchain supports it here, otherwise plain libFuzzer.
sanitizer=(-s address)
if ! cargo fuzz build "${sanitizer[@]}" "${targets[0]}" >/dev/null 2>&1; then
  echo "fuzz: AddressSanitizer build failed, fuzzing without a sanitizer"
  sanitizer=(-s none)
  cargo fuzz build "${sanitizer[@]}"
else
  cargo fuzz build "${sanitizer[@]}"
fi

logs="target/fuzz-logs"
mkdir -p "$logs"
failed=()
summary=()
for target in "${targets[@]}"; do
  mkdir -p "target/corpus/$target" "corpus/$target"
  log="$logs/$target.log"
  start=$(date +%s)
  status=0
  cargo fuzz run "${sanitizer[@]}" "$target" "target/corpus/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -max_len=4096 -print_final_stats=1 >"$log" 2>&1 || status=$?
  elapsed=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
  if [ -z "$elapsed" ]; then
    elapsed=$(( $(date +%s) - start ))
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ -z "$execs" ]; then
    # A crash ends the run before the final stats: take the last progress line's count.
    execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
  fi
  if [ "$status" -eq 0 ]; then
    verdict="ok"
  else
    verdict="CRASH (exit $status, see fuzz/$log and fuzz/artifacts/$target/)"
    failed+=("$target")
  fi
  line=$(printf '%-10s %5ss %12s execs  %s' "$target" "$elapsed" "${execs:-?}" "$verdict")
  echo "fuzz: $line"
  summary+=("$line")
done

echo
echo "fuzz summary (${seconds}s per target, sanitizer ${sanitizer[1]}):"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]}" >&2
  exit 1
fi
