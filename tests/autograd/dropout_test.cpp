#include "support/test_support.h"

#include <cmath>

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;
using fm::testing::noncontig64;

TEST(Dropout, SameSeedSameMask) {
  Tensor x = ones({1000});
  Generator g1(42), g2(42), g3(43);
  Tensor a = dropout(x, 0.3, true, &g1), b = dropout(x, 0.3, true, &g2), c = dropout(x, 0.3, true, &g3);
  EXPECT_TRUE(equal(a, b));
  EXPECT_FALSE(equal(a, c));
  // the generator advanced: the next mask differs, and resetting the seed repeats it
  Tensor d = dropout(x, 0.3, true, &g1);
  EXPECT_FALSE(equal(a, d));
  EXPECT_EQ(g1.offset(), 2u * 250u);
  g1.manual_seed(42);
  EXPECT_TRUE(equal(a, dropout(x, 0.3, true, &g1)));
}

TEST(Dropout, MaskIsBernoulliOfOneMinusP) {
  // the same Philox draws as bernoulli(1 - p): the kept positions coincide
  const double p = 0.25;
  Generator g1(7), g2(7);
  Tensor y = dropout(ones({2, 37}, {.dtype = kFloat64}), p, true, &g1);
  Tensor keep = bernoulli({2, 37}, 1 - p, {.dtype = kFloat64}, &g2);
  EXPECT_CLOSE(y, mul(keep, 1.0 / (1 - p)), 0, 1e-15);
  // every value is 0 or 1/(1-p)
  for (double v : y.to_vector<double>()) EXPECT_TRUE(v == 0.0 || std::abs(v - 1 / (1 - p)) < 1e-15);
}

TEST(Dropout, FractionKeptAndMeanPreserved) {
  Generator g(1);
  const int64_t n = 1 << 20;  // large: exercises the threaded path
  for (double p : {0.1, 0.5, 0.9}) {
    Tensor y = dropout(ones({n}), p, true, &g);
    const double kept = sum(to(ne(y, 0.0), kFloat64)).item() / static_cast<double>(n);
    const double sd = std::sqrt(p * (1 - p) / static_cast<double>(n));
    EXPECT_NEAR(kept, 1 - p, 6 * sd) << "p = " << p;
    EXPECT_NEAR(mean(y).item(), 1.0, 6 * sd / (1 - p)) << "p = " << p;
  }
}

TEST(Dropout, EdgeCases) {
  Tensor x = add(arange(0, 6, 1, {.dtype = kFloat32}), 1.0);
  EXPECT_TRUE(dropout(x, 0.0, true).is_same(x));
  EXPECT_TRUE(dropout(x, 0.7, false).is_same(x));
  Tensor z = dropout(x, 1.0, true);
  EXPECT_EQ(z.to_vector<float>(), std::vector<float>(6, 0.f));
  // non-contiguous input: element i of the row-major order uses draw i
  Tensor nc = transpose(reshape(x, {2, 3}), 0, 1);
  Generator g1(5), g2(5);
  Tensor a = dropout(nc, 0.5, true, &g1);
  Tensor b = dropout(contiguous(nc), 0.5, true, &g2);
  EXPECT_TRUE(equal(a, b));
  EXPECT_THROW_MSG(dropout(x, 1.5, true), "dropout: probability p must be in [0, 1], got 1.5");
  EXPECT_THROW_MSG(dropout(arange(4), 0.5, true), "dropout: expected a floating-point input");
  // p = 1: zero gradient
  Tensor w = ones({3}, {.requires_grad = true});
  sum(dropout(w, 1.0, true)).backward();
  EXPECT_EQ(w.grad().to_vector<float>(), std::vector<float>(3, 0.f));
}

TEST(Dropout, GradientIsMaskOverKeep) {
  Generator g(9);
  Tensor x = ones({64}, {.requires_grad = true});
  Tensor y = dropout(x, 0.4, true, &g);
  sum(y).backward();
  // dy/dx = mask / (1 - p) = y / x here
  EXPECT_CLOSE(x.grad(), y.detach(), 1e-6, 1e-6);
}

TEST(Dropout, Gradcheck) {
  Generator g(123);
  // reset the generator on every call so each evaluation sees the same mask
  auto fn = [&g](const tensor_list& x) {
    g.manual_seed(123);
    return tensor_list{dropout(x[0], 0.3, true, &g)};
  };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({4, 5})}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(4, 5)}));
  EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({3, 4})}));
  // composed with a nonlinear op and a broadcast
  auto fn2 = [&g](const tensor_list& x) {
    g.manual_seed(77);
    return tensor_list{mul(dropout(mul(x[0], x[0]), 0.5, true, &g), x[1])};
  };
  EXPECT_GRADCHECK(fn2, (tensor_list{leaf64({3, 4}), leaf64({1, 4}, -1, 1, 3)}));
  EXPECT_GRADGRADCHECK(fn2, (tensor_list{leaf64({3, 4}), leaf64({1, 4}, -1, 1, 3)}));
}
