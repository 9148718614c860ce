// CUDA fused attention (kernels/attention.h), float32, v1 and v2 (the last argument): the
// Transformer's shape, B = 8 sequences x 8 heads, L = S = 1024, head dims 64 and 128, causal
// or not. flops: 4 L S E per head (Q K^T and P V; halved when causal); bytes: q, k, v read and
// out written once. The backward (v1's kernels for both variants) is BM_cuda_attention_backward.
#ifdef FERMATA_WITH_CUDA
#include "cuda/cuda_bench_util.h"
#include "kernels/attention.h"
#include "kernels/cuda/ops.h"

namespace fm::bench {
namespace {

void BM_cuda_attention(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t B = 64, L = 1024, S = 1024, E = state.range(0);
  const bool causal = state.range(1) != 0;
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(2)));
  const Tensor q = cuda_input({B, L, E}, 21), k = cuda_input({B, S, E}, 22), v = cuda_input({B, S, E}, 23);
  const double scale = 1.0 / std::sqrt(static_cast<double>(E));
  time_cuda(state, [&] {
    benchmark::DoNotOptimize(kernels::flash_attention_forward(q, k, v, scale, causal, Tensor()).first.raw_data());
  });
  kernels::cuda::set_kernel_variant(2);
  const double flops = 4.0 * B * L * S * E * (causal ? 0.5 : 1.0);
  cuda_counters(state, 4.0 * B * L * E * sizeof(float), flops);
}
BENCHMARK(BM_cuda_attention)
    ->ArgsProduct({{64, 128}, {0, 1}, {1, 2}})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_cuda_attention_backward(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t B = 64, L = 1024, S = 1024, E = state.range(0);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(1)));
  const Tensor q = cuda_input({B, L, E}, 24), k = cuda_input({B, S, E}, 25), v = cuda_input({B, S, E}, 26);
  const Tensor g = cuda_input({B, L, E}, 27);
  const double scale = 1.0 / std::sqrt(static_cast<double>(E));
  const auto [out, lse] = kernels::flash_attention_forward(q, k, v, scale, false, Tensor());
  time_cuda(state, [&] {
    const auto [dq, dk, dv] = kernels::flash_attention_backward(q, k, v, out, lse, g, scale, false, Tensor());
    benchmark::DoNotOptimize(dq.raw_data());
  });
  kernels::cuda::set_kernel_variant(2);
  // recomputes Q K^T twice (both passes) and dO V^T twice, plus dQ, dK, dV products
  cuda_counters(state, 8.0 * B * L * E * sizeof(float), 2.0 * B * L * S * E * 7);
}
BENCHMARK(BM_cuda_attention_backward)->ArgsProduct({{64, 128}, {1, 2}})->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fm::bench
#endif
