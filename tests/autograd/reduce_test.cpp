#include <cmath>

#include "support/test_support.h"

using namespace fm;

TEST(Reduce, SumMeanOverAnyDims) {
  Tensor x = reshape(arange(0, 24, 1, {.dtype = kFloat64}), {2, 3, 4});
  EXPECT_EQ(sum(x).item(), 276.0);
  EXPECT_EQ(sum(x, {1}).sizes(), (Shape{2, 4}));
  EXPECT_EQ(sum(x, {1}).to_vector<double>()[0], 0 + 4 + 8);
  EXPECT_EQ(sum(x, {0, 2}, true).sizes(), (Shape{1, 3, 1}));
  EXPECT_EQ(sum(x, {0, 2}).to_vector<double>(), (std::vector<double>{60, 92, 124}));
  EXPECT_EQ(mean(x, {-1}).to_vector<double>()[5], 21.5);
  EXPECT_CLOSE(sum(transpose(x, 0, 2), {0}), t(sum(x, {2})));
  EXPECT_THROW_MSG(sum(x, {3}), "out of range");
  EXPECT_THROW_MSG(sum(x, {1, -2}), "more than once");
}

TEST(Reduce, OuterAndInnerLayoutsAgreeOnLargeTensors) {
  Tensor x = rand({513, 1031}, {.dtype = kFloat64});
  auto v = x.to_vector<double>();
  std::vector<double> col(1031, 0), row(513, 0);
  for (int64_t i = 0; i < 513; ++i)
    for (int64_t j = 0; j < 1031; ++j) col[j] += v[i * 1031 + j], row[i] += v[i * 1031 + j];
  EXPECT_CLOSE(sum(x, {0}), from_vector(col, {1031}), 1e-12, 1e-12);
  EXPECT_CLOSE(sum(x, {1}), from_vector(row, {513}), 1e-12, 1e-12);
  Tensor f = rand({4000000});
  double total = 0;
  for (float e : f.to_vector<float>()) total += e;
  EXPECT_NEAR(sum(f).item(), total, 0.07);  // accumulated in double: only the final float rounding
}

TEST(Reduce, MaxMinArgmaxWithIndices) {
  Tensor x = tensor({3.0, 9.0, 9.0, 1.0, 0.0, 5.0});
  x = reshape(x, {2, 3});
  auto [v, i] = max(x, 1);
  EXPECT_EQ(v.to_vector<float>(), (std::vector<float>{9, 5}));
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));  // first of ties
  EXPECT_EQ(argmin(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(argmax(x).item<int64_t>(), 1);
  EXPECT_EQ(amax(x, {0}).to_vector<float>(), (std::vector<float>{3, 9, 9}));
  EXPECT_EQ(min(x).item(), 0.0);
  EXPECT_EQ(max(x, 0, true).first.sizes(), (Shape{1, 3}));
  EXPECT_THROW_MSG(max(zeros({0, 2}), 0), "size 0");
  Tensor n = tensor({1.0, NAN, 3.0});
  EXPECT_TRUE(std::isnan(amax(n).item()));
  EXPECT_EQ(argmax(n).item<int64_t>(), 1);
}

TEST(Reduce, VarStdLogSumExpNorm) {
  Tensor x = tensor({1.0, 2.0, 3.0, 4.0}, {.dtype = kFloat64});
  EXPECT_NEAR(var(x).item(), 5.0 / 3.0, 1e-15);
  EXPECT_NEAR(var(x, {}, 0).item(), 1.25, 1e-15);
  EXPECT_NEAR(fm::std(x).item(), std::sqrt(5.0 / 3.0), 1e-15);
  EXPECT_NEAR(logsumexp(x, {0}).item(), std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0) + std::exp(4.0)), 1e-14);
  Tensor big = tensor({1000.0, 1000.0}, {.dtype = kFloat64});
  EXPECT_NEAR(logsumexp(big, {0}).item(), 1000 + std::log(2.0), 1e-12);  // no overflow
  Tensor ninf = tensor({-INFINITY, -INFINITY});
  EXPECT_EQ(logsumexp(ninf, {0}).item(), -INFINITY);
  EXPECT_NEAR(norm(x).item(), std::sqrt(30.0), 1e-15);
  EXPECT_NEAR(norm(x, 1).item(), 10.0, 1e-15);
  EXPECT_NEAR(norm(x, INFINITY).item(), 4.0, 1e-15);
  EXPECT_NEAR(norm(x, 3).item(), std::cbrt(100.0), 1e-12);
}

TEST(Reduce, EmptyReductions) {
  Tensor e = zeros({0, 3});
  EXPECT_EQ(sum(e, {0}).to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(prod(e, {0}).to_vector<float>(), (std::vector<float>{1, 1, 1}));
  EXPECT_THROW_MSG(amax(e), "empty");
}
