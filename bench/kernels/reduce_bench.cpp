// Reductions: sum over everything of [n], and sum over the last dim of [n/1024, 1024].
#include "bench_util.h"

namespace fm::bench {
namespace {

void BM_sum_all(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t n = state.range(0);
  const Tensor x = random_input({n}, 4);
  for (auto _ : state) {
    Tensor y = sum(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 1.0 * n * sizeof(float));
  set_items(state, n);
}
BENCHMARK(BM_sum_all)->Apply(decade_sizes)->UseRealTime();

// args: rows, cols; sum over cols
void BM_sum_lastdim(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t rows = state.range(0), cols = state.range(1);
  const Tensor x = random_input({rows, cols}, 5);
  for (auto _ : state) {
    Tensor y = sum(x, {-1});
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, (1.0 * rows * cols + rows) * sizeof(float));
  set_items(state, rows * cols);
}
BENCHMARK(BM_sum_lastdim)
    ->Args({1, 1024})->Args({10, 1024})->Args({100, 1024})->Args({1000, 1024})->Args({10000, 1024})
    ->UseRealTime();

// args: rows, cols; sum over rows (the bias-gradient pattern)
void BM_sum_firstdim(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t rows = state.range(0), cols = state.range(1);
  const Tensor x = random_input({rows, cols}, 6);
  for (auto _ : state) {
    Tensor y = sum(x, {0});
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, (1.0 * rows * cols + cols) * sizeof(float));
  set_items(state, rows * cols);
}
BENCHMARK(BM_sum_firstdim)->Args({100, 1024})->Args({10000, 1024})->UseRealTime();

}  // namespace
}  // namespace fm::bench
