#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;
using fm::testing::noncontig64;

namespace {
void check(const std::function<Tensor(const Tensor&)>& f, const Tensor& in) {
  auto fn = [&](const tensor_list& x) { return tensor_list{f(x[0]) * 1.0}; };
  EXPECT_GRADCHECK(fn, (tensor_list{in}));
  EXPECT_GRADGRADCHECK(fn, (tensor_list{in}));
}
}  // namespace

TEST(ViewsGradcheck, EveryView) {
  check([](const Tensor& x) { return reshape(x, {3, 4}); }, leaf64({2, 6}));
  check([](const Tensor& x) { return reshape(x, {-1}); }, noncontig64(3, 4));
  check([](const Tensor& x) { return view(x, {4, 3}); }, leaf64({2, 6}));
  check([](const Tensor& x) { return flatten(x); }, leaf64({2, 3, 2}));
  check([](const Tensor& x) { return permute(x, {2, 0, 1}); }, leaf64({2, 3, 2}));
  check([](const Tensor& x) { return transpose(x, 0, 1); }, leaf64({2, 3}));
  check([](const Tensor& x) { return narrow(x, 1, 1, 2); }, leaf64({2, 4}));
  check([](const Tensor& x) { return slice(x, 0, 0, 5, 2); }, leaf64({5, 2}));
  check([](const Tensor& x) { return slice(x, 1, 1, 3); }, noncontig64(3, 4));
  check([](const Tensor& x) { return select(x, 1, 2); }, leaf64({2, 4}));
  check([](const Tensor& x) { return select(x, 0, 1); }, noncontig64(3, 4));
  check([](const Tensor& x) { return expand(x, {3, 2, 4}); }, leaf64({2, 1}));
  check([](const Tensor& x) { return squeeze(x); }, leaf64({1, 3, 1}));
  check([](const Tensor& x) { return unsqueeze(x, 1); }, leaf64({3, 2}));
  check([](const Tensor& x) { return unfold(x, 0, 3, 1); }, leaf64({6}));
  check([](const Tensor& x) { return unfold(x, 1, 2, 2); }, leaf64({2, 5}));
  check([](const Tensor& x) { return unfold(x, 0, 2, 1); }, noncontig64(4, 3));
  check([](const Tensor& x) { return diagonal(x, -1); }, leaf64({3, 4}));
  check([](const Tensor& x) { return diagonal(x, 1); }, noncontig64(3, 4));
  check([](const Tensor& x) { return movedim(x, 0, 2); }, leaf64({2, 3, 2}));
  check([](const Tensor& x) { return contiguous(x); }, noncontig64(3, 2));
  check([](const Tensor& x) { return clone(x); }, leaf64({3}));
}

TEST(ViewsGradcheck, UnfoldOverlapAdd) {
  // unfold's gradient is one overlap-add pass; its own gradient is unfold again
  check([](const Tensor& x) { return unfold(x, -1, 4, 2); }, leaf64({2, 9}));     // overlapping windows
  check([](const Tensor& x) { return unfold(x, 1, 2, 3); }, leaf64({2, 9}));      // gaps and an unused tail
  check([](const Tensor& x) { return unfold(x, 1, 3, 2); }, leaf64({2, 7, 3}));   // a middle dim
  check([](const Tensor& x) { return unfold(x, 0, 2, 1); }, leaf64({4, 2, 2}));   // the first dim
  check([](const Tensor& x) { return unfold(x, 1, 3, 1); }, noncontig64(3, 6));   // strided input
  check([](const Tensor& x) { return unfold(permute(x, {2, 0, 1}), 2, 2, 1); }, leaf64({2, 4, 3}));
  check([](const Tensor& x) { return unfold(x, 0, 1, 1); }, leaf64({}));          // 0-dim input
  check([](const Tensor& x) { return unfold(x, 0, 0, 1); }, leaf64({3}));         // empty windows
}

TEST(ViewsGradcheck, UnfoldBackwardSumsWindows) {
  // x = [0..6], windows of 3 every 2: positions 2 and 4 are in two windows, none are missed
  Tensor g = ones({3, 3}, {.dtype = kFloat32});
  Tensor gx = unfold_backward(g, {7}, 0, 3, 2);
  EXPECT_EQ(gx.to_vector<float>(), (std::vector<float>{1, 1, 2, 1, 2, 1, 1}));
  // windows of 2 every 3 along dim 0 of [8, 2]: rows 2, 5 and 7 get nothing
  Tensor h = unfold_backward(ones({3, 2, 2}, {.dtype = kFloat64}), {8, 2}, 0, 2, 3);
  EXPECT_EQ(h.to_vector<double>(), (std::vector<double>{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1}));
  EXPECT_THROW_MSG(unfold_backward(g, {9}, 0, 3, 2), "expected a gradient of shape [4, 3]");
}

TEST(ViewsGradcheck, DtypeRoundTrip) {
  // float32 in the middle: finite differences need a step above float32's resolution
  auto fn = [](const tensor_list& x) { return tensor_list{to(to(x[0], kFloat32), kFloat64) * 2.0}; };
  auto r = autograd::gradcheck(fn, {leaf64({3}, 0, 1)}, {.eps = 1e-2, .atol = 1e-4, .rtol = 1e-3});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(ViewsGradcheck, ViewsOfNoncontiguousTensorsShareStorage) {
  Tensor x = fm::testing::noncontig64(3, 4);
  Tensor s = slice(x, 1, 1, 3);
  EXPECT_EQ(s.raw_data(), static_cast<double*>(x.raw_data()) + x.stride(1));
  EXPECT_EQ(diagonal(x).impl()->storage, x.impl()->storage);
}
