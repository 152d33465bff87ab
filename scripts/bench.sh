#!/usr/bin/env bash
# `make bench`: every benchmark binary, Google Benchmark JSON into bench-results/, a short summary on the terminal.
set -euo pipefail
build=${1:-build}
mkdir -p bench-results
for bin in "$build"/bench/*_bench; do
  name=$(basename "$bin")
  echo "== $name" >&2
  "$bin" --benchmark_out="bench-results/$name.json" --benchmark_out_format=json --benchmark_counters_tabular=true
done
echo "results: bench-results/*.json" >&2
