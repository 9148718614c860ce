#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;
using fm::testing::noncontig64;

namespace {
Tensor idx(std::vector<int64_t> v, Shape s = {}) {
  if (s.empty()) s = {static_cast<int64_t>(v.size())};
  return from_vector(v, s);
}
}  // namespace

TEST(IndexGradcheck, IndexSelect) {
  const Tensor i = idx({2, 0, 2, 1});  // repeated index: gradients accumulate
  auto fn0 = [i](const tensor_list& x) { return tensor_list{index_select(x[0], 0, i)}; };
  EXPECT_GRADCHECK(fn0, (tensor_list{leaf64({3, 2})}));
  EXPECT_GRADCHECK(fn0, (tensor_list{noncontig64(3, 4)}));
  EXPECT_GRADGRADCHECK(fn0, (tensor_list{leaf64({3, 2})}));
  auto fn1 = [i](const tensor_list& x) { return tensor_list{index_select(x[0], -1, i)}; };
  EXPECT_GRADCHECK(fn1, (tensor_list{noncontig64(2, 3)}));
  // composed with a broadcast multiply (second derivative through both)
  auto fn2 = [i](const tensor_list& x) { return tensor_list{mul(index_select(x[0], 1, i), x[1])}; };
  EXPECT_GRADCHECK(fn2, (tensor_list{leaf64({2, 3}), leaf64({1, 4}, -1, 1, 3)}));
  EXPECT_GRADGRADCHECK(fn2, (tensor_list{leaf64({2, 3}), leaf64({1, 4}, -1, 1, 3)}));
}

TEST(IndexGradcheck, Gather) {
  const Tensor i = idx({2, 0, 1, 1, 0, 0}, {2, 3});
  auto fn = [i](const tensor_list& x) { return tensor_list{gather(x[0], 1, i)}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 3})}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(3, 3)}));  // index smaller than x in dim 0
  EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({2, 3})}));
  const Tensor i0 = idx({1, 0, 2, 2}, {2, 2});
  auto fn0 = [i0](const tensor_list& x) { return tensor_list{gather(x[0], 0, i0)}; };
  EXPECT_GRADCHECK(fn0, (tensor_list{noncontig64(3, 2)}));
}

TEST(IndexGradcheck, Scatter) {
  // distinct targets per row: with duplicates only the last write counts, and the gradient
  // (gather, as in PyTorch) would not match finite differences
  const Tensor i = idx({2, 0, 1, 0}, {2, 2});
  auto fn = [i](const tensor_list& x) { return tensor_list{scatter(x[0], 1, i, x[1])}; };
  // src larger than index: its extra elements get zero gradient
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 3}), leaf64({2, 3}, -1, 1, 5)}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(2, 3), noncontig64(2, 2)}));
  EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({2, 3}), leaf64({2, 2}, -1, 1, 5)}));
  auto fnv = [i](const tensor_list& x) { return tensor_list{scatter(x[0], 1, i, 0.5)}; };
  EXPECT_GRADCHECK(fnv, (tensor_list{noncontig64(2, 3)}));
  EXPECT_GRADGRADCHECK(fnv, (tensor_list{leaf64({2, 3})}));
}

TEST(IndexGradcheck, ScatterAdd) {
  const Tensor i = idx({0, 0, 2, 1, 1, 1}, {2, 3});
  auto fn = [i](const tensor_list& x) { return tensor_list{scatter_add(x[0], 1, i, x[1])}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 3}), leaf64({3, 4}, -1, 1, 5)}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(2, 3), noncontig64(2, 3)}));
  EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({2, 3}), leaf64({2, 3}, -1, 1, 5)}));
  // nonlinear around it, so the second derivative is not trivially zero
  auto fn2 = [i](const tensor_list& x) {
    Tensor y = scatter_add(x[0], 0, transpose(i, 0, 1), mul(x[1], x[1]));
    return tensor_list{mul(y, y)};
  };
  EXPECT_GRADCHECK(fn2, (tensor_list{leaf64({3, 2}), leaf64({3, 2}, -1, 1, 5)}));
  EXPECT_GRADGRADCHECK(fn2, (tensor_list{leaf64({3, 2}), leaf64({3, 2}, -1, 1, 5)}));
}

TEST(IndexGradcheck, IndexAdd) {
  const Tensor i = idx({2, 0, 2});
  auto fn = [i](const tensor_list& x) { return tensor_list{index_add(x[0], 0, i, x[1], 0.5)}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({3, 2}), leaf64({3, 2}, -1, 1, 5)}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(3, 2), noncontig64(3, 2)}));
  EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({3, 2}), leaf64({3, 2}, -1, 1, 5)}));
  auto fn1 = [i](const tensor_list& x) { return tensor_list{index_add(x[0], 1, i, x[1])}; };
  EXPECT_GRADCHECK(fn1, (tensor_list{noncontig64(2, 4), leaf64({2, 3}, -1, 1, 5)}));
}

TEST(IndexGradcheck, Embedding) {
  const Tensor i = idx({3, 0, 3, 1, 2, 0}, {2, 3});
  auto fn = [i](const tensor_list& x) { return tensor_list{embedding(x[0], i)}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({4, 2})}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(4, 3)}));
  EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({4, 2})}));
  // padding row: the analytic gradient is zero there, so check that exactly
  auto fnp = [i](const tensor_list& x) { return tensor_list{mul(embedding(x[0], i, 0), 1.0)}; };
  Tensor w = leaf64({4, 2});
  Tensor y = fnp({w})[0];
  Tensor gw = autograd::grad({sum(mul(y, y))}, {w})[0];
  auto gv = gw.to_vector<double>();
  EXPECT_EQ(gv[0], 0.0);
  EXPECT_EQ(gv[1], 0.0);
  EXPECT_NE(gv[6], 0.0);
  // and gradgradcheck on the padded version (its gradient is linear in g)
  EXPECT_GRADGRADCHECK(fnp, (tensor_list{leaf64({4, 2})}));
}
