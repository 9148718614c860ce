#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;
using fm::testing::noncontig64;

namespace {
// gradcheck (and gradgradcheck when asked) of a one-input op
void check(const std::function<Tensor(const Tensor&)>& f, const Tensor& in, bool second = false) {
  auto fn = [&](const tensor_list& x) { return tensor_list{f(x[0]) * 1.0}; };
  EXPECT_GRADCHECK(fn, (tensor_list{in}));
  if (second) EXPECT_GRADGRADCHECK(fn, (tensor_list{in}));
}
}  // namespace

TEST(ShapeGradcheck, Cat) {
  auto fn0 = [](const tensor_list& x) { return tensor_list{cat(x, 0)}; };
  EXPECT_GRADCHECK(fn0, (tensor_list{leaf64({2, 3}), leaf64({1, 3}, -1, 1, 8), noncontig64(2, 3)}));
  auto fn1 = [](const tensor_list& x) { return tensor_list{cat({x[0], x[1]}, -1)}; };
  EXPECT_GRADCHECK(fn1, (tensor_list{noncontig64(3, 2), leaf64({3, 1})}));
  EXPECT_GRADGRADCHECK(fn1, (tensor_list{noncontig64(3, 2), leaf64({3, 1})}));
  // one input without gradient, of another dtype
  Tensor c = ones({1, 2}, {.dtype = kFloat32});
  auto fn2 = [c](const tensor_list& x) { return tensor_list{cat({x[0], c}, 0)}; };
  EXPECT_GRADCHECK(fn2, (tensor_list{leaf64({2, 2})}));
}

TEST(ShapeGradcheck, Stack) {
  auto fn = [](const tensor_list& x) { return tensor_list{stack(x, 1)}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({3, 2}), noncontig64(3, 2)}));
  EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({3, 2}), noncontig64(3, 2)}));
}

TEST(ShapeGradcheck, SplitAndChunk) {
  auto fn = [](const tensor_list& x) {
    auto p = split(x[0], 2, 1);
    return tensor_list{p[0] * 1.0, mul(p[2], p[2])};  // the middle piece is unused
  };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 5})}));
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(3, 5)}));
  EXPECT_GRADGRADCHECK(fn, (tensor_list{leaf64({2, 5})}));
  auto fn2 = [](const tensor_list& x) {
    auto p = split(x[0], std::vector<int64_t>{1, 3}, 0);
    return tensor_list{p[1] * 2.0, p[0] * 1.0};
  };
  EXPECT_GRADCHECK(fn2, (tensor_list{noncontig64(4, 2)}));
  auto fn3 = [](const tensor_list& x) {
    tensor_list out;
    for (const Tensor& c : chunk(x[0], 3, -1)) out.push_back(c * 1.0);
    return out;
  };
  EXPECT_GRADCHECK(fn3, (tensor_list{leaf64({2, 7})}));
}

TEST(ShapeGradcheck, FlipRollTriangles) {
  check([](const Tensor& x) { return flip(x, {0}); }, leaf64({3, 2}), true);
  check([](const Tensor& x) { return flip(x, {0, 1}); }, noncontig64(3, 4));
  check([](const Tensor& x) { return roll(x, 2, 1); }, leaf64({2, 5}), true);
  check([](const Tensor& x) { return roll(x, {-1, 3}, {0, 1}); }, noncontig64(3, 4));
  check([](const Tensor& x) { return roll(x, std::vector<int64_t>{5}); }, noncontig64(2, 3));
  check([](const Tensor& x) { return tril(x); }, leaf64({3, 3}), true);
  check([](const Tensor& x) { return tril(x, 1); }, noncontig64(3, 4));
  check([](const Tensor& x) { return triu(x, -1); }, leaf64({2, 3, 3}), true);
  check([](const Tensor& x) { return triu(x); }, noncontig64(4, 3));
}

TEST(ShapeGradcheck, Pad) {
  check([](const Tensor& x) { return pad(x, {1, 2}, "constant", 3.0); }, leaf64({2, 3}), true);
  check([](const Tensor& x) { return pad(x, {1, 0, 0, 2}); }, noncontig64(3, 2));
  check([](const Tensor& x) { return pad(x, {-1, 1, 1, -1}); }, leaf64({3, 3}), true);
  check([](const Tensor& x) { return pad(x, {2, 1}, "reflect"); }, leaf64({2, 4}), true);
  check([](const Tensor& x) { return pad(x, {1, 1, 2, 1}, "reflect"); }, noncontig64(3, 3));
  check([](const Tensor& x) { return pad(x, {2, 3}, "replicate"); }, leaf64({2, 3}), true);
  check([](const Tensor& x) { return pad(x, {1, 0, 1, 2}, "replicate"); }, noncontig64(2, 3));
}

TEST(ShapeGradcheck, Repeat) {
  check([](const Tensor& x) { return repeat(x, {2, 3}); }, leaf64({2, 1}), true);
  check([](const Tensor& x) { return repeat(x, {2, 1, 2}); }, noncontig64(2, 3));
  // broadcast: a repeated row multiplied into a larger tensor
  Tensor w = leaf64({4, 3}, -1, 1, 11).detach();
  check([w](const Tensor& x) { return mul(repeat(x, {4, 1}), w); }, leaf64({1, 3}), true);
  check([w](const Tensor& x) { return add(tril(x), w); }, leaf64({1, 3}));  // tril of a row, broadcast
}
