// CUDA convolution (forward, input, weight and bias gradients) against the CPU kernels, on the
// music models' shapes (batch 2) and odd ones: 5x3 kernels, stride, dilation, asymmetric and
// negative trailing padding, groups, depthwise, conv1d, tile edges (33 and 65 channels, 65
// positions); float32 and float64, strided inputs, both variants (label gpu). The host-side
// plan and the implicit-GEMM tile are also checked on the CPU (conv_cuda_plan_test.cpp).
#include <cmath>

#include "cuda_parity.h"
#include "kernels/conv.h"

using namespace fm;
using namespace fm::cuda_test;
using kernels::ConvGeometry;

namespace {

ConvGeometry geom(int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t kh, int64_t kw, int64_t sh = 1,
                  int64_t sw = 1, int64_t ph = 0, int64_t pw = 0, int64_t dh = 1, int64_t dw = 1, int64_t groups = 1,
                  int64_t Ho = -1, int64_t Wo = -1) {
  ConvGeometry g;
  g.N = N, g.C = C, g.H = H, g.W = W, g.O = O, g.kh = kh, g.kw = kw, g.sh = sh, g.sw = sw, g.ph = ph, g.pw = pw;
  g.dh = dh, g.dw = dw, g.groups = groups;
  g.Ho = Ho >= 0 ? Ho : (H + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
  g.Wo = Wo >= 0 ? Wo : (W + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  return g;
}

struct Case {
  const char* name;
  ConvGeometry g;
};

// Relative L2 tolerance of a float32 result summing K products on both sides in different
// orders: the rounding error of a running sum grows like sqrt(K) relative to the sum.
double tol_for(DType dt, int64_t K) {
  return dt == kFloat32 ? 1e-6 + 2e-7 * std::sqrt(static_cast<double>(std::max<int64_t>(K, 1))) : 1e-12;
}

// Every pass of one geometry: CPU references once, then the GPU on contiguous and strided
// inputs (layout 1: no bias; 0 and 2: with bias).
void check_case(const Case& c, DType dt) {
  const ConvGeometry& g = c.g;
  const uint64_t seed = fresh_seed();
  const int64_t Cg = g.C / g.groups, Og = g.O / g.groups;
  const Tensor x = random_cpu({g.N, g.C, g.H, g.W}, dt, seed);
  const Tensor w = random_cpu({g.O, Cg, g.kh, g.kw}, dt, seed + 1);
  const Tensor gy = random_cpu({g.N, g.O, g.Ho, g.Wo}, dt, seed + 2);
  const Tensor bo = random_cpu({g.O}, dt, seed + 3), bc = random_cpu({g.C}, dt, seed + 4);
  const Tensor y_b = kernels::conv2d_forward(x, w, bo, g), y_nb = kernels::conv2d_forward(x, w, Tensor(), g);
  const Tensor gx_b = kernels::conv2d_input_grad(gy, w, bc, g), gx_nb = kernels::conv2d_input_grad(gy, w, Tensor(), g);
  const Tensor gw = kernels::conv2d_weight_grad(x, gy, g);
  const Tensor gb = kernels::conv2d_bias_grad(gy);
  const double tol_f = tol_for(dt, Cg * g.kh * g.kw), tol_i = tol_for(dt, Og * g.kh * g.kw),
               tol_w = tol_for(dt, g.N * g.Ho * g.Wo);
  for (int layout : {0, 1, 2}) {
    const bool bias = layout != 1;
    const std::string what = std::string(c.name) + " " + std::string(dtype_name(dt)) + " layout " +
                             std::to_string(layout) + (bias ? " with bias" : "");
    const Tensor yg = kernels::conv2d_forward(to_cuda(x, layout), to_cuda(w, 2 - layout),
                                              bias ? to_cuda(bo, layout) : Tensor(), g);
    EXPECT_CUDA_MATCHES(yg, bias ? y_b : y_nb, tol_f, seed, what + ": forward");
    const Tensor gxg = kernels::conv2d_input_grad(to_cuda(gy, layout), to_cuda(w, layout),
                                                  bias ? to_cuda(bc, layout) : Tensor(), g);
    EXPECT_CUDA_MATCHES(gxg, bias ? gx_b : gx_nb, tol_i, seed, what + ": input gradient");
    const Tensor gwg = kernels::conv2d_weight_grad(to_cuda(x, layout), to_cuda(gy, 2 - layout), g);
    EXPECT_CUDA_MATCHES(gwg, gw, tol_w, seed, what + ": weight gradient");
    // both sides sum in double, in other orders: float32 rounds to the same value nearly always;
    // float64 sums of ~10^4 terms of size 3 differ by ~1e-12 where a channel cancels to near 0
    const Tensor gbg = kernels::conv2d_bias_grad(to_cuda(gy, layout));
    EXPECT_CUDA_CLOSE(gbg, gb, dt == kFloat32 ? 1e-6 : 1e-13, dt == kFloat32 ? 1e-6 : 1e-10, seed,
                      what + ": bias gradient");
  }
}

void check_cases(const std::vector<Case>& cases) {
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : cases) check_case(c, dt);
}

// Restores the TF32 switch however the test ends.
struct Tf32Guard {
  explicit Tf32Guard(bool on) : prev(cuda_matmul_allow_tf32()) { set_cuda_matmul_allow_tf32(on); }
  ~Tf32Guard() { set_cuda_matmul_allow_tf32(prev); }
  bool prev;
};

}  // namespace

class CudaConv : public CudaParity {};

TEST_P(CudaConv, MusicCnnShapesMatchCpu) {
  check_cases({
      {"MusicCNN 3x3 pad 1, 1 -> 64", geom(2, 1, 128, 130, 64, 3, 3, 1, 1, 1, 1)},
      {"MusicCNN 12x1 same (5 above, 6 below), 64 -> 128", geom(2, 64, 64, 65, 128, 12, 1, 1, 1, 5, 0, 1, 1, 1, 64, 65)},
      {"MusicCNN 1x7 pad 3, 64 -> 128", geom(2, 64, 64, 65, 128, 1, 7, 1, 1, 0, 3)},
      {"MusicCNN 3x3 pad 1, 256 -> 256", geom(2, 256, 64, 65, 256, 3, 3, 1, 1, 1, 1)},
  });
}

TEST_P(CudaConv, HarmonicCnnShapesMatchCpu) {
  check_cases({
      {"HarmonicCNN 3x3 no pad, 1 -> 32", geom(2, 1, 128, 130, 32, 3, 3)},
      {"HarmonicCNN 1x1, 192 -> 128", geom(2, 192, 16, 17, 128, 1, 1)},
      {"1x1 groups 2, 8 -> 12", geom(3, 8, 5, 7, 12, 1, 1, 1, 1, 0, 0, 1, 1, 2)},
      {"1x1 groups 4, 8 -> 12", geom(1, 8, 5, 7, 12, 1, 1, 1, 1, 0, 0, 1, 1, 4)},
  });
}

TEST_P(CudaConv, OddShapesMatchCpu) {
  check_cases({
      {"5x3 stride 2, 3 -> 65", geom(2, 3, 17, 23, 65, 5, 3, 2, 2, 2, 1)},
      {"3x3 dilation 2, 5 -> 33", geom(2, 5, 19, 21, 33, 3, 3, 1, 1, 2, 2, 2, 2)},
      {"4x2 same (asymmetric padding), 7 -> 17", geom(3, 7, 9, 11, 17, 4, 2, 1, 1, 1, 0, 1, 1, 1, 9, 11)},
      {"3x3 stride 2, trailing rows unread", geom(2, 4, 12, 12, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1, 5, 5)},
      {"groups 2, 6 -> 34", geom(2, 6, 13, 13, 34, 3, 3, 1, 1, 1, 1, 1, 1, 2)},
      {"groups 2, 32 -> 96 (implicit GEMM per group)", geom(3, 32, 11, 9, 96, 3, 3, 1, 1, 1, 1, 1, 1, 2)},
      {"groups 4, 32 -> 64", geom(2, 32, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 4)},
      {"depthwise 3x3 stride 2, 16 ch", geom(2, 16, 17, 18, 16, 3, 3, 2, 2, 1, 1, 1, 1, 16)},
      {"conv1d k9 stride 3 dilation 2, 7 -> 65", geom(2, 7, 1, 301, 65, 1, 9, 1, 3, 0, 4, 1, 2)},
      {"conv1d k3 pad 1, 33 -> 33", geom(3, 33, 1, 65, 33, 1, 3, 1, 1, 0, 1)},
      {"1x1 stride 2 (not pointwise), 33 -> 65", geom(2, 33, 9, 9, 65, 1, 1, 2, 2)},
      {"3x3 pad 1, 33 -> 65 at 5x13 (65 positions)", geom(3, 33, 5, 13, 65, 3, 3, 1, 1, 1, 1)},
      {"3x3 pad 1, 16 -> 64 at 8x8 (whole tiles)", geom(1, 16, 8, 8, 64, 3, 3, 1, 1, 1, 1)},
  });
}

TEST_P(CudaConv, EmptyOutputsAndBatchesMatchCpu) {
  // no output positions (kernel larger than the input), and no images
  for (const ConvGeometry& g : {geom(2, 3, 2, 5, 4, 3, 3), geom(0, 3, 6, 5, 4, 3, 3)}) {
    const uint64_t seed = fresh_seed();
    const Tensor x = random_cpu({g.N, g.C, g.H, g.W}, kFloat32, seed);
    const Tensor w = random_cpu({g.O, g.C, g.kh, g.kw}, kFloat32, seed + 1);
    const Tensor gy = random_cpu({g.N, g.O, g.Ho, g.Wo}, kFloat32, seed + 2);
    const Tensor bc = random_cpu({g.C}, kFloat32, seed + 3), bo = random_cpu({g.O}, kFloat32, seed + 4);
    EXPECT_EQ(kernels::conv2d_forward(to_cuda(x, 0), to_cuda(w, 0), to_cuda(bo, 0), g).sizes(),
              (Shape{g.N, g.O, g.Ho, g.Wo}));
    if (g.N > 0) {
      EXPECT_CUDA_CLOSE(kernels::conv2d_input_grad(to_cuda(gy, 0), to_cuda(w, 0), to_cuda(bc, 0), g),
                        kernels::conv2d_input_grad(gy, w, bc, g), 1e-6, 1e-7, seed, "input gradient is the bias");
    }
    EXPECT_CUDA_CLOSE(kernels::conv2d_weight_grad(to_cuda(x, 0), to_cuda(gy, 0), g), kernels::conv2d_weight_grad(x, gy, g),
                      1e-6, 1e-7, seed, "weight gradient is zero");
    EXPECT_CUDA_CLOSE(kernels::conv2d_bias_grad(to_cuda(gy, 0)), kernels::conv2d_bias_grad(gy), 1e-6, 1e-7, seed,
                      "bias gradient is zero");
  }
}

TEST_P(CudaConv, Tf32IsOptIn) {
  const ConvGeometry g = geom(2, 64, 32, 33, 128, 12, 1, 1, 1, 5, 0, 1, 1, 1, 32, 33);
  const uint64_t seed = fresh_seed();
  const Tensor x = random_cpu({g.N, g.C, g.H, g.W}, kFloat32, seed);
  const Tensor w = random_cpu({g.O, g.C, g.kh, g.kw}, kFloat32, seed + 1);
  const Tensor gy = random_cpu({g.N, g.O, g.Ho, g.Wo}, kFloat32, seed + 2);
  const Tensor y = kernels::conv2d_forward(x, w, Tensor(), g);
  const Tensor gx = kernels::conv2d_input_grad(gy, w, Tensor(), g), gw = kernels::conv2d_weight_grad(x, gy, g);
  {
    Tf32Guard tf32(true);
    // 10 mantissa bits per operand: ~3e-4 relative per product, less in the sums
    EXPECT_CUDA_MATCHES(kernels::conv2d_forward(to_cuda(x, 0), to_cuda(w, 0), Tensor(), g), y, 3e-3, seed,
                        "forward, TF32");
    EXPECT_CUDA_MATCHES(kernels::conv2d_input_grad(to_cuda(gy, 0), to_cuda(w, 0), Tensor(), g), gx, 3e-3, seed,
                        "input gradient, TF32");
    EXPECT_CUDA_MATCHES(kernels::conv2d_weight_grad(to_cuda(x, 0), to_cuda(gy, 0), g), gw, 3e-3, seed,
                        "weight gradient, TF32");
  }
  EXPECT_CUDA_MATCHES(kernels::conv2d_forward(to_cuda(x, 0), to_cuda(w, 0), Tensor(), g), y, tol_for(kFloat32, 768),
                      seed, "forward, TF32 off again");
}

TEST_P(CudaConv, MixedDevicesAndBadShapesThrow) {
  const ConvGeometry g = geom(1, 2, 5, 5, 3, 3, 3);
  const Tensor x = random_cpu({1, 2, 5, 5}, kFloat32, 1), w = random_cpu({3, 2, 3, 3}, kFloat32, 2);
  EXPECT_THROW(kernels::conv2d_forward(to_cuda(x, 0), w, Tensor(), g), Error);
  EXPECT_THROW(kernels::conv2d_forward(to_cuda(x, 0), to_cuda(random_cpu({3, 2, 2, 3}, kFloat32, 3), 0), Tensor(), g),
               Error);
  EXPECT_THROW(kernels::conv2d_forward(to_cuda(x, 0), to_cuda(to(w, kFloat64), 0), Tensor(), g), Error);
}

FM_CUDA_PARITY_SUITE(CudaConv);
