// Matrix products through fm::matmul / fm::bmm (OpenBLAS sgemm underneath).
#include "bench_util.h"

namespace fm::bench {
namespace {

void report_mm(benchmark::State& state, double batch, double m, double k, double n) {
  set_flops(state, 2.0 * batch * m * n * k);
  set_bytes(state, batch * (m * k + k * n + m * n) * sizeof(float));
}

// square: [s, s] @ [s, s]
void BM_matmul(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t s = state.range(0);
  const Tensor a = random_input({s, s}, 9), b = random_input({s, s}, 10);
  for (auto _ : state) {
    Tensor y = matmul(a, b);
    benchmark::DoNotOptimize(y.raw_data());
  }
  report_mm(state, 1, s, s, s);
}
BENCHMARK(BM_matmul)->RangeMultiplier(2)->Range(64, 1024)->UseRealTime();

// music shapes: args m, k, n
//   [128 x 2048] @ [2048 x 128]  : a projection of 128 frames of 2048-bin spectra
//   [1024 x 512] @ [512 x 2048]  : a transformer feed-forward layer over 1024 tokens
//   [2048 x 229] @ [229 x 256]   : piano-transcription front end (229 mel bins)
void BM_matmul_shape(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const Tensor a = random_input({m, k}, 11), b = random_input({k, n}, 12);
  for (auto _ : state) {
    Tensor y = matmul(a, b);
    benchmark::DoNotOptimize(y.raw_data());
  }
  report_mm(state, 1, m, k, n);
}
BENCHMARK(BM_matmul_shape)
    ->Args({128, 2048, 128})->Args({1024, 512, 2048})->Args({2048, 229, 256})
    ->UseRealTime();

// attention scores: [B*H, T, d] @ [B*H, d, T]; args BH, T, d
void BM_bmm(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t bh = state.range(0), t = state.range(1), d = state.range(2);
  const Tensor q = random_input({bh, t, d}, 13), k = random_input({bh, d, t}, 14);
  for (auto _ : state) {
    Tensor y = bmm(q, k);
    benchmark::DoNotOptimize(y.raw_data());
  }
  report_mm(state, bh, t, d, t);
}
BENCHMARK(BM_bmm)->Args({32, 256, 64})->Args({64, 128, 32})->UseRealTime();

}  // namespace
}  // namespace fm::bench
