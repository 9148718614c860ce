// CUDA elementwise kernels, v1 and v2 (the last argument), on 16M and 64M float32 elements
// (64 and 256 MB: past the 50 MB L2, so device memory is what is measured) and the 4097-wide
// broadcast a bias add sees.
#ifdef FERMATA_WITH_CUDA
#include "cuda/cuda_bench_util.h"
#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"

namespace fm::bench {
namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

template <UnaryOp Op>
void BM_cuda_unary(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t n = state.range(0);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(1)));
  const Tensor x = cuda_input({n}, 2);
  const Tensor y = empty({n}, {.device = Device::cuda()});
  time_cuda(state, [&] { kernels::unary_into(Op, y, x); });
  kernels::cuda::set_kernel_variant(2);
  cuda_counters(state, 2.0 * n * sizeof(float));
}
BENCHMARK(BM_cuda_unary<UnaryOp::Exp>)->Name("BM_cuda_exp")->ArgsProduct({{1 << 24, 1 << 26}, {1, 2}})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_cuda_unary<UnaryOp::Gelu>)->Name("BM_cuda_gelu")->ArgsProduct({{1 << 24}, {1, 2}})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

// a [rows, cols] + b [cols] (cols = 1: a scalar); bytes: a and out once, b once.
void BM_cuda_add(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t rows = state.range(0), cols = state.range(1), bcols = state.range(2);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(3)));
  const Tensor a = cuda_input({rows, cols}, 3), b = cuda_input({bcols}, 4);
  const Tensor y = empty({rows, cols}, {.device = Device::cuda()});
  time_cuda(state, [&] { kernels::binary_into(BinaryOp::Add, y, a, b); });
  kernels::cuda::set_kernel_variant(2);
  cuda_counters(state, (2.0 * rows * cols + bcols) * sizeof(float));
}
BENCHMARK(BM_cuda_add)
    ->ArgsProduct({{4096}, {4096}, {4096}, {1, 2}})  // broadcast bias over rows
    ->ArgsProduct({{4096}, {4096}, {1}, {1, 2}})     // scalar
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

// same-shape a + b
void BM_cuda_add_same(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t n = state.range(0);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(1)));
  const Tensor a = cuda_input({n}, 5), b = cuda_input({n}, 6);
  const Tensor y = empty({n}, {.device = Device::cuda()});
  time_cuda(state, [&] { kernels::binary_into(BinaryOp::Add, y, a, b); });
  kernels::cuda::set_kernel_variant(2);
  cuda_counters(state, 3.0 * n * sizeof(float));
}
BENCHMARK(BM_cuda_add_same)->ArgsProduct({{1 << 24}, {1, 2}})->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fm::bench
#endif
