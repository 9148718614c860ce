// The backward engine: accumulation, dependency order, retain_graph, create_graph, grad mode,
// version counters, retain_grad, autograd::grad and the custom Function API.
#include <cmath>

#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;

TEST(Engine, AccumulatesIntoLeavesAcrossUsesAndCalls) {
  Tensor x = tensor({2.0, 3.0}, {.requires_grad = true});
  Tensor y = sum(x * x + x);  // dy/dx = 2x + 1
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{5, 7}));
  sum(x * 2.0).backward();  // accumulates
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{7, 9}));
}

TEST(Engine, DiamondGraphRunsEachNodeOnceAfterAllInputs) {
  Tensor x = tensor({1.5}, {.dtype = kFloat64, .requires_grad = true});
  Tensor a = exp(x);
  Tensor b = a * a;  // two uses of a
  Tensor c = b + a;
  sum(c).backward();
  const double e = std::exp(1.5);
  EXPECT_NEAR(x.grad().item(), 2 * e * e + e, 1e-12);
}

TEST(Engine, BackwardTwiceNeedsRetainGraph) {
  Tensor x = tensor({1.0}, {.requires_grad = true});
  Tensor y = sum(exp(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_NEAR(x.grad().item(), 2 * std::exp(1.0), 1e-5);
  EXPECT_THROW_MSG(y.backward(), "a second time");
}

TEST(Engine, ImplicitGradientOnlyForScalars) {
  Tensor x = ones({2}, {.requires_grad = true});
  EXPECT_THROW_MSG((x * 2.0).backward(), "only for outputs with one element");
  (x * 2.0).backward(tensor({1.0, 3.0}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 6}));
}

TEST(Engine, NoGradGuardAndDetachRecordNothing) {
  Tensor x = ones({2}, {.requires_grad = true});
  {
    NoGradGuard ng;
    Tensor y = x * 2.0;
    EXPECT_FALSE(y.requires_grad());
  }
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.raw_data(), x.raw_data());  // shares storage
  EXPECT_THROW_MSG(sum(d * 2.0).backward(), "does not require grad");
}

TEST(Engine, ModifyingASavedTensorInPlaceThrowsNamingTheOp) {
  Tensor x = tensor({1.0, 2.0}, {.requires_grad = true});
  Tensor y = x * 1.0;     // non-leaf
  Tensor z = exp(y);      // saves its output z
  Tensor w = sum(z * y);  // saves y and z
  {
    NoGradGuard ng;
    add_(z, 1.0);
  }
  EXPECT_THROW_MSG(w.backward(), "modified by an in-place operation");
}

TEST(Engine, InPlaceOnLeafRequiringGradThrows) {
  Tensor x = ones({2}, {.requires_grad = true});
  EXPECT_THROW_MSG(add_(x, 1.0), "leaf tensor that requires grad");
  NoGradGuard ng;
  add_(x, 1.0);  // fine without a graph: the optimizer's case
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{2, 2}));
}

TEST(Engine, InPlaceOnNonLeafIsRecorded) {
  Tensor x = tensor({1.0, 2.0}, {.dtype = kFloat64, .requires_grad = true});
  Tensor y = x * 3.0;
  const uint64_t v = y.version();
  mul_(y, 2.0);
  EXPECT_GT(y.version(), v);
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6, 6}));
}

TEST(Engine, CreateGraphGivesSecondDerivatives) {
  Tensor x = tensor({2.0}, {.dtype = kFloat64, .requires_grad = true});
  Tensor y = sum(pow(x, 3.0));
  tensor_list g = autograd::grad({y}, {x}, {}, false, /*create_graph=*/true);
  EXPECT_NEAR(g[0].item(), 12.0, 1e-12);  // 3x^2
  tensor_list gg = autograd::grad({sum(g[0])}, {x});
  EXPECT_NEAR(gg[0].item(), 12.0, 1e-12);  // 6x
  EXPECT_FALSE(x.grad().defined());         // autograd::grad leaves .grad alone
}

TEST(Engine, MultipleOutputsAndUnusedOutputs) {
  Tensor x = tensor({1.0, 5.0, 3.0}, {.dtype = kFloat64, .requires_grad = true});
  auto [v, i] = max(x, 0);
  EXPECT_EQ(i.item<int64_t>(), 1);
  EXPECT_FALSE(i.requires_grad());
  (v * 2.0).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 2, 0}));
}

TEST(Engine, RetainGradKeepsNonLeafGradients) {
  Tensor x = tensor({1.0, 2.0}, {.requires_grad = true});
  Tensor y = x * 3.0;
  y.retain_grad();
  sum(y * y).backward();
  EXPECT_EQ(y.grad().to_vector<float>(), (std::vector<float>{6, 12}));
}

TEST(Engine, UnusedInputInGradIsAnErrorUnlessAllowed) {
  Tensor x = ones({1}, {.requires_grad = true});
  Tensor z = ones({1}, {.requires_grad = true});
  Tensor y = sum(x * 2.0);
  EXPECT_THROW_MSG(autograd::grad({y}, {x, z}, {}, true), "not used");
  tensor_list g = autograd::grad({y}, {x, z}, {}, false, false, /*allow_unused=*/true);
  EXPECT_TRUE(g[0].defined());
  EXPECT_FALSE(g[1].defined());
}

namespace {
// The worked example of docs/ARCHITECTURE.md: a user-defined op with its own backward.
struct ScaledCube : autograd::Function<ScaledCube> {
  static tensor_list forward(autograd::FunctionCtx& ctx, const tensor_list& in) {
    ctx.save_for_backward({in[0]});
    ctx.attrs["scale"] = 0.5;
    return {mul(mul(mul(in[0], in[0]), in[0]), 0.5)};
  }
  static tensor_list backward(autograd::FunctionCtx& ctx, const tensor_list& g) {
    const Tensor x = ctx.saved()[0];
    return {mul(g[0], mul(mul(x, x), 3.0 * ctx.attrs["scale"]))};
  }
};
}  // namespace

TEST(Function, CustomOpGradcheckAndSecondDerivative) {
  auto fn = [](const tensor_list& in) { return ScaledCube::apply({in[0]}); };
  EXPECT_GRADCHECK(fn, (tensor_list{fm::testing::leaf64({3}, -1, 1)}));
  EXPECT_GRADGRADCHECK(fn, (tensor_list{fm::testing::leaf64({3}, -1, 1)}));
}

TEST(Function, ForwardRecordsNoInnerGraph) {
  Tensor x = ones({2}, {.requires_grad = true});
  Tensor y = ScaledCube::apply({x})[0];
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.grad_fn()->next_edges.size(), 1u);  // straight to x, not through mul nodes
}
