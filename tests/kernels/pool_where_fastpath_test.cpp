// The unrolled 2x2 / stride-2 max pool and the contiguous `where` loops (added for the models'
// training step) give what the general loops give: first maximum on ties, NaN taken, the last
// odd row and column dropped; scalar or tensor branches of where.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/elementwise.h"
#include "kernels/pool.h"
#include "support/test_support.h"

namespace fm {
namespace {

TEST(MaxPoolPairs, MatchesTheWindowScanWithTiesAndNaN) {
  const int64_t H = 5, W = 7;
  std::vector<float> v(2 * H * W);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7) % 5);  // many ties
  v[3] = std::numeric_limits<float>::quiet_NaN();
  v[40] = -std::numeric_limits<float>::infinity();
  const Tensor x = from_vector(v, {1, 2, H, W});
  const auto ha = kernels::pool_axis(H, 2, 2, 2, 0, 1, true), wa = kernels::pool_axis(W, 3, 2, 2, 0, 1, true);
  const auto [y, idx] = kernels::max_pool2d(x, ha, wa);
  ASSERT_EQ(y.sizes(), (Shape{1, 2, 2, 3}));
  const auto yv = y.to_vector<float>();
  const auto iv = idx.to_vector<int64_t>();
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t oh = 0; oh < 2; ++oh)
      for (int64_t ow = 0; ow < 3; ++ow) {
        float best = -std::numeric_limits<float>::infinity();
        int64_t bi = 2 * oh * W + 2 * ow;
        for (int64_t jh = 0; jh < 2; ++jh)
          for (int64_t jw = 0; jw < 2; ++jw) {
            const int64_t pos = (2 * oh + jh) * W + 2 * ow + jw;
            const float val = v[static_cast<size_t>(p * H * W + pos)];
            if (val > best || std::isnan(val)) {
              best = val;
              bi = pos;
            }
          }
        const size_t o = static_cast<size_t>((p * 2 + oh) * 3 + ow);
        EXPECT_EQ(iv[o], bi) << "plane " << p << " window (" << oh << ", " << ow << ")";
        if (std::isnan(best)) {
          EXPECT_TRUE(std::isnan(yv[o]));
        } else {
          EXPECT_EQ(yv[o], best);
        }
      }
}

TEST(WhereContiguous, ScalarAndTensorBranches) {
  const Tensor c = from_vector(std::vector<float>{1, 0, 0, 1, 1, 0, 1, 0}, {8});
  const Tensor cond = kernels::binary(kernels::BinaryOp::Gt, c, from_vector(std::vector<float>{0.5f}, {1}));
  const Tensor a = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}, {8});
  const Tensor b = from_vector(std::vector<float>{-1, -2, -3, -4, -5, -6, -7, -8}, {8});
  const Tensor zero = from_vector(std::vector<float>{0}, {1});
  EXPECT_EQ(kernels::where(cond, a, b).to_vector<float>(), (std::vector<float>{1, -2, -3, 4, 5, -6, 7, -8}));
  EXPECT_EQ(kernels::where(cond, zero, b).to_vector<float>(), (std::vector<float>{0, -2, -3, 0, 0, -6, 0, -8}));
  EXPECT_EQ(kernels::where(cond, a, zero).to_vector<float>(), (std::vector<float>{1, 0, 0, 4, 5, 0, 7, 0}));
  EXPECT_EQ(kernels::where(cond, zero, from_vector(std::vector<float>{9}, {1})).to_vector<float>(),
            (std::vector<float>{0, 9, 9, 0, 0, 9, 0, 9}));
}

}  // namespace
}  // namespace fm
