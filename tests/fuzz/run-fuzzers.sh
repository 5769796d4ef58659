#!/usr/bin/env bash
# Fuzzes every reader of outside data with libFuzzer (ASan + UBSan), each target for RUNS
# executions (default one million) or SECONDS (default 1800), whichever comes first.
#   cmake --preset fuzz && cmake --build --preset fuzz     # once (clang, libclang-rt-14-dev)
#   tests/fuzz/run-fuzzers.sh [target ...]                 # default: all
# One target by hand: build-fuzz/tests/fuzz/fuzz_npy -runs=1000000 -max_len=65536 NEW_DIR tests/fuzz/corpus/npy
# New inputs go to build-fuzz/corpus/<target> (merge the interesting ones into tests/fuzz/corpus
# with -merge=1); a crash leaves crash-* there: fix it, then keep the input in
# tests/fuzz/regressions/<target>/ so that every build replays it (ctest -R fuzz_corpus).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-1000000}
seconds=${SECONDS_PER_TARGET:-1800}
targets=${*:-checkpoint npy openpose dataset_json patch_layout image depth_points}
failed=()
for t in $targets; do
  bin=build-fuzz/tests/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "$bin is missing: cmake --preset fuzz && cmake --build --preset fuzz" >&2; exit 2; }
  out=build-fuzz/corpus/$t
  mkdir -p "$out" build-fuzz/findings/$t
  echo "== $t: $runs runs or ${seconds}s"
  # Our readers stop at their own size limits; 64 KiB inputs reach every header and table.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" -runs="$runs" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix=build-fuzz/findings/$t/ "$out" tests/fuzz/corpus/$t 2>&1 | grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Done [0-9]+ runs" || true
  if ls build-fuzz/findings/$t/* >/dev/null 2>&1; then
    echo "$t: findings in build-fuzz/findings/$t" >&2
    failed+=("$t")
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "findings: ${failed[*]}" >&2; exit 1; }
