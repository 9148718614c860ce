#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;
using fm::testing::noncontig64;

TEST(LinalgGradcheck, Mm) {
  auto fn = [](const tensor_list& in) { return tensor_list{mm(in[0], in[1])}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 3}, -1, 1, 1), leaf64({3, 4}, -1, 1, 2)}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(2, 3, -1, 1, 3), noncontig64(3, 2, -1, 1, 4)}));
  EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({2, 2}, -1, 1, 5), leaf64({2, 3}, -1, 1, 6)}));
}
TEST(LinalgGradcheck, Bmm) {
  auto fn = [](const tensor_list& in) { return tensor_list{bmm(in[0], in[1])}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 2, 3}, -1, 1, 1), leaf64({2, 3, 2}, -1, 1, 2)}));
  auto fnt = [](const tensor_list& in) { return tensor_list{bmm(transpose(in[0], 1, 2), in[1])}; };
  EXPECT_GRADCHECK(fnt, (tensor_list{leaf64({2, 3, 2}, -1, 1, 3), leaf64({2, 3, 2}, -1, 1, 4)}));
}
TEST(LinalgGradcheck, MatmulBroadcastAndVectors) {
  auto fn = [](const tensor_list& in) { return tensor_list{matmul(in[0], in[1])}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 1, 2, 3}, -1, 1, 1), leaf64({3, 3, 2}, -1, 1, 2)}));
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 2, 3}, -1, 1, 3), leaf64({3, 2}, -1, 1, 4)}));
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({3}, -1, 1, 5), leaf64({2, 3, 2}, -1, 1, 6)}));
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 3}, -1, 1, 7), leaf64({3}, -1, 1, 8)}));
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({3}, -1, 1, 9), leaf64({3}, -1, 1, 10)}));
}
TEST(LinalgGradcheck, AddmmLinearOuter) {
  auto fa = [](const tensor_list& in) { return tensor_list{addmm(in[0], in[1], in[2], 0.5, 2.0)}; };
  EXPECT_GRADCHECK(fa, (tensor_list{leaf64({4}, -1, 1, 1), leaf64({2, 3}, -1, 1, 2), leaf64({3, 4}, -1, 1, 3)}));
  auto fl = [](const tensor_list& in) { return tensor_list{linear(in[0], in[1], in[2])}; };
  EXPECT_GRADCHECK(fl, (tensor_list{leaf64({2, 3}, -1, 1, 4), leaf64({4, 3}, -1, 1, 5), leaf64({4}, -1, 1, 6)}));
  EXPECT_GRADCHECK(fl, (tensor_list{leaf64({2, 2, 3}, -1, 1, 7), leaf64({4, 3}, -1, 1, 8), leaf64({4}, -1, 1, 9)}));
  EXPECT_GRADGRADCHECK(fl, (tensor_list{leaf64({2, 3}, -1, 1, 4), leaf64({2, 3}, -1, 1, 5), leaf64({2}, -1, 1, 6)}));
  auto fo = [](const tensor_list& in) { return tensor_list{outer(in[0], in[1])}; };
  EXPECT_GRADCHECK(fo, (tensor_list{leaf64({3}, -1, 1, 1), leaf64({2}, -1, 1, 2)}));
}
TEST(SoftmaxGradcheck, AnyDim) {
  for (int64_t d : {0, 1, -1}) {
    SCOPED_TRACE(d);
    auto fs = [d](const tensor_list& in) { return tensor_list{softmax(in[0], d)}; };
    auto fl = [d](const tensor_list& in) { return tensor_list{log_softmax(in[0], d)}; };
    EXPECT_GRADCHECK(fs, (tensor_list{leaf64({2, 3, 4}, -2, 2, 1)}));
    EXPECT_GRADCHECK(fl, (tensor_list{leaf64({2, 3, 4}, -2, 2, 2)}));
    EXPECT_GRADCHECK(fs, (tensor_list{noncontig64(3, 4, -2, 2, 3)}));
    EXPECT_GRADGRADCHECK(fs, (tensor_list{leaf64({2, 3}, -2, 2, 4)}));
    EXPECT_GRADGRADCHECK(fl, (tensor_list{leaf64({2, 3}, -2, 2, 5)}));
  }
}
