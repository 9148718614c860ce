// Float64 gradchecks of pooling: max (padding, dilation, ceil_mode, indices), average
// (count_include_pad, ceil_mode, divisor_override), adaptive average and max whose windows
// overlap, non-contiguous and unbatched inputs, and gradgradchecks.
#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;
using fm::testing::noncontig64;

TEST(PoolGradcheck, MaxPool1d) {
  auto fn = [](const tensor_list& in) { return tensor_list{max_pool1d(in[0], 3, 2, 1, 1, true)}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 3, 8}, -1, 1, 1)}));
  auto fd = [](const tensor_list& in) { return tensor_list{max_pool1d(in[0], 2, 1, 0, 2)}; };
  EXPECT_GRADCHECK(fd, (tensor_list{leaf64({1, 2, 7}, -1, 1, 2)}));
  auto fu = [](const tensor_list& in) { return tensor_list{max_pool1d(in[0], 2)}; };
  EXPECT_GRADCHECK(fu, (tensor_list{noncontig64(3, 6, -1, 1, 3)}));  // unbatched [C, L], non-contiguous
}

TEST(PoolGradcheck, MaxPool2d) {
  auto fn = [](const tensor_list& in) { return tensor_list{max_pool2d(in[0], {3, 2}, Int2{2, 1}, {1, 0}, {1, 2}, true)}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 2, 7, 6}, -1, 1, 4)}));
  auto fi = [](const tensor_list& in) { return tensor_list{max_pool2d_with_indices(in[0], 2).first}; };
  EXPECT_GRADCHECK(fi, (tensor_list{leaf64({1, 2, 4, 5}, -1, 1, 5)}));
  auto ft = [](const tensor_list& in) { return tensor_list{max_pool2d(transpose(in[0], 1, 2), {2, 1})}; };
  EXPECT_GRADCHECK(ft, (tensor_list{leaf64({4, 2, 3}, -1, 1, 6)}));  // unbatched, non-contiguous view
}

TEST(PoolGradcheck, AvgPool1d) {
  for (bool include : {true, false}) {
    for (bool ceil : {false, true}) {
      SCOPED_TRACE(std::to_string(include) + std::to_string(ceil));
      auto fn = [=](const tensor_list& in) { return tensor_list{avg_pool1d(in[0], 3, 2, 1, ceil, include)}; };
      EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 2, 8}, -1, 1, 7)}));
    }
  }
}

TEST(PoolGradcheck, AvgPool2d) {
  auto fn = [](const tensor_list& in) { return tensor_list{avg_pool2d(in[0], {3, 2}, Int2{2, 1}, {1, 1}, true, false)}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({1, 2, 6, 5}, -1, 1, 8)}));
  auto fd = [](const tensor_list& in) { return tensor_list{avg_pool2d(in[0], 2, std::nullopt, 1, false, true, 3)}; };
  EXPECT_GRADCHECK(fd, (tensor_list{leaf64({2, 1, 5, 4}, -1, 1, 9)}));
}

TEST(PoolGradcheck, Adaptive) {
  auto a1 = [](const tensor_list& in) { return tensor_list{adaptive_avg_pool1d(in[0], 4)}; };
  EXPECT_GRADCHECK(a1, (tensor_list{leaf64({2, 2, 7}, -1, 1, 10)}));
  auto a2 = [](const tensor_list& in) { return tensor_list{adaptive_avg_pool2d(in[0], {3, 2})}; };
  EXPECT_GRADCHECK(a2, (tensor_list{leaf64({1, 2, 5, 7}, -1, 1, 11)}));
  auto m1 = [](const tensor_list& in) { return tensor_list{adaptive_max_pool1d(in[0], 3)}; };
  EXPECT_GRADCHECK(m1, (tensor_list{leaf64({2, 2, 7}, -1, 1, 12)}));
  auto m2 = [](const tensor_list& in) { return tensor_list{adaptive_max_pool2d(in[0], {4, 3})}; };
  EXPECT_GRADCHECK(m2, (tensor_list{leaf64({1, 2, 6, 5}, -1, 1, 13)}));
  auto up = [](const tensor_list& in) { return tensor_list{adaptive_avg_pool2d(in[0], {5, 3})}; };  // output > input
  EXPECT_GRADCHECK(up, (tensor_list{leaf64({1, 1, 3, 2}, -1, 1, 14)}));
}

TEST(PoolGradcheck, DoubleBackward) {
  auto fm_ = [](const tensor_list& in) { return tensor_list{max_pool2d(in[0], 2, 1)}; };
  EXPECT_GRADGRADCHECK(fm_, (tensor_list{leaf64({1, 2, 4, 4}, -1, 1, 15)}));
  auto fa = [](const tensor_list& in) { return tensor_list{avg_pool1d(in[0], 3, 2, 1, true, false)}; };
  EXPECT_GRADGRADCHECK(fa, (tensor_list{leaf64({1, 2, 7}, -1, 1, 16)}));
  auto fd = [](const tensor_list& in) { return tensor_list{adaptive_avg_pool2d(in[0], {2, 3})}; };
  EXPECT_GRADGRADCHECK(fd, (tensor_list{leaf64({1, 1, 5, 4}, -1, 1, 17)}));
  // through a nonlinearity: the second derivative passes the max's routing twice
  auto ft = [](const tensor_list& in) { return tensor_list{tanh(adaptive_max_pool1d(mul(in[0], in[0]), 3))}; };
  EXPECT_GRADGRADCHECK(ft, (tensor_list{leaf64({1, 2, 7}, 0.1, 1, 18)}));
}
