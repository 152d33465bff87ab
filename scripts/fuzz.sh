#!/usr/bin/env bash
# `make fuzz`: every fuzz target (fuzz/) under libFuzzer with ASan and UBSan (clang-14), each for
# FUZZ_SECONDS (default 60), FUZZ_PARALLEL at a time (default: the number of cores). Each starts from its seed
# corpus (fuzz/corpus/<target>) and keeps what it finds in build-fuzz/corpus/<target>, so a second run goes on
# from there. Crashing inputs land in fuzz-results/<target>/; fuzz-results/summary.json and the table printed
# at the end give executions, coverage and crashes per target. Exits non-zero when any target crashed.
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS="journal fix_parent"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
parallel=${FUZZ_PARALLEL:-$(nproc)}
results=$root/fuzz-results
cxx=${FUZZ_CXX:-clang++-14}

command -v "$cxx" >/dev/null || { echo "fuzz: $cxx is missing (scripts/install-deps.sh installs clang-14)" >&2; exit 2; }
if [ ! -f "$build/build.ninja" ]; then
  echo "fuzz: configuring $build ($cxx, libFuzzer, ASan + UBSan)" >&2
  cmake -S "$root" -B "$build" -G Ninja -Wno-dev -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DTRANCHE_FUZZ=ON -DTRANCHE_SANITIZE=ON \
    -DTRANCHE_BENCH=OFF >/dev/null
fi
cmake --build "$build" --target fuzz_targets -j "$(nproc)"

targets=${FUZZ_TARGETS:-$(cd "$root/fuzz/corpus" && ls | tr "\n" " ")}
mkdir -p "$results"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local target=$1 work=$build/corpus/$1 out=$results/$1
  mkdir -p "$work" "$out"
  rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*
  # -timeout: an input running over 20 s is a hang; -rss_limit_mb: a target holding over 4 GiB is a leak.
  "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=4096 \
    -artifact_prefix="$out/" "$work" "$root/fuzz/corpus/$target" >"$results/$target.log" 2>&1 || true
}

echo "fuzz: ${seconds}s per target, $parallel at a time: $targets" >&2
running=0
for target in $targets; do
  [ -x "$build/fuzz/fuzz_$target" ] || { echo "fuzz: no target fuzz_$target" >&2; exit 2; }
  run_one "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

failed=0
printf '%-16s %14s %10s %10s %8s %8s\n' target executions exec/s coverage features crashes >&2
json="{\"seconds\": $seconds, \"targets\": {"
sep=""
for target in $targets; do
  log=$results/$target.log
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  crashes=$(find "$results/$target" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  [ "$crashes" -eq 0 ] || failed=1
  printf '%-16s %14s %10s %10s %8s %8s\n' "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes" >&2
  json+="$sep\"$target\": {\"executions\": ${execs:-null}, \"exec_per_second\": ${rate:-null}, \"coverage_edges\": ${cov:-null}, \"features\": ${ft:-null}, \"crashes\": $crashes}"
  sep=", "
done
json+="}}"
echo "$json" >"$results/summary.json"
echo "fuzz: logs and crashing inputs in $results/, summary in $results/summary.json" >&2
exit $failed
