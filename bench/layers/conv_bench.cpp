// conv2d forward + backward (gradients of input, weight and bias) at the blog's spectrogram
// CNN shapes, batch 8, float32. Compare with PyTorch: /usr/bin/python3 bench/compare_torch_conv.py
// (same shapes, same work). GFLOP/s counts 3x the forward's 2*N*O*Ho*Wo*(C/groups)*kh*kw:
// the forward, the input gradient and the weight gradient are one GEMM's worth each.
#include "bench_util.h"

namespace fm::bench {
namespace {

// args: C, O, H, W, kh, kw, pad_h, pad_w (plain numbers, no ArgNames: compare_torch.py parses
// every argument as an int and skips the conv benchmarks, which compare_torch_conv.py covers)
void BM_conv2d_fwd_bwd(benchmark::State& state) {
  const int64_t C = state.range(0), O = state.range(1), H = state.range(2), W = state.range(3);
  const int64_t kh = state.range(4), kw = state.range(5), ph = state.range(6), pw = state.range(7);
  const int64_t N = 8;
  Tensor x = random_input({N, C, H, W}, 1).requires_grad_(true);
  Tensor w = mul(random_input({O, C, kh, kw}, 2), 0.05).detach().requires_grad_(true);
  Tensor b = mul(random_input({O}, 3), 0.05).detach().requires_grad_(true);
  const int64_t Ho = H + 2 * ph - kh + 1, Wo = W + 2 * pw - kw + 1;
  const Tensor g = random_input({N, O, Ho, Wo}, 4);
  for (auto _ : state) {
    Tensor y = conv2d(x, w, b, 1, {ph, pw});
    auto grads = autograd::grad({y}, {x, w, b}, {g});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  set_flops(state, 3.0 * 2.0 * N * O * Ho * Wo * C * kh * kw);
}
BENCHMARK(BM_conv2d_fwd_bwd)
    ->Args({1, 64, 128, 130, 3, 3, 1, 1})
    ->Args({64, 128, 64, 65, 12, 1, 0, 0})
    ->Args({64, 128, 64, 65, 1, 7, 0, 0})
    ->Args({256, 256, 64, 65, 3, 3, 1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// forward only (no graph), the same shapes
void BM_conv2d_fwd(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t C = state.range(0), O = state.range(1), H = state.range(2), W = state.range(3);
  const int64_t kh = state.range(4), kw = state.range(5), ph = state.range(6), pw = state.range(7);
  const int64_t N = 8;
  const Tensor x = random_input({N, C, H, W}, 1), w = mul(random_input({O, C, kh, kw}, 2), 0.05);
  const Tensor b = random_input({O}, 3);
  const int64_t Ho = H + 2 * ph - kh + 1, Wo = W + 2 * pw - kw + 1;
  for (auto _ : state) {
    Tensor y = conv2d(x, w, b, 1, {ph, pw});
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_flops(state, 2.0 * N * O * Ho * Wo * C * kh * kw);
}
BENCHMARK(BM_conv2d_fwd)
    ->Args({1, 64, 128, 130, 3, 3, 1, 1})
    ->Args({64, 128, 64, 65, 12, 1, 0, 0})
    ->Args({64, 128, 64, 65, 1, 7, 0, 0})
    ->Args({256, 256, 64, 65, 3, 3, 1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace fm::bench
