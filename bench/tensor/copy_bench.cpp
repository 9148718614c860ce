// This machine's memory bandwidth, and fermata's copies measured against it.
//   memcpy      : glibc memcpy into a preallocated buffer, one thread (the classic yardstick)
//   memcpy_omp  : the same bytes split across the OpenMP threads (what the kernels can reach)
//   clone       : fm::clone (allocates the output, then copies; what an op's output costs)
//   contiguous_t: fm::contiguous of a transposed [s, s] view (a strided gather)
#include <cstring>
#include <vector>

#include "bench_util.h"

namespace fm::bench {
namespace {

void BM_memcpy(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> src(n, 1.0f), dst(n, 0.0f);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, 2.0 * n * sizeof(float));
  set_items(state, n);
}
BENCHMARK(BM_memcpy)->Arg(1000000)->Arg(10000000)->Arg(30000000)->UseRealTime();

void BM_memcpy_omp(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> src(n), dst(n);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) src[i] = 1.0f, dst[i] = 0.0f;  // first touch by the owner
  for (auto _ : state) {
#pragma omp parallel
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t chunk = (n + nt - 1) / nt, b = std::min(n, chunk * t), e = std::min(n, b + chunk);
      if (b < e) std::memcpy(dst.data() + b, src.data() + b, (e - b) * sizeof(float));
    }
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, 2.0 * n * sizeof(float));
  set_items(state, n);
}
BENCHMARK(BM_memcpy_omp)->Arg(1000000)->Arg(10000000)->Arg(30000000)->UseRealTime();

void BM_clone(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t n = state.range(0);
  const Tensor x = random_input({n});
  for (auto _ : state) {
    Tensor y = clone(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2.0 * n * sizeof(float));
  set_items(state, n);
}
BENCHMARK(BM_clone)->Arg(1000)->Arg(100000)->Arg(10000000)->UseRealTime();

void BM_contiguous_t(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t s = state.range(0);
  const Tensor x = transpose(random_input({s, s}), 0, 1);
  for (auto _ : state) {
    Tensor y = contiguous(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2.0 * s * s * sizeof(float));
  set_items(state, s * s);
}
BENCHMARK(BM_contiguous_t)->Arg(256)->Arg(1024)->Arg(3162)->UseRealTime();

}  // namespace
}  // namespace fm::bench
