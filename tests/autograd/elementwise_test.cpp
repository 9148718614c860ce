#include <cmath>

#include "support/test_support.h"

using namespace fm;

TEST(Elementwise, BroadcastingFollowsNumPy) {
  Tensor a = reshape(arange(0, 6, 1, {.dtype = kFloat32}), {2, 3, 1});
  Tensor b = reshape(arange(0, 4, 1, {.dtype = kFloat32}), {4});
  Tensor c = a + b;
  EXPECT_EQ(c.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(c.to_vector<float>()[4 * 5 + 3], 5.0f + 3.0f);
  EXPECT_THROW_MSG(a + zeros({2, 2}), "cannot be broadcast");
}

TEST(Elementwise, TypePromotion) {
  Tensor i = arange(3);
  EXPECT_EQ((i + 1.0).dtype(), kInt64);
  EXPECT_EQ((i * 0.5).dtype(), kFloat32);
  EXPECT_EQ((i + ones({3}, {.dtype = kFloat64})).dtype(), kFloat64);
  EXPECT_EQ(exp(i).dtype(), kFloat32);
  EXPECT_EQ(div(i, i + 1.0).dtype(), kFloat32);
}

TEST(Elementwise, ValuesMatchTheScalarFormulas) {
  Tensor x = tensor({-2.0, -0.5, 0.0, 0.5, 2.0}, {.dtype = kFloat64});
  auto v = [](const Tensor& t) { return t.to_vector<double>(); };
  EXPECT_EQ(v(relu(x)), (std::vector<double>{0, 0, 0, 0.5, 2}));
  EXPECT_EQ(v(leaky_relu(x, 0.1))[0], -0.2);
  EXPECT_NEAR(v(gelu(x))[4], 2 * 0.5 * (1 + std::erf(2 / std::sqrt(2.0))), 1e-15);
  EXPECT_NEAR(v(gelu(x, "tanh"))[3], 0.3457140, 1e-6);
  EXPECT_NEAR(v(silu(x))[4], 2 / (1 + std::exp(-2.0)), 1e-15);
  EXPECT_NEAR(v(softplus(x))[0], std::log1p(std::exp(-2.0)), 1e-15);
  EXPECT_EQ(v(softplus(full({1}, 30.0, {.dtype = kFloat64})))[0], 30.0);  // linear regime
  EXPECT_NEAR(v(elu(x))[0], std::expm1(-2.0), 1e-15);
  EXPECT_EQ(v(clamp(x, -1.0, 1.0)), (std::vector<double>{-1, -0.5, 0, 0.5, 1}));
  EXPECT_EQ(v(sign(x)), (std::vector<double>{-1, -1, 0, 1, 1}));
  EXPECT_EQ(v(pow(x, 2.0)), (std::vector<double>{4, 0.25, 0, 0.25, 4}));
  EXPECT_EQ(v(where(gt(x, 0.0), x, neg(x))), (std::vector<double>{2, 0.5, 0, 0.5, 2}));
  EXPECT_EQ(v(masked_fill(x, lt(x, 0.0), -9.0)), (std::vector<double>{-9, -9, 0, 0.5, 2}));
  EXPECT_THROW_MSG(gelu(x, "erf"), "approximate");
}

TEST(Elementwise, NaNPropagatesThroughMinimumMaximum) {
  Tensor a = tensor({NAN, 1.0});
  Tensor b = tensor({0.0, NAN});
  auto m = maximum(a, b).to_vector<float>();
  EXPECT_TRUE(std::isnan(m[0]) && std::isnan(m[1]));
}

TEST(Elementwise, ComparisonsAndLogic) {
  Tensor a = tensor({1.0, 2.0, 3.0});
  Tensor b = tensor({3.0, 2.0, 1.0});
  EXPECT_EQ(lt(a, b).dtype(), kBool);
  EXPECT_EQ(lt(a, b).to_vector<bool>(), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(eq(a, 2.0).to_vector<bool>(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(logical_not(ge(a, b)).to_vector<bool>(), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(logical_xor(gt(a, 1.0), lt(b, 3.0)).to_vector<bool>(), (std::vector<bool>{false, false, false}));
  EXPECT_TRUE(equal(a, a));
  EXPECT_FALSE(equal(a, b));
}

TEST(Elementwise, InPlaceOpsBumpTheVersionAndShareViews) {
  Tensor x = zeros({2, 3});
  Tensor row = select(x, 0, 1);
  const uint64_t v0 = x.version();
  fill_(row, 4.0);
  EXPECT_GT(x.version(), v0);  // the view shares the counter
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{0, 0, 0, 4, 4, 4}));
  add_(x, ones({3}), 2.0);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{2, 2, 2, 6, 6, 6}));
  mul_(x, 0.5);
  copy_(narrow(x, 1, 0, 1), full({2, 1}, -1.0));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{-1, 1, 1, -1, 3, 3}));
  zero_(x);
  EXPECT_EQ(sum(x).item(), 0.0);
  EXPECT_THROW_MSG(add_(x, ones({4})), "cannot be broadcast");
  Tensor small = zeros({3});
  EXPECT_THROW_MSG(add_(small, ones({2, 3})), "does not broadcast");
}

TEST(Elementwise, LargeTensorsMatchSmallOnesAcrossThreads) {
  // the parallel path must compute the same values as the serial one
  Tensor big = rand({300001}, {.dtype = kFloat64});
  Tensor y = exp(big) * 2.0 + big;
  auto bv = big.to_vector<double>();
  auto yv = y.to_vector<double>();
  for (size_t i = 0; i < bv.size(); i += 9973) EXPECT_DOUBLE_EQ(yv[i], std::exp(bv[i]) * 2.0 + bv[i]);
  Tensor bt = t(reshape(big.detach(), {1, -1}));  // strided path
  EXPECT_CLOSE(reshape(exp(bt), {-1}), exp(big));
}
