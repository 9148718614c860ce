// float64 gradchecks of the differentiable augmentations: gain, add_noise (in the signal and in
// the noise) and masking at given positions.
#include <gtest/gtest.h>

#include "audio/augment.h"
#include "audio/spec_augment.h"
#include "support/test_support.h"

namespace fm {
namespace {

using namespace fm::audio;
using autograd::tensor_list;

#define GC(fn, ...) EXPECT_GRADCHECK(fn, (tensor_list{__VA_ARGS__}))

TEST(AudioAugmentGradcheck, GainAndNoise) {
  Tensor x = testing::leaf64({2, 16}, -1, 1, 3), n = testing::leaf64({2, 16}, -1, 1, 4);
  auto g = [](const tensor_list& v) { return tensor_list{gain(v[0], -3.0)}; };
  GC(g, x);
  auto f = [](const tensor_list& v) { return tensor_list{add_noise(v[0], v[1], 7.0)}; };
  GC(f, x, n);
}

TEST(AudioAugmentGradcheck, MaskAlongAxisAt) {
  Tensor spec = testing::leaf64({2, 5, 7});
  Tensor starts = from_vector(std::vector<int64_t>{1, 4}, {2}), widths = from_vector(std::vector<int64_t>{2, 9}, {2});
  auto f = [starts, widths](const tensor_list& s) {
    return tensor_list{mask_along_axis_at(s[0], -2, starts, widths, 0.0)};
  };
  GC(f, spec);
}

}  // namespace
}  // namespace fm
