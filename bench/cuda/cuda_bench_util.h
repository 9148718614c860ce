#pragma once
// Timing of CUDA work for fermata_bench: each iteration is bracketed by device events and
// reported as manual time (UseManualTime), so host launch overhead that overlaps device work is
// not counted and asynchronous work is not missed. Counters for scripts/gpu_bench_table.py:
// "bytes" (the fewest bytes the op must move: inputs once, outputs once) and "flops" per
// iteration, beside the GB/s and GFLOP/s rates of bench_util.h.
#ifdef FERMATA_WITH_CUDA
#include "bench_util.h"
#include "tensor/cuda_runtime.h"

namespace fm::bench {

// Runs `body` once per iteration between two events on the current stream; a few warm-up
// runs first keep module loading and handle creation out of the numbers.
template <class F>
void time_cuda(benchmark::State& state, F&& body) {
  NoGradGuard ng;
  for (int i = 0; i < 3; ++i) body();
  cuda_synchronize();
  CudaEvent start, stop;
  const cudaStream_t s = cuda_current_stream();
  for (auto _ : state) {
    start.record(s);
    body();
    stop.record(s);
    stop.synchronize();
    state.SetIterationTime(static_cast<double>(start.elapsed_ms(stop)) / 1e3);
  }
}

inline void cuda_counters(benchmark::State& state, double bytes, double flops = 0) {
  set_bytes(state, bytes);
  state.counters["bytes"] = bytes;
  if (flops > 0) {
    set_flops(state, flops);
    state.counters["flops"] = flops;
  }
}

inline Tensor cuda_input(const Shape& shape, uint64_t seed, DType dt = DType::Float32) {
  return to(random_input(shape, seed), dt, Device::cuda());
}

// Skips the benchmark (with the reason) on a machine without a GPU.
#define FM_BENCH_SKIP_WITHOUT_GPU(state)                              \
  if (::fm::cuda_device_count() == 0) {                               \
    (state).SkipWithError("no CUDA device on this machine");          \
    return;                                                           \
  }

}  // namespace fm::bench
#endif
