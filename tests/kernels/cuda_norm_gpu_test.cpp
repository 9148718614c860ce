// CUDA batch norm and layer norm, forward and backward, against the CPU kernels: [N, C] and
// [N, C, H, W] layouts, channels too few and too many to fill the device, long and short
// runs, with and without affine parameters, strided inputs, both variants (label gpu).
#include "cuda_parity.h"
#include "kernels/norm.h"

using namespace fm;
using namespace fm::cuda_test;

class CudaNorm : public CudaParity {};

namespace {
// Per-channel sums of up to ~10^6 terms in double on both sides, then rounded to T.
double rtol_norm(DType dt) { return dt == kFloat32 ? 2e-4 : 1e-9; }
double atol_norm(DType dt) { return dt == kFloat32 ? 2e-5 : 1e-11; }
}  // namespace

TEST_P(CudaNorm, BatchNormMatchesCpu) {
  const std::vector<Shape> shapes = {{0, 3},  {4, 2, 0},  {1, 1},       {7, 3},          {513, 37},        {2, 5, 1},   {3, 4, 129},
                                     {8, 6, 31, 33}, {2, 64, 9, 65}, {1, 3, 70000}, {5, 1, 7, 3}};
  for (DType dt : {kFloat32, kFloat64}) {
    for (const Shape& shape : shapes) {
      for (int layout : {0, 2}) {
        const uint64_t seed = fresh_seed();
        const int64_t C = shape[1];
        // a large mean against the spread: the shifted sums must keep the variance
        const Tensor x = random_cpu(shape, dt, seed, 97, 103);
        const Tensor g = random_cpu(shape, dt, seed + 1);
        const Tensor w = random_cpu({C}, dt, seed + 2, 0.5, 2), b = random_cpu({C}, dt, seed + 3);
        const std::string what = "batch_norm " + shape_str(shape) + " " + std::string(dtype_name(dt)) + " layout " +
                                 std::to_string(layout);
        const auto [mean, var] = kernels::batch_norm_stats(x);
        const auto [mean_g, var_g] = kernels::batch_norm_stats(to_cuda(x, layout));
        // both sides add the same shifted terms in double: the means agree to an ulp or two
        EXPECT_CUDA_CLOSE(mean_g, mean, dt == kFloat32 ? 2e-6 : 1e-13, dt == kFloat32 ? 1e-6 : 1e-13, seed,
                          what + " mean");
        EXPECT_CUDA_CLOSE(var_g, var, rtol_norm(dt), atol_norm(dt), seed, what + " var");
        const Tensor invstd = random_cpu({C}, dt, seed + 4, 0.5, 1.5);
        for (bool affine : {false, true}) {
          const Tensor wc = affine ? w : Tensor(), bc = affine ? b : Tensor();
          const Tensor y = kernels::batch_norm_apply(x, mean, invstd, wc, bc);
          const Tensor yg = kernels::batch_norm_apply(to_cuda(x, layout), to_cuda(mean, 0), to_cuda(invstd, 0),
                                                      affine ? to_cuda(w, 0) : Tensor(),
                                                      affine ? to_cuda(b, 0) : Tensor());
          // x ~ 100 times a coefficient, rounded once on each side (fused or not)
          EXPECT_CUDA_CLOSE(yg, y, rtol_norm(dt), dt == kFloat32 ? 1e-4 : 1e-11, seed, what + " apply");
          for (bool training : {false, true}) {
            const std::string w2 = what + (affine ? " affine" : "") + (training ? " training" : " eval");
            const auto [gx, gw, gb] = kernels::batch_norm_backward(g, x, mean, invstd, wc, training, true, true, true);
            const auto [gxg, gwg, gbg] =
                kernels::batch_norm_backward(to_cuda(g, layout), to_cuda(x, 2 - layout), to_cuda(mean, 0),
                                             to_cuda(invstd, 0), affine ? to_cuda(w, 0) : Tensor(), training, true,
                                             true, true);
            // grad_x in training cancels sums of size ~N*S: compare at the gradient's scale
            EXPECT_CUDA_CLOSE(gxg, gx, rtol_norm(dt), 1e-3 * (dt == kFloat32 ? 1 : 1e-6), seed, w2 + " grad_x");
            EXPECT_CUDA_CLOSE(gwg, gw, rtol_norm(dt), atol_norm(dt) * 1e3, seed, w2 + " grad_weight");
            EXPECT_CUDA_CLOSE(gbg, gb, rtol_norm(dt), atol_norm(dt) * 1e3, seed, w2 + " grad_bias");
          }
        }
      }
    }
  }
}

TEST_P(CudaNorm, BatchNormBackwardComputesOnlyWhatIsAsked) {
  const Tensor x = random_cpu({4, 3, 5}, kFloat32, 1), g = random_cpu({4, 3, 5}, kFloat32, 2);
  const auto [mean, var] = kernels::batch_norm_stats(x);
  const Tensor invstd = random_cpu({3}, kFloat32, 3, 0.5, 1.5);
  const auto [gx, gw, gb] = kernels::batch_norm_backward(to_cuda(g, 0), to_cuda(x, 0), to_cuda(mean, 0),
                                                         to_cuda(invstd, 0), Tensor(), false, true, false, false);
  EXPECT_TRUE(gx.defined());
  EXPECT_FALSE(gw.defined());
  EXPECT_FALSE(gb.defined());
  const auto [gx_cpu, unused_w, unused_b] =
      kernels::batch_norm_backward(g, x, mean, invstd, Tensor(), false, true, false, false);
  EXPECT_CUDA_CLOSE(gx, gx_cpu, 1e-5, 1e-6, 0, "eval grad_x alone");
}

TEST_P(CudaNorm, LayerNormMatchesCpu) {
  struct Case {
    Shape shape;
    int64_t k;
  };
  const std::vector<Case> cases = {{{1, 1}, 1},     {{7, 5}, 1},      {{33, 257}, 1},  {{4, 9, 64}, 1},
                                   {{3, 5, 7}, 2},  {{2, 3000}, 1},   {{1025, 3}, 1},  {{2, 4, 768}, 1},
                                   {{700, 96}, 1}};
  for (DType dt : {kFloat32, kFloat64}) {
    for (const Case& c : cases) {
      for (int layout : {0, 1}) {
        const uint64_t seed = fresh_seed();
        const Shape pshape(c.shape.end() - c.k, c.shape.end());
        const Tensor x = random_cpu(c.shape, dt, seed, -20, 40);
        const Tensor g = random_cpu(c.shape, dt, seed + 1);
        const Tensor w = random_cpu(pshape, dt, seed + 2, 0.5, 2), b = random_cpu(pshape, dt, seed + 3);
        for (bool affine : {false, true}) {
          const std::string what = "layer_norm " + shape_str(c.shape) + " k " + std::to_string(c.k) + " " +
                                   std::string(dtype_name(dt)) + " layout " + std::to_string(layout) +
                                   (affine ? " affine" : "");
          const Tensor wc = affine ? w : Tensor(), bc = affine ? b : Tensor();
          const auto [y, mean, rstd] = kernels::layer_norm(x, c.k, wc, bc, 1e-5);
          const auto [yg, mean_g, rstd_g] = kernels::layer_norm(to_cuda(x, layout), c.k,
                                                                affine ? to_cuda(w, 0) : Tensor(),
                                                                affine ? to_cuda(b, 0) : Tensor(), 1e-5);
          EXPECT_CUDA_CLOSE(yg, y, rtol_norm(dt), atol_norm(dt) * 10, seed, what + " y");
          // both sides add the same shifted terms in double: the means agree to an ulp or two
        EXPECT_CUDA_CLOSE(mean_g, mean, dt == kFloat32 ? 2e-6 : 1e-13, dt == kFloat32 ? 1e-6 : 1e-13, seed,
                          what + " mean");
          EXPECT_CUDA_CLOSE(rstd_g, rstd, rtol_norm(dt), atol_norm(dt), seed, what + " rstd");
          const auto [gx, gw, gb] = kernels::layer_norm_backward(g, x, mean, rstd, wc, c.k, true, affine, affine);
          const auto [gxg, gwg, gbg] =
              kernels::layer_norm_backward(to_cuda(g, layout), to_cuda(x, 0), to_cuda(mean, 0), to_cuda(rstd, 0),
                                           affine ? to_cuda(w, 0) : Tensor(), c.k, true, affine, affine);
          EXPECT_CUDA_CLOSE(gxg, gx, rtol_norm(dt), atol_norm(dt) * 100, seed, what + " grad_x");
          if (affine) {
            EXPECT_CUDA_CLOSE(gwg, gw, rtol_norm(dt), atol_norm(dt) * 1e3, seed, what + " grad_weight");
            EXPECT_CUDA_CLOSE(gbg, gb, rtol_norm(dt), atol_norm(dt) * 1e3, seed, what + " grad_bias");
          }
        }
      }
    }
  }
}

FM_CUDA_PARITY_SUITE(CudaNorm);
