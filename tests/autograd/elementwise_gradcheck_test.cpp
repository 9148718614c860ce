// float64 gradcheck (and gradgradcheck) of every differentiable elementwise op, on contiguous,
// non-contiguous and broadcast inputs.
#include <cmath>

#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;
using fm::testing::noncontig64;

namespace {

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> f;
  double lo, hi;  // input domain where the op is smooth
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }, -2, 2},
      {"exp", [](const Tensor& x) { return exp(x); }, -2, 2},
      {"log", [](const Tensor& x) { return log(x); }, 0.5, 3},
      {"log1p", [](const Tensor& x) { return log1p(x); }, -0.5, 3},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, 0.5, 3},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, 0.5, 3},
      {"abs", [](const Tensor& x) { return abs(x); }, 0.1, 2},
      {"abs_neg", [](const Tensor& x) { return abs(x); }, -2, -0.1},
      {"sign", [](const Tensor& x) { return sign(x); }, 0.1, 2},
      {"sin", [](const Tensor& x) { return sin(x); }, -3, 3},
      {"cos", [](const Tensor& x) { return cos(x); }, -3, 3},
      {"tanh", [](const Tensor& x) { return tanh(x); }, -2, 2},
      {"erf", [](const Tensor& x) { return erf(x); }, -2, 2},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, -3, 3},
      {"relu_pos", [](const Tensor& x) { return relu(x); }, 0.1, 2},
      {"relu_neg", [](const Tensor& x) { return relu(x); }, -2, -0.1},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(relu(x) - relu(neg(x)), 0.2); }, 0.1, 2},
      {"leaky_relu_neg", [](const Tensor& x) { return leaky_relu(x, 0.2); }, -2, -0.1},
      {"elu_pos", [](const Tensor& x) { return elu(x, 1.5); }, 0.1, 2},
      {"elu_neg", [](const Tensor& x) { return elu(x, 1.5); }, -2, -0.1},
      {"gelu", [](const Tensor& x) { return gelu(x); }, -3, 3},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }, -3, 3},
      {"silu", [](const Tensor& x) { return silu(x); }, -3, 3},
      {"softplus", [](const Tensor& x) { return softplus(x, 2.0, 5.0); }, -3, 2},
      {"softplus_linear", [](const Tensor& x) { return softplus(x, 2.0, 5.0); }, 3, 4},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.5); }, -1, 1},
      {"clamp_min", [](const Tensor& x) { return clamp(x, 0.0, std::nullopt); }, -1, 1},
      {"pow_scalar", [](const Tensor& x) { return pow(x, 2.5); }, 0.5, 2},
      {"pow_int", [](const Tensor& x) { return pow(x, 3.0); }, -2, 2},
      {"rpow", [](const Tensor& x) { return pow(2.0, x); }, -2, 2},
      {"add_scalar", [](const Tensor& x) { return x + 3.0; }, -2, 2},
      {"mul_scalar", [](const Tensor& x) { return x * 3.0; }, -2, 2},
      {"rsub_scalar", [](const Tensor& x) { return 3.0 - x; }, -2, 2},
      {"rdiv_scalar", [](const Tensor& x) { return 3.0 / x; }, 0.5, 2},
      {"div_scalar", [](const Tensor& x) { return x / 4.0; }, -2, 2},
      {"masked_fill", [](const Tensor& x) { return masked_fill(x, gt(x, 0.0), 2.0); }, -1, 1},
  };
}

}  // namespace

class UnaryGradcheck : public ::testing::TestWithParam<int> {};

TEST_P(UnaryGradcheck, ContiguousAndNoncontiguous) {
  const UnaryCase c = unary_cases()[GetParam()];
  SCOPED_TRACE(c.name);
  auto fn = [&](const tensor_list& in) { return tensor_list{c.f(in[0])}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 3}, c.lo, c.hi)}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(3, 2, c.lo, c.hi)}));
}

TEST_P(UnaryGradcheck, SecondDerivative) {
  const UnaryCase c = unary_cases()[GetParam()];
  SCOPED_TRACE(c.name);
  auto fn = [&](const tensor_list& in) { return tensor_list{c.f(in[0])}; };
  EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({5}, c.lo, c.hi)}));
}

INSTANTIATE_TEST_SUITE_P(Ops, UnaryGradcheck, ::testing::Range(0, static_cast<int>(unary_cases().size())),
                         [](const ::testing::TestParamInfo<int>& i) { return std::string(unary_cases()[i.param].name); });

namespace {
struct BinaryCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> f;
  double lo, hi;
};
std::vector<BinaryCase> binary_cases() {
  return {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }, -2, 2},
      {"add_alpha", [](const Tensor& a, const Tensor& b) { return add(a, b, 2.5); }, -2, 2},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }, -2, 2},
      {"sub_alpha", [](const Tensor& a, const Tensor& b) { return sub(a, b, 0.5); }, -2, 2},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }, -2, 2},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }, 0.5, 2},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, -2, 2},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, -2, 2},
      {"where", [](const Tensor& a, const Tensor& b) { return where(gt(a, b), a * 2.0, b); }, -2, 2},
  };
}
}  // namespace

class BinaryGradcheck : public ::testing::TestWithParam<int> {};

TEST_P(BinaryGradcheck, SameShapeBroadcastAndNoncontiguous) {
  const BinaryCase c = binary_cases()[GetParam()];
  SCOPED_TRACE(c.name);
  auto fn = [&](const tensor_list& in) { return tensor_list{c.f(in[0], in[1])}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 3}, c.lo, c.hi, 1), leaf64({2, 3}, c.lo, c.hi, 2)}));
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({3, 1, 4}, c.lo, c.hi, 3), leaf64({2, 4}, c.lo, c.hi, 4)}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(3, 4, c.lo, c.hi, 5), leaf64({4}, c.lo, c.hi, 6)}));
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({}, c.lo, c.hi, 7), leaf64({2, 2}, c.lo, c.hi, 8)}));
}

TEST_P(BinaryGradcheck, SecondDerivative) {
  const BinaryCase c = binary_cases()[GetParam()];
  SCOPED_TRACE(c.name);
  auto fn = [&](const tensor_list& in) { return tensor_list{c.f(in[0], in[1])}; };
  EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({2, 2}, c.lo, c.hi, 11), leaf64({2}, c.lo, c.hi, 12)}));
}

INSTANTIATE_TEST_SUITE_P(Ops, BinaryGradcheck, ::testing::Range(0, static_cast<int>(binary_cases().size())),
                         [](const ::testing::TestParamInfo<int>& i) { return std::string(binary_cases()[i.param].name); });

TEST(ElementwiseGradcheck, MinimumMaximumTiesShareTheGradient) {
  Tensor a = tensor({1.0, 2.0}, {.dtype = kFloat64, .requires_grad = true});
  Tensor b = tensor({1.0, 3.0}, {.dtype = kFloat64, .requires_grad = true});
  sum(maximum(a, b)).backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0.5, 0.0}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{0.5, 1.0}));
}

TEST(ElementwiseGradcheck, PowOfZeroBaseHasZeroExponentGradient) {
  Tensor a = tensor({0.0, 2.0}, {.dtype = kFloat64, .requires_grad = true});
  Tensor e = tensor({2.0, 3.0}, {.dtype = kFloat64, .requires_grad = true});
  sum(pow(a, e)).backward();
  EXPECT_EQ(e.grad().to_vector<double>()[0], 0.0);
  EXPECT_NEAR(e.grad().to_vector<double>()[1], 8 * std::log(2.0), 1e-12);
}
