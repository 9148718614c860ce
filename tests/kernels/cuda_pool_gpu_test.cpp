// CUDA pooling against the CPU kernels: max (values and indices exactly, ties and NaN
// included), avg and its backward, the max-pool gather/scatter pair, over kernel / stride /
// padding / dilation / ceil_mode windows, adaptive windows, the 2x2 / stride-2 fast path with
// even and odd sizes and a misaligned input, strided inputs, both variants (label gpu).
#include <cmath>
#include <random>

#include "cuda_parity.h"
#include "kernels/pool.h"

using namespace fm;
using namespace fm::cuda_test;
using kernels::PoolAxis;

namespace {

// Random values with ties (quantised to halves) and a few NaN and -inf, so that the "first
// maximum wins" and "NaN wins" rules are exercised.
Tensor pool_input(const Shape& shape, DType dt, uint64_t seed, bool specials) {
  std::vector<double> v = random_cpu(shape, kFloat64, seed).to_vector<double>();
  std::mt19937_64 rng(seed);
  for (double& e : v) e = std::floor(e * 2) / 2;
  if (specials && v.size() > 4) {
    for (int k = 0; k < 3; ++k) v[rng() % v.size()] = NAN;
    for (int k = 0; k < 3; ++k) v[rng() % v.size()] = -INFINITY;
  }
  return to(from_vector(v, shape), dt);
}

// A contiguous CUDA copy of x whose data starts one element past an allocation (16-byte
// alignment lost): the v2 paths must notice and load singly.
Tensor misaligned_cuda(const Tensor& x) {
  NoGradGuard ng;
  Tensor buf = to(zeros({x.numel() + 1}, {.dtype = x.dtype()}), Device::cuda());
  Tensor v = reshape(slice(buf, 0, 1, x.numel() + 1), x.sizes());
  copy_(v, to(x, Device::cuda()));
  EXPECT_TRUE(v.is_contiguous());
  return v;
}

struct Window {
  int64_t k, s, p, d;
};

struct Case {
  Shape shape;  // N, C, H, W
  Window h, w;
  bool ceil_mode;
  bool adaptive;  // then h.k, w.k are the output sizes
  std::string name() const {
    auto pair = [](int64_t a, int64_t b) { return "(" + std::to_string(a) + ", " + std::to_string(b) + ")"; };
    if (adaptive) return shape_str(shape) + " adaptive to " + pair(h.k, w.k);
    return shape_str(shape) + " k " + pair(h.k, w.k) + " s " + pair(h.s, w.s) + " p " + pair(h.p, w.p) + " d " +
           pair(h.d, w.d) + (ceil_mode ? " ceil" : "");
  }
  std::pair<PoolAxis, PoolAxis> axes(bool count_include_pad) const {
    const int64_t H = shape[2], W = shape[3];
    if (adaptive) return {kernels::adaptive_axis(H, h.k), kernels::adaptive_axis(W, w.k)};
    const int64_t Ho = kernels::pool_output_size("test", H, h.k, h.s, h.p, h.d, ceil_mode);
    const int64_t Wo = kernels::pool_output_size("test", W, w.k, w.s, w.p, w.d, ceil_mode);
    return {kernels::pool_axis(H, Ho, h.k, h.s, h.p, h.d, count_include_pad),
            kernels::pool_axis(W, Wo, w.k, w.s, w.p, w.d, count_include_pad)};
  }
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      // the 2x2 / stride-2 fast path: even sizes (paired loads), odd sizes (last row and column
      // dropped, single loads), one plane, many planes
      {{2, 3, 8, 10}, {2, 2, 0, 1}, {2, 2, 0, 1}, false, false},
      {{2, 3, 7, 9}, {2, 2, 0, 1}, {2, 2, 0, 1}, false, false},
      {{1, 1, 2, 2}, {2, 2, 0, 1}, {2, 2, 0, 1}, false, false},
      {{3, 67, 16, 16}, {2, 2, 0, 1}, {2, 2, 0, 1}, false, false},
      // 2x2 / stride 2 with ceil_mode on odd sizes: the last window is clipped, the general path
      {{2, 3, 7, 9}, {2, 2, 0, 1}, {2, 2, 0, 1}, true, false},
      // overlapping windows (duplicate indices), padding, dilation, ceil_mode, odd sizes
      {{2, 5, 13, 11}, {3, 2, 1, 1}, {3, 2, 1, 1}, false, false},
      {{2, 5, 13, 11}, {3, 2, 1, 1}, {3, 2, 1, 1}, true, false},
      {{1, 3, 17, 19}, {3, 1, 1, 2}, {2, 3, 0, 3}, false, false},
      {{3, 2, 9, 31}, {1, 1, 0, 1}, {5, 3, 2, 1}, true, false},
      {{1, 7, 1, 37}, {1, 1, 0, 1}, {4, 4, 2, 1}, false, false},  // 1-D pooling as H = 1
      {{2, 3, 23, 5}, {7, 3, 3, 1}, {1, 1, 0, 1}, true, false},
      // adaptive windows: shrinking (uneven windows), growing (overlapping), halving (pairs)
      {{2, 3, 13, 7}, {5, 0, 0, 0}, {3, 0, 0, 0}, false, true},
      {{2, 3, 5, 3}, {8, 0, 0, 0}, {7, 0, 0, 0}, false, true},
      {{2, 3, 8, 12}, {4, 0, 0, 0}, {6, 0, 0, 0}, false, true},
      {{1, 4, 9, 9}, {1, 0, 0, 0}, {1, 0, 0, 0}, false, true},
  };
  return c;
}

}  // namespace

class CudaPool : public CudaParity {};

TEST_P(CudaPool, MaxPoolValuesAndIndicesEqualCpu) {
  for (DType dt : {kFloat32, kFloat64}) {
    for (const Case& c : cases()) {
      const auto [ha, wa] = c.axes(true);
      for (int layout : {0, 1, 2, 3}) {
        const uint64_t seed = fresh_seed();
        const std::string what = "max_pool2d " + c.name() + " " + std::string(dtype_name(dt)) + " layout " +
                                 std::to_string(layout);
        const Tensor x = pool_input(c.shape, dt, seed, layout != 3);
        const auto [y, idx] = kernels::max_pool2d(x, ha, wa);
        const Tensor xg = layout == 3 ? misaligned_cuda(x) : to_cuda(x, layout);
        const auto [yg, idxg] = kernels::max_pool2d(xg, ha, wa);
        ASSERT_TRUE(yg.device().is_cuda() && idxg.dtype() == DType::Int64) << what;
        EXPECT_TRUE(exactly_equal(yg, y)) << what << ", seed " << seed;
        EXPECT_TRUE(exactly_equal(idxg, idx)) << what << " indices, seed " << seed;

        // the max pool's backward and double backward on the CPU's indices
        const Tensor g = random_cpu(y.sizes(), dt, seed + 1);
        const int64_t H = c.shape[2], W = c.shape[3];
        const Tensor gx = kernels::plane_scatter_add(g, idx, H, W);
        const Tensor idx_g = to_cuda(idx, layout == 1 ? 1 : 0);
        const Tensor gxg = kernels::plane_scatter_add(to_cuda(g, layout % 3), idx_g, H, W);
        // v2 adds duplicates (overlapping windows) atomically, in any order
        EXPECT_CUDA_CLOSE(gxg, gx, rtol_for(dt), atol_for(dt), seed, what + " scatter_add");
        const Tensor gg = random_cpu(c.shape, dt, seed + 2);
        const Tensor yy = kernels::plane_gather(gg, idx);
        const Tensor yyg = kernels::plane_gather(to_cuda(gg, layout % 3), idx_g);
        EXPECT_TRUE(exactly_equal(yyg, yy)) << what << " gather, seed " << seed;
      }
    }
  }
}

TEST_P(CudaPool, AvgPoolAndBackwardMatchCpu) {
  for (DType dt : {kFloat32, kFloat64}) {
    for (const Case& c : cases()) {
      for (bool include_pad : {true, false}) {
        if (c.adaptive && !include_pad) continue;  // adaptive windows have no padding
        auto [ha, wa] = c.axes(include_pad);
        if (c.shape[1] == 5 && !include_pad) {  // divisor_override as autograd/pool.cpp applies it
          for (double& d : ha.divisor) d = 3;
          for (double& d : wa.divisor) d = 1;
        }
        for (int layout : {0, 1, 2, 3}) {
          const uint64_t seed = fresh_seed();
          const std::string what = "avg_pool2d " + c.name() + (include_pad ? " include_pad " : " ") +
                                   std::string(dtype_name(dt)) + " layout " + std::to_string(layout);
          const Tensor x = random_cpu(c.shape, dt, seed);
          const Tensor y = kernels::avg_pool2d(x, ha, wa);
          const Tensor xg = layout == 3 ? misaligned_cuda(x) : to_cuda(x, layout);
          const Tensor yg = kernels::avg_pool2d(xg, ha, wa);
          // the same additions in the same order: equal up to the compilers' rounding choices
          EXPECT_CUDA_CLOSE(yg, y, rtol_for(dt), atol_for(dt), seed, what);

          const Tensor g = random_cpu(y.sizes(), dt, seed + 1);
          const Tensor gx = kernels::avg_pool2d_backward(g, ha, wa);
          const Tensor gg = layout == 3 ? misaligned_cuda(g) : to_cuda(g, layout);
          const Tensor gxg = kernels::avg_pool2d_backward(gg, ha, wa);
          EXPECT_CUDA_CLOSE(gxg, gx, rtol_for(dt), atol_for(dt), seed, what + " backward");
        }
      }
    }
  }
}

TEST_P(CudaPool, RejectsMismatchedInputsNamingTheOp) {
  const auto ha = kernels::pool_axis(6, 3, 2, 2, 0, 1, true), wa = kernels::pool_axis(6, 3, 2, 2, 0, 1, true);
  const Tensor x = to_cuda(random_cpu({1, 2, 6, 7}, kFloat32, 1), 0);
  try {
    kernels::max_pool2d(x, ha, wa);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_pool2d"), std::string::npos) << e.what();
  }
  PoolAxis bad = ha;
  bad.first[2] = 5;  // reads past the input
  EXPECT_THROW(kernels::avg_pool2d(to_cuda(random_cpu({1, 2, 6, 6}, kFloat32, 2), 0), bad, wa), Error);
}

FM_CUDA_PARITY_SUITE(CudaPool);
