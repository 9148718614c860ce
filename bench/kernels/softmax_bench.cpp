// Softmax over the last dim of [rows, cols]: [n/1024, 1024] for n = 1e3..1e7, plus
// attention-score shapes [B*H*T, T].
#include "bench_util.h"

namespace fm::bench {
namespace {

void BM_softmax(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t rows = state.range(0), cols = state.range(1);
  const Tensor x = random_input({rows, cols}, 7);
  for (auto _ : state) {
    Tensor y = softmax(x, -1);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2.0 * rows * cols * sizeof(float));
  set_items(state, rows * cols);
}
BENCHMARK(BM_softmax)
    ->Args({1, 1024})->Args({10, 1024})->Args({100, 1024})->Args({1000, 1024})->Args({10000, 1024})
    ->Args({8 * 256, 256})   // attention scores: 8 heads x 256 frames
    ->UseRealTime();

void BM_log_softmax(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t rows = state.range(0), cols = state.range(1);
  const Tensor x = random_input({rows, cols}, 8);
  for (auto _ : state) {
    Tensor y = log_softmax(x, -1);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2.0 * rows * cols * sizeof(float));
  set_items(state, rows * cols);
}
BENCHMARK(BM_log_softmax)->Args({100, 1024})->Args({10000, 1024})->UseRealTime();

}  // namespace
}  // namespace fm::bench
