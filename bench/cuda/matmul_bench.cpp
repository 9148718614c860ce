// CUDA mm through fermata (kernels::mm, which calls cuBLAS) beside a bare cublasSgemm on the
// same sizes: the ratio is fermata's overhead (allocation, layout checks, handle setup). The
// 8192-cube runs give the device's measured float32 (and TF32, last argument 1) peak.
#ifdef FERMATA_WITH_CUDA
#include "cuda/cuda_bench_util.h"
#include "kernels/linalg.h"

namespace fm::bench {
namespace {

void BM_cuda_mm(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  set_cuda_matmul_allow_tf32(state.range(3) != 0);
  const Tensor a = cuda_input({m, k}, 11), b = cuda_input({k, n}, 12);
  time_cuda(state, [&] { benchmark::DoNotOptimize(kernels::mm(a, b).raw_data()); });
  set_cuda_matmul_allow_tf32(false);
  cuda_counters(state, 4.0 * (m * k + k * n + m * n), 2.0 * m * n * k);
}

void BM_cuda_cublas_sgemm(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const Tensor a = cuda_input({m, k}, 11), b = cuda_input({k, n}, 12);
  const Tensor c = empty({m, n}, {.device = Device::cuda()});
  cublasHandle_t h = nullptr;
  FM_CUBLAS_CHECK(cublasCreate(&h), "sgemm bench");
  FM_CUBLAS_CHECK(cublasSetMathMode(h, state.range(3) ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "sgemm bench");
  FM_CUBLAS_CHECK(cublasSetStream(h, cuda_current_stream()), "sgemm bench");
  const float one = 1, zero = 0;
  time_cuda(state, [&] {
    // row-major C = A B as column-major C^T = B^T A^T
    FM_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, static_cast<const float*>(b.raw_data()), n,
                                static_cast<const float*>(a.raw_data()), k, &zero, static_cast<float*>(c.raw_data()), n),
                    "sgemm bench");
  });
  cublasDestroy(h);
  cuda_counters(state, 4.0 * (m * k + k * n + m * n), 2.0 * m * n * k);
}

// music shapes: a conv-as-GEMM of 128 channels over 4096 frames, a 512-wide projection of
// 8192 tokens, the 8192 cube for the peak
#define FM_GEMM_SHAPES ->ArgsProduct({{8192}, {512}, {512}, {0, 1}})->ArgsProduct({{4096}, {1152}, {128}, {0, 1}}) \
    ->ArgsProduct({{8192}, {8192}, {8192}, {0, 1}})->UseManualTime()->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_cuda_mm) FM_GEMM_SHAPES;
BENCHMARK(BM_cuda_cublas_sgemm) FM_GEMM_SHAPES;

}  // namespace
}  // namespace fm::bench
#endif
