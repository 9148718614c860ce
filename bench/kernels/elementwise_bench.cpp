// Elementwise float32 ops through the public API (fm::add, fm::mul, fm::gelu), 1e3..1e7 elements.
#include "bench_util.h"

namespace fm::bench {
namespace {

void BM_add(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t n = state.range(0);
  const Tensor a = random_input({n}, 1), b = random_input({n}, 2);
  for (auto _ : state) {
    Tensor y = add(a, b);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 3.0 * n * sizeof(float));
  set_items(state, n);
}
BENCHMARK(BM_add)->Apply(decade_sizes)->UseRealTime();

void BM_mul(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t n = state.range(0);
  const Tensor a = random_input({n}, 1), b = random_input({n}, 2);
  for (auto _ : state) {
    Tensor y = mul(a, b);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 3.0 * n * sizeof(float));
  set_items(state, n);
}
BENCHMARK(BM_mul)->Apply(decade_sizes)->UseRealTime();

// bias add: [n/1024, 1024] + [1024] (broadcast along rows), the layer-bias pattern
void BM_add_bias(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t n = state.range(0), cols = 1024, rows = std::max<int64_t>(1, n / cols);
  const Tensor a = random_input({rows, cols}, 1), b = random_input({cols}, 2);
  for (auto _ : state) {
    Tensor y = add(a, b);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, (2.0 * rows * cols + cols) * sizeof(float));
  set_items(state, rows * cols);
}
BENCHMARK(BM_add_bias)->Arg(10240)->Arg(1024000)->Arg(10240000)->UseRealTime();

void BM_gelu(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t n = state.range(0);
  const Tensor x = random_input({n}, 3);
  for (auto _ : state) {
    Tensor y = gelu(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2.0 * n * sizeof(float));
  set_items(state, n);
}
BENCHMARK(BM_gelu)->Apply(decade_sizes)->UseRealTime();

void BM_exp(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t n = state.range(0);
  const Tensor x = random_input({n}, 3);
  for (auto _ : state) {
    Tensor y = exp(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2.0 * n * sizeof(float));
  set_items(state, n);
}
BENCHMARK(BM_exp)->Arg(1000)->Arg(100000)->Arg(10000000)->UseRealTime();

}  // namespace
}  // namespace fm::bench
