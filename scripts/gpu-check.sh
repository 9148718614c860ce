#!/usr/bin/env bash
# Run on a machine with an NVIDIA GPU: builds with CUDA forced on, runs the gpu-labelled tests
# (then everything else), and the benchmarks, printing the device first so figures can be
# recorded with it in docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-gpu}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
bash scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFERMATA_CUDA=ON ${CMAKE_FLAGS:-}
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" -L gpu --output-on-failure
ctest --test-dir "$build" -LE gpu --output-on-failure -j"$(nproc)"
if [ -x "$build/bench/fermata_bench" ]; then
  "$build/bench/fermata_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_counters_tabular=true ${BENCH_FILTER:+--benchmark_filter="$BENCH_FILTER"}
fi
