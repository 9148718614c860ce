#!/usr/bin/env bash
# Run on a machine with an NVIDIA GPU: builds with CUDA forced on, runs the gpu-labelled tests
# (then everything else), and the benchmarks, printing the device first so figures can be
# recorded with it in docs/PERFORMANCE.md. Ends with one table of the CUDA kernels: kernel,
# shape, our time, the yardstick's, their ratio and the fraction of the roofline
# (scripts/gpu_bench_table.py). SKIP_DEPS=1 skips install-deps.sh, SKIP_CPU_TESTS=1 the
# non-gpu tests, BENCH_FILTER narrows the benchmarks (default: the CUDA ones).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-gpu}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
[ "${SKIP_DEPS:-0}" = 1 ] || bash scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFERMATA_CUDA=ON -DFERMATA_BUILD_BENCH=ON ${CMAKE_FLAGS:-}
cmake --build "$build" -j"$(nproc)"
status=0
ctest --test-dir "$build" -L gpu --output-on-failure || status=1
if [ "${SKIP_CPU_TESTS:-0}" != 1 ]; then
  ctest --test-dir "$build" -LE gpu --output-on-failure -j"$(nproc)" || status=1
fi
if [ -x "$build/bench/fermata_bench" ]; then
  json="$build/gpu-bench.json"
  "$build/bench/fermata_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_counters_tabular=true --benchmark_filter="${BENCH_FILTER:-BM_cuda_}" \
    --benchmark_out="$json" --benchmark_out_format=json
  echo
  python3 scripts/gpu_bench_table.py "$json" || status=1
fi
exit $status
