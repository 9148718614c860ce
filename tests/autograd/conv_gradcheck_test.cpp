// Float64 gradchecks of the convolutions (input, weight and bias), over stride, padding,
// dilation, groups, tall (12x1) and wide (1x7) kernels, "same" padding with even kernels, the
// 1x1 fast path, non-contiguous and unbatched inputs; gradgradchecks for the double backward.
#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;

namespace {

// A float64 leaf whose last two dims are transposed: non-contiguous, shape `shape`.
Tensor noncontig4(const Shape& shape, uint64_t seed) {
  Shape s = shape;
  std::swap(s[s.size() - 1], s[s.size() - 2]);
  Tensor t = transpose(leaf64(s, -1, 1, seed).detach(), -1, -2);
  t.requires_grad_(true);
  return t;
}

}  // namespace

TEST(ConvGradcheck, Conv1dBasic) {
  auto fn = [](const tensor_list& in) { return tensor_list{conv1d(in[0], in[1], in[2])}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 4, 7}, -1, 1, 1), leaf64({3, 4, 3}, -1, 1, 2), leaf64({3}, -1, 1, 3)}));
}

TEST(ConvGradcheck, Conv1dStridePaddingDilationGroups) {
  auto fn = [](const tensor_list& in) { return tensor_list{conv1d(in[0], in[1], in[2], 2, 1, 2, 2)}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 4, 9}, -1, 1, 4), leaf64({6, 2, 3}, -1, 1, 5), leaf64({6}, -1, 1, 6)}));
  auto f3 = [](const tensor_list& in) { return tensor_list{conv1d(in[0], in[1], Tensor(), 3, 2)}; };
  EXPECT_GRADCHECK(f3, (tensor_list{leaf64({1, 2, 8}, -1, 1, 7), leaf64({2, 2, 4}, -1, 1, 8)}));
}

TEST(ConvGradcheck, Conv1dSameEvenKernelAndValid) {
  auto fs = [](const tensor_list& in) { return tensor_list{conv1d(in[0], in[1], in[2], 1, "same", 3)}; };
  EXPECT_GRADCHECK(fs, (tensor_list{leaf64({2, 3, 8}, -1, 1, 9), leaf64({2, 3, 4}, -1, 1, 10), leaf64({2}, -1, 1, 11)}));
  auto fv = [](const tensor_list& in) { return tensor_list{conv1d(in[0], in[1], in[2], 1, "valid")}; };
  EXPECT_GRADCHECK(fv, (tensor_list{leaf64({1, 3, 6}, -1, 1, 12), leaf64({2, 3, 4}, -1, 1, 13), leaf64({2}, -1, 1, 14)}));
}

TEST(ConvGradcheck, Conv1dUnbatchedAndNonContiguous) {
  auto fn = [](const tensor_list& in) { return tensor_list{conv1d(in[0], in[1], in[2], 1, 1)}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({3, 6}, -1, 1, 15), leaf64({2, 3, 3}, -1, 1, 16), leaf64({2}, -1, 1, 17)}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig4({2, 3, 6}, 18), noncontig4({2, 3, 3}, 19), leaf64({2}, -1, 1, 20)}));
}

TEST(ConvGradcheck, Conv2dBasic) {
  auto fn = [](const tensor_list& in) { return tensor_list{conv2d(in[0], in[1], in[2])}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 3, 5, 6}, -1, 1, 1), leaf64({4, 3, 3, 3}, -1, 1, 2), leaf64({4}, -1, 1, 3)}));
}

TEST(ConvGradcheck, Conv2dStridePaddingDilationGroups) {
  auto fn = [](const tensor_list& in) {
    return tensor_list{conv2d(in[0], in[1], in[2], {2, 1}, {1, 2}, {1, 2}, 3)};
  };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({1, 6, 7, 6}, -1, 1, 4), leaf64({6, 2, 3, 2}, -1, 1, 5), leaf64({6}, -1, 1, 6)}));
  auto fs = [](const tensor_list& in) { return tensor_list{conv2d(in[0], in[1], Tensor(), {3, 2}, 0, {2, 1})}; };
  EXPECT_GRADCHECK(fs, (tensor_list{leaf64({2, 2, 8, 7}, -1, 1, 7), leaf64({3, 2, 2, 3}, -1, 1, 8)}));
}

TEST(ConvGradcheck, Conv2dTallAndWideKernels) {
  auto tall = [](const tensor_list& in) { return tensor_list{conv2d(in[0], in[1], in[2])}; };
  EXPECT_GRADCHECK(tall, (tensor_list{leaf64({1, 2, 14, 3}, -1, 1, 9), leaf64({3, 2, 12, 1}, -1, 1, 10), leaf64({3}, -1, 1, 11)}));
  auto wide = [](const tensor_list& in) { return tensor_list{conv2d(in[0], in[1], in[2], 1, {0, 3})}; };
  EXPECT_GRADCHECK(wide, (tensor_list{leaf64({2, 2, 3, 9}, -1, 1, 12), leaf64({3, 2, 1, 7}, -1, 1, 13), leaf64({3}, -1, 1, 14)}));
}

TEST(ConvGradcheck, Conv2dSameEvenKernels) {
  auto fn = [](const tensor_list& in) { return tensor_list{conv2d(in[0], in[1], in[2], 1, "same", {2, 1})}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({1, 2, 6, 5}, -1, 1, 15), leaf64({3, 2, 2, 4}, -1, 1, 16), leaf64({3}, -1, 1, 17)}));
  auto tall = [](const tensor_list& in) { return tensor_list{conv2d(in[0], in[1], in[2], 1, "same")}; };
  EXPECT_GRADCHECK(tall, (tensor_list{leaf64({1, 1, 13, 2}, -1, 1, 18), leaf64({2, 1, 12, 1}, -1, 1, 19), leaf64({2}, -1, 1, 20)}));
}

TEST(ConvGradcheck, Conv2dPointwiseGroupsNonContiguousUnbatched) {
  auto fn = [](const tensor_list& in) { return tensor_list{conv2d(in[0], in[1], in[2], 1, 0, 1, 2)}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 4, 3, 3}, -1, 1, 21), leaf64({4, 2, 1, 1}, -1, 1, 22), leaf64({4}, -1, 1, 23)}));
  auto f3 = [](const tensor_list& in) { return tensor_list{conv2d(in[0], in[1], in[2], 1, 1)}; };
  EXPECT_GRADCHECK(f3, (tensor_list{noncontig4({2, 2, 4, 5}, 24), leaf64({3, 2, 3, 3}, -1, 1, 25), leaf64({3}, -1, 1, 26)}));
  EXPECT_GRADCHECK(f3, (tensor_list{leaf64({2, 4, 5}, -1, 1, 27), leaf64({3, 2, 3, 3}, -1, 1, 28), leaf64({3}, -1, 1, 29)}));
}

TEST(ConvGradcheck, ConvTranspose1d) {
  auto fn = [](const tensor_list& in) { return tensor_list{conv_transpose1d(in[0], in[1], in[2], 2, 1, 1)}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 4, 5}, -1, 1, 1), leaf64({4, 3, 3}, -1, 1, 2), leaf64({3}, -1, 1, 3)}));
  auto fg = [](const tensor_list& in) { return tensor_list{conv_transpose1d(in[0], in[1], in[2], 3, 2, 2, 2, 2)}; };
  EXPECT_GRADCHECK(fg, (tensor_list{leaf64({1, 4, 4}, -1, 1, 4), leaf64({4, 2, 3}, -1, 1, 5), leaf64({4}, -1, 1, 6)}));
  auto fu = [](const tensor_list& in) { return tensor_list{conv_transpose1d(in[0], in[1])}; };
  EXPECT_GRADCHECK(fu, (tensor_list{leaf64({3, 4}, -1, 1, 7), leaf64({3, 2, 2}, -1, 1, 8)}));
}

TEST(ConvGradcheck, ConvTranspose2d) {
  auto fn = [](const tensor_list& in) {
    return tensor_list{conv_transpose2d(in[0], in[1], in[2], {2, 1}, {1, 0}, {1, 0}, 1, {1, 2})};
  };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({1, 2, 3, 4}, -1, 1, 9), leaf64({2, 3, 3, 2}, -1, 1, 10), leaf64({3}, -1, 1, 11)}));
}

TEST(ConvGradcheck, DoubleBackward) {
  auto f2 = [](const tensor_list& in) { return tensor_list{conv2d(in[0], in[1], in[2], 1, 1)}; };
  EXPECT_GRADGRADCHECK(f2, (tensor_list{leaf64({1, 2, 4, 4}, -1, 1, 1), leaf64({2, 2, 3, 3}, -1, 1, 2), leaf64({2}, -1, 1, 3)}));
  auto fg = [](const tensor_list& in) { return tensor_list{conv2d(in[0], in[1], in[2], {2, 1}, {0, 1}, {1, 2}, 2)}; };
  EXPECT_GRADGRADCHECK(fg, (tensor_list{leaf64({2, 2, 5, 4}, -1, 1, 4), leaf64({2, 1, 2, 2}, -1, 1, 5), leaf64({2}, -1, 1, 6)}));
  auto f1 = [](const tensor_list& in) { return tensor_list{conv1d(in[0], in[1], in[2], 2, "valid", 1)}; };
  EXPECT_GRADGRADCHECK(f1, (tensor_list{leaf64({2, 2, 7}, -1, 1, 7), leaf64({3, 2, 3}, -1, 1, 8), leaf64({3}, -1, 1, 9)}));
  auto ft = [](const tensor_list& in) { return tensor_list{conv_transpose1d(in[0], in[1], in[2], 2, 1, 1)}; };
  EXPECT_GRADGRADCHECK(ft, (tensor_list{leaf64({1, 2, 4}, -1, 1, 10), leaf64({2, 2, 3}, -1, 1, 11), leaf64({2}, -1, 1, 12)}));
  // through a nonlinearity, so the second derivative mixes x and w
  auto fs = [](const tensor_list& in) { return tensor_list{tanh(conv1d(in[0], in[1], Tensor(), 1, "same"))}; };
  EXPECT_GRADGRADCHECK(fs, (tensor_list{leaf64({1, 2, 5}, -1, 1, 13), leaf64({2, 2, 2}, -1, 1, 14)}));
}
