// CUDA mm / bmm (cuBLAS) against the CPU (OpenBLAS): odd sizes, transposed and sliced
// operands, alpha/beta, TF32 within its looser tolerance (label gpu).
#include "cuda_parity.h"
#include "kernels/linalg.h"

using namespace fm;
using namespace fm::cuda_test;

class CudaMatmul : public CudaParity {};

TEST_P(CudaMatmul, MmMatchesCpu) {
  const std::vector<std::array<int64_t, 3>> sizes = {{1, 1, 1}, {7, 1, 5}, {1, 1023, 1}, {33, 129, 65},
                                                     {257, 31, 1023}, {1024, 1024, 1024}};
  for (DType dt : {kFloat32, kFloat64}) {
    for (const auto& s : sizes) {
      for (int la : {0, 1, 2}) {
        for (int lb : {0, 1}) {
          const uint64_t seed = fresh_seed();
          const Tensor a = random_cpu({s[0], s[1]}, dt, seed), b = random_cpu({s[1], s[2]}, dt, seed + 1);
          const Tensor ref = kernels::mm(a, b);
          const Tensor out = to_cuda(full({s[0], s[2]}, NAN, {.dtype = dt}), 0);
          kernels::mm_into(out, to_cuda(a, la), to_cuda(b, lb));
          EXPECT_CUDA_MATCHES(out, ref, dt == kFloat32 ? 1e-5 : 1e-12, seed,
                              "mm " + std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[2]) +
                                  " " + std::string(dtype_name(dt)) + " layouts " + std::to_string(la) + "," +
                                  std::to_string(lb));
        }
      }
    }
  }
}

TEST_P(CudaMatmul, AlphaBetaAccumulate) {
  const uint64_t seed = fresh_seed();
  const Tensor a = random_cpu({9, 13}, kFloat64, seed), b = random_cpu({13, 11}, kFloat64, seed + 1);
  const Tensor c = random_cpu({9, 11}, kFloat64, seed + 2);
  const Tensor ref = contiguous_raw(c, true);
  kernels::mm_into(ref, a, b, 0.5, -2.0);
  const Tensor out = to_cuda(c, 0);
  kernels::mm_into(out, to_cuda(a, 0), to_cuda(b, 0), 0.5, -2.0);
  EXPECT_CUDA_MATCHES(out, ref, 1e-12, seed, "alpha 0.5, beta -2");
}

TEST_P(CudaMatmul, BmmMatchesCpu) {
  const std::vector<std::array<int64_t, 4>> sizes = {{1, 1, 1, 1}, {3, 7, 5, 9}, {17, 33, 64, 31}, {4, 128, 64, 128}};
  for (DType dt : {kFloat32, kFloat64}) {
    for (const auto& s : sizes) {
      for (int layout : {0, 1, 2}) {
        const uint64_t seed = fresh_seed();
        const Tensor a = random_cpu({s[0], s[1], s[2]}, dt, seed), b = random_cpu({s[0], s[2], s[3]}, dt, seed + 1);
        const Tensor ref = kernels::bmm(a, b);
        const Tensor out = kernels::bmm(to_cuda(a, layout), to_cuda(b, 2 - layout));
        EXPECT_CUDA_MATCHES(out, ref, dt == kFloat32 ? 1e-5 : 1e-12, seed,
                            "bmm " + shape_str({s[0], s[1], s[2], s[3]}) + " " + std::string(dtype_name(dt)) +
                                " layout " + std::to_string(layout));
      }
    }
  }
}

TEST_P(CudaMatmul, Tf32IsOptInAndWithinItsTolerance) {
  const uint64_t seed = fresh_seed();
  const Tensor a = random_cpu({512, 768}, kFloat32, seed), b = random_cpu({768, 256}, kFloat32, seed + 1);
  const Tensor ref = kernels::mm(to(a, kFloat64), to(b, kFloat64));
  EXPECT_FALSE(cuda_matmul_allow_tf32());
  set_cuda_matmul_allow_tf32(true);
  const Tensor out = kernels::mm(to_cuda(a, 0), to_cuda(b, 0));
  set_cuda_matmul_allow_tf32(false);
  EXPECT_CUDA_MATCHES(out, ref, 2e-3, seed, "tf32 mm");
}

FM_CUDA_PARITY_SUITE(CudaMatmul);
