#pragma once
// Shared helpers for fermata_bench. Conventions, used by compare_torch.py too:
//  * every benchmark runs on wall-clock time (UseRealTime): the kernels run on OpenMP threads,
//    so the main thread's CPU time would understate them;
//  * "GB/s" counts the bytes an op must move at least once: inputs read + outputs written
//    (STREAM's convention; write-allocate traffic is not counted);
//  * "GFLOP/s" is reported where arithmetic is the meaningful measure (matmul: 2*m*n*k);
//  * inputs are allocated outside the timed loop; the output is allocated inside it, as it is
//    for the equivalent PyTorch call;
//  * everything runs under NoGradGuard (forward kernels only).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>

#include "fermata.h"

namespace fm::bench {

inline void set_bytes(benchmark::State& state, double bytes_per_iter) {
  state.SetBytesProcessed(static_cast<int64_t>(bytes_per_iter) * state.iterations());
  state.counters["GB/s"] =
      benchmark::Counter(bytes_per_iter / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

inline void set_flops(benchmark::State& state, double flops_per_iter) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iter / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

inline void set_items(benchmark::State& state, int64_t items_per_iter) {
  state.SetItemsProcessed(items_per_iter * state.iterations());
}

// Uniform random float32 data in [-3, 3) (gelu and softmax see realistic magnitudes).
inline Tensor random_input(const Shape& shape, uint64_t seed = 0) {
  Generator g(seed);
  Tensor u = rand(shape, {.dtype = DType::Float32}, &g);
  NoGradGuard ng;
  return add(mul(u, 6.0), -3.0);
}

// 1e3 .. 1e7 elements, the sizes of the elementwise/reduction/softmax tables.
inline void decade_sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n = 1000; n <= 10000000; n *= 10) b->Arg(n);
}

}  // namespace fm::bench
