// CUDA softmax / log_softmax forward and backward against the CPU kernels, over the last and
// inner dims, strided inputs, both variants (label gpu).
#include "cuda_parity.h"
#include "kernels/softmax.h"

using namespace fm;
using namespace fm::cuda_test;

class CudaSoftmax : public CudaParity {};

TEST_P(CudaSoftmax, ForwardAndBackwardMatchCpu) {
  struct Case {
    Shape shape;
    int64_t dim;
  };
  const std::vector<Case> cases = {{{1}, 0},        {{7}, 0},         {{1023}, -1},   {{4097}, 0},
                                   {{33, 129}, -1}, {{33, 129}, 0},   {{5, 7, 9}, 1}, {{3, 50000}, 1},
                                   {{2000, 7}, 1},  {{4, 3, 1, 5}, 2}};
  for (DType dt : {kFloat32, kFloat64}) {
    for (bool log : {false, true}) {
      for (const Case& c : cases) {
        for (int layout : {0, 1, 2}) {
          const uint64_t seed = fresh_seed();
          const Tensor x = random_cpu(c.shape, dt, seed, -8, 8);
          const Tensor gy = random_cpu(c.shape, dt, seed + 1);
          const std::string what = std::string(log ? "log_softmax " : "softmax ") + shape_str(c.shape) + " dim " +
                                   std::to_string(c.dim) + " " + std::string(dtype_name(dt)) + " layout " +
                                   std::to_string(layout);
          const Tensor y = log ? kernels::log_softmax(x, c.dim) : kernels::softmax(x, c.dim);
          const Tensor yg = log ? kernels::log_softmax(to_cuda(x, layout), c.dim)
                                : kernels::softmax(to_cuda(x, layout), c.dim);
          // float32: both sides sum up to 50000 exponentials in float, in different orders
          EXPECT_CUDA_CLOSE(yg, y, dt == kFloat32 ? 1e-4 : 1e-10, dt == kFloat32 ? 1e-7 : 1e-13, seed, what);
          // backward at the CPU forward's output, so that both sides see the same y
          const Tensor dx = log ? kernels::log_softmax_backward(gy, y, c.dim) : kernels::softmax_backward(gy, y, c.dim);
          const Tensor dxg = log ? kernels::log_softmax_backward(to_cuda(gy, layout), to_cuda(y, 2 - layout), c.dim)
                                 : kernels::softmax_backward(to_cuda(gy, layout), to_cuda(y, 2 - layout), c.dim);
          EXPECT_CUDA_CLOSE(dxg, dx, dt == kFloat32 ? 1e-4 : 1e-10, dt == kFloat32 ? 1e-5 : 1e-11, seed,
                            what + " backward");
        }
      }
    }
  }
}

TEST_P(CudaSoftmax, RowsOfMinusInfinityGiveNaNAsOnTheCpu) {
  const Tensor x = full({2, 40}, -INFINITY);
  const Tensor y = kernels::softmax(x, 1);
  const Tensor yg = kernels::softmax(to_cuda(x, 0), 1);
  EXPECT_EQ(count_nonfinite(y), count_nonfinite(yg));
}

FM_CUDA_PARITY_SUITE(CudaSoftmax);
