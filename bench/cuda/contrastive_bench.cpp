// CUDA fused NT-Xent (kernels/contrastive.h), forward and backward, v1 and v2 (the last
// argument), float32, SimCLR's shapes: 2N rows of D = 128 projections, N = 512 and 4096. The
// work is the similarity matrix, recomputed: 2 (2N)^2 D flops forward, twice that backward (the
// similarities again and the weighted sums of rows); the bytes are z read and dz written once.
#ifdef FERMATA_WITH_CUDA
#include "cuda/cuda_bench_util.h"
#include "kernels/contrastive.h"
#include "kernels/cuda/ops.h"

namespace fm::bench {
namespace {

void BM_cuda_nt_xent(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t M = 2 * state.range(0), D = state.range(1);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(2)));
  const Tensor z = cuda_input({M, D}, 31);
  time_cuda(state, [&] { benchmark::DoNotOptimize(std::get<0>(kernels::nt_xent_forward(z, 0.5)).raw_data()); });
  kernels::cuda::set_kernel_variant(2);
  cuda_counters(state, 1.0 * M * D * sizeof(float), 2.0 * M * M * D);
}
BENCHMARK(BM_cuda_nt_xent)->ArgsProduct({{512, 4096}, {128}, {1, 2}})->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_cuda_nt_xent_backward(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t M = 2 * state.range(0), D = state.range(1);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(2)));
  const Tensor z = cuda_input({M, D}, 32);
  const auto [loss, lse, inv] = kernels::nt_xent_forward(z, 0.5);
  const Tensor g = cuda_input({}, 33);
  time_cuda(state, [&] { benchmark::DoNotOptimize(kernels::nt_xent_backward(z, lse, inv, 0.5, g).raw_data()); });
  kernels::cuda::set_kernel_variant(2);
  cuda_counters(state, 2.0 * M * D * sizeof(float), 4.0 * M * M * D);
}
BENCHMARK(BM_cuda_nt_xent_backward)
    ->ArgsProduct({{512, 4096}, {128}, {1, 2}})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fm::bench
#endif
