#include <cmath>

#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;
using fm::testing::noncontig64;

namespace {
void check_all(const std::function<Tensor(const Tensor&)>& f, bool second = true) {
  auto fn = [&](const tensor_list& in) { return tensor_list{f(in[0])}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 3, 4}, -1, 1, 3)}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(4, 3, -1, 1, 4)}));
  if (second) EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({3, 2}, -1, 1, 5)}));
}
}  // namespace

TEST(ReduceGradcheck, Sum) {
  check_all([](const Tensor& x) { return sum(x); });
  check_all([](const Tensor& x) { return sum(x, {0}); });
  check_all([](const Tensor& x) { return sum(x, {-1}, true); });
  check_all([](const Tensor& x) { return sum(x, {0, -1}); });
}
TEST(ReduceGradcheck, Mean) {
  check_all([](const Tensor& x) { return mean(x); });
  check_all([](const Tensor& x) { return mean(x, {1}, true); });
}
TEST(ReduceGradcheck, Prod) {
  check_all([](const Tensor& x) { return prod(x, {1}); });
  // exact zeros: one zero in a slice, then two
  auto fn = [](const tensor_list& in) { return tensor_list{prod(in[0], {1})}; };
  Tensor z = tensor({0.0, 2.0, 3.0, 0.0, 0.0, 4.0}, {.dtype = kFloat64});
  z = reshape(z, {2, 3}).detach();
  z.requires_grad_(true);
  EXPECT_GRADCHECK(fn, (tensor_list{z}));
}
TEST(ReduceGradcheck, AmaxAminMaxMin) {
  check_all([](const Tensor& x) { return amax(x, {1}); });
  check_all([](const Tensor& x) { return amin(x, {0}, true); });
  check_all([](const Tensor& x) { return max(x); });
  check_all([](const Tensor& x) { return min(x); });
  check_all([](const Tensor& x) { return max(x, 1).first; });
  check_all([](const Tensor& x) { return min(x, 0, true).first; });
}
TEST(ReduceGradcheck, VarStd) {
  check_all([](const Tensor& x) { return var(x); });
  check_all([](const Tensor& x) { return var(x, {1}, 0, true); });
  check_all([](const Tensor& x) { return fm::std(x, {0}); });
}
TEST(ReduceGradcheck, LogSumExp) {
  check_all([](const Tensor& x) { return logsumexp(x, {1}); });
  check_all([](const Tensor& x) { return logsumexp(x, {0, 1}, true); });
}
TEST(ReduceGradcheck, Norm) {
  check_all([](const Tensor& x) { return norm(x); });
  check_all([](const Tensor& x) { return norm(x, 2, {1}); });
  check_all([](const Tensor& x) { return norm(x, 3, {0}); });
  check_all([](const Tensor& x) { return norm(x, 1, {1}); }, false);
  check_all([](const Tensor& x) { return norm(x, INFINITY, {1}); }, false);
}
TEST(ReduceGradcheck, NormAtZeroHasZeroGradient) {
  Tensor x = zeros({3}, {.dtype = kFloat64, .requires_grad = true});
  norm(x).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 0}));
}
