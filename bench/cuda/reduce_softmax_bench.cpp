// CUDA reductions and softmax, v1 and v2 (the last argument), float32: a sum over all of 64M
// elements (the two-pass path), row sums of [4096, 4096], column sums, and softmax forward and
// backward over rows of 1024 and 4097 (attention-score and vocabulary widths).
#ifdef FERMATA_WITH_CUDA
#include "cuda/cuda_bench_util.h"
#include "kernels/cuda/ops.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"

namespace fm::bench {
namespace {

// dim -1: all dims; 0 or 1: that dim of [rows, cols]
void BM_cuda_sum(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t rows = state.range(0), cols = state.range(1), dim = state.range(2);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(3)));
  const Tensor x = cuda_input({rows, cols}, 7);
  const std::vector<bool> mask = dim < 0 ? std::vector<bool>{true, true} : std::vector<bool>{dim == 0, dim == 1};
  time_cuda(state, [&] { benchmark::DoNotOptimize(kernels::reduce(kernels::ReduceOp::Sum, x, mask, false).raw_data()); });
  kernels::cuda::set_kernel_variant(2);
  const int64_t outs = dim < 0 ? 1 : (dim == 0 ? cols : rows);
  cuda_counters(state, (1.0 * rows * cols + outs) * sizeof(float));
}
BENCHMARK(BM_cuda_sum)
    ->ArgsProduct({{8192}, {8192}, {-1, 0, 1}, {1, 2}})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_cuda_softmax(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t rows = state.range(0), cols = state.range(1);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(2)));
  const Tensor x = cuda_input({rows, cols}, 8);
  time_cuda(state, [&] { benchmark::DoNotOptimize(kernels::softmax(x, -1).raw_data()); });
  kernels::cuda::set_kernel_variant(2);
  cuda_counters(state, 2.0 * rows * cols * sizeof(float));
}
BENCHMARK(BM_cuda_softmax)
    ->ArgsProduct({{16384}, {1024}, {1, 2}})
    ->ArgsProduct({{4096}, {4097}, {1, 2}})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_cuda_softmax_backward(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t rows = state.range(0), cols = state.range(1);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(2)));
  const Tensor x = cuda_input({rows, cols}, 9), g = cuda_input({rows, cols}, 10);
  const Tensor y = kernels::softmax(x, -1);
  time_cuda(state, [&] { benchmark::DoNotOptimize(kernels::softmax_backward(g, y, -1).raw_data()); });
  kernels::cuda::set_kernel_variant(2);
  cuda_counters(state, 3.0 * rows * cols * sizeof(float));
}
BENCHMARK(BM_cuda_softmax_backward)
    ->ArgsProduct({{16384}, {1024}, {1, 2}})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fm::bench
#endif
