// Convolutions and pooling against PyTorch 1.13 (data: make_golden_conv.py): outputs, max-pool
// indices, and the gradients of input, weight and bias.
#include "golden/golden_support.h"

using namespace fm;
using fm::testing::golden::both;
using fm::testing::golden::Case;

namespace {

const std::vector<Case>& conv_cases() {
  static const std::vector<Case> cases = {
      GOLDEN("conv1d", conv1d(x[0], x[1], x[2])),
      GOLDEN("conv1d_stride_pad_dil_groups", conv1d(x[0], x[1], x[2], 2, 2, 2, 2)),
      GOLDEN("conv1d_same_even", conv1d(x[0], x[1], x[2], 1, "same", 2)),
      GOLDEN("conv1d_nobias_t", conv1d(transpose(x[0], 1, 2), x[1], Tensor(), 3)),
      GOLDEN("conv1d_unbatched", conv1d(x[0], x[1], x[2], 1, 1)),
      GOLDEN("conv2d_3x3_pad1", conv2d(x[0], x[1], x[2], 1, 1)),
      GOLDEN("conv2d_12x1", conv2d(x[0], x[1], x[2])),
      GOLDEN("conv2d_1x7", conv2d(x[0], x[1], x[2], 1, {0, 3})),
      GOLDEN("conv2d_strided_dilated_groups", conv2d(x[0], x[1], x[2], {2, 1}, {1, 0}, {1, 2}, 2)),
      GOLDEN("conv2d_same_even", conv2d(x[0], x[1], x[2], 1, "same", {2, 1})),
      GOLDEN("conv2d_same_12x1", conv2d(x[0], x[1], x[2], 1, "same")),
      GOLDEN("conv2d_valid", conv2d(x[0], x[1], x[2], 1, "valid")),
      GOLDEN("conv2d_depthwise", conv2d(x[0], x[1], x[2], 2, 1, 1, 3)),
      GOLDEN("conv2d_pointwise", conv2d(x[0], x[1], x[2])),
      GOLDEN("conv2d_t", conv2d(transpose(x[0], 2, 3), x[1], x[2], 1, 1)),
      GOLDEN("conv2d_f32", conv2d(x[0], x[1], x[2], 1, 1)),
      GOLDEN("conv_transpose1d", conv_transpose1d(x[0], x[1], x[2], 2, 1, 1)),
      GOLDEN("conv_transpose1d_groups_dil", conv_transpose1d(x[0], x[1], x[2], 3, 2, 2, 2, 2)),
      GOLDEN("conv_transpose2d", conv_transpose2d(x[0], x[1], x[2], {2, 1}, {1, 0}, {1, 0}, 1, {1, 2})),
      Case{"max_pool1d", [](const autograd::tensor_list& x) { return both(max_pool1d_with_indices(x[0], 3, 2, 1, 1, true)); }},
      GOLDEN("max_pool1d_dilated", max_pool1d(x[0], 2, 1, 0, 2)),
      Case{"max_pool2d",
           [](const autograd::tensor_list& x) {
             return both(max_pool2d_with_indices(x[0], {3, 2}, Int2{2, 1}, {1, 0}, {1, 2}, true));
           }},
      GOLDEN("max_pool2d_default", max_pool2d(x[0], 2)),
      GOLDEN("max_pool2d_t", max_pool2d(transpose(x[0], 2, 3), {2, 1})),
      GOLDEN("avg_pool1d", avg_pool1d(x[0], 3, 2, 1)),
      GOLDEN("avg_pool1d_exclude_pad_ceil", avg_pool1d(x[0], 3, 2, 1, true, false)),
      GOLDEN("avg_pool2d", avg_pool2d(x[0], {3, 2}, Int2{2, 1}, {1, 1}, true, false)),
      GOLDEN("avg_pool2d_include_pad_ceil", avg_pool2d(x[0], 3, Int2{2}, 1, true)),
      GOLDEN("avg_pool2d_divisor", avg_pool2d(x[0], 2, std::nullopt, 1, false, true, 3)),
      GOLDEN("adaptive_avg_pool1d", adaptive_avg_pool1d(x[0], 4)),
      GOLDEN("adaptive_avg_pool2d", adaptive_avg_pool2d(x[0], {3, 2})),
      GOLDEN("adaptive_avg_pool2d_up", adaptive_avg_pool2d(x[0], {5, 7})),
      Case{"adaptive_max_pool1d", [](const autograd::tensor_list& x) { return both(adaptive_max_pool1d_with_indices(x[0], 3)); }},
      Case{"adaptive_max_pool2d",
           [](const autograd::tensor_list& x) { return both(adaptive_max_pool2d_with_indices(x[0], {4, 3})); }},
  };
  return cases;
}

}  // namespace

FM_GOLDEN_FAMILY(ConvGolden, "conv", conv_cases)
