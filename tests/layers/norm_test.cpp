// BatchNorm1d/2d and LayerNorm: running statistics, eval mode, momentum=None, state_dict keys,
// errors; the fused backward kernels against the recorded formula on inputs large enough to
// take the threaded paths.
#include <cmath>

#include "layers/basic.h"
#include "layers/norm.h"
#include "support/test_support.h"

using namespace fm;
using namespace fm::nn;

namespace {

std::vector<std::string> keys_of(const Module& m) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : m.state_dict()) keys.push_back(k);
  return keys;
}

// Per-channel mean and unbiased variance of x [N, C, *] in float64, for reference.
std::pair<Tensor, Tensor> channel_stats(const Tensor& x) {
  Dims dims = {0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  const Tensor x64 = to(x.detach(), kFloat64);
  return {mean(x64, dims), var(x64, dims, 1)};
}

}  // namespace

TEST(BatchNorm, TrainingUpdatesRunningStats) {
  BatchNorm1d bn(3);
  const Tensor x1 = randn({8, 3, 5}), x2 = add(mul(randn({8, 3, 5}), 2.0), 1.0);
  Tensor y = bn(x1);
  auto [m1, v1] = channel_stats(x1);
  EXPECT_CLOSE(to(bn.running_mean, kFloat64), mul(m1, 0.1), 1e-5, 1e-6);
  EXPECT_CLOSE(to(bn.running_var, kFloat64), add(mul(v1, 0.1), 0.9), 1e-5, 1e-6);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  // the output has per-channel mean 0 and biased variance 1 / (1 + eps / var)
  EXPECT_CLOSE(mean(y, {0, 2}), zeros({3}), 0, 1e-5);
  EXPECT_CLOSE(var(y, {0, 2}, 0), ones({3}), 1e-3, 1e-3);
  bn(x2);
  auto [m2, v2] = channel_stats(x2);
  EXPECT_CLOSE(to(bn.running_mean, kFloat64), add(mul(m1, 0.09), mul(m2, 0.1)), 1e-5, 1e-6);
  EXPECT_CLOSE(to(bn.running_var, kFloat64), add(add(mul(v1, 0.09), 0.81), mul(v2, 0.1)), 1e-5, 1e-6);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 2);
}

TEST(BatchNorm, EvalUsesRunningStatsAndLeavesThem) {
  BatchNorm2d bn(2);
  bn(add(randn({4, 2, 3, 3}), 3.0));
  {
    NoGradGuard ng;
    copy_(bn.weight, tensor({2.0, 0.5}));
    copy_(bn.bias, tensor({0.1, -0.2}));
  }
  bn.eval();
  const Tensor rm = clone(bn.running_mean), rv = clone(bn.running_var);
  const Tensor x = randn({2, 2, 3, 3});
  const Tensor y = bn(x);
  const Tensor want = add(mul(div(sub(x, reshape(rm, {1, 2, 1, 1})), sqrt(add(reshape(rv, {1, 2, 1, 1}), 1e-5))),
                              reshape(tensor({2.0, 0.5}), {1, 2, 1, 1})),
                          reshape(tensor({0.1, -0.2}), {1, 2, 1, 1}));
  EXPECT_CLOSE(y, want, 1e-5, 1e-5);
  EXPECT_TRUE(equal(bn.running_mean, rm));
  EXPECT_TRUE(equal(bn.running_var, rv));
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  // a single sample is fine in eval mode
  EXPECT_EQ(bn(randn({1, 2, 1, 1})).sizes(), (Shape{1, 2, 1, 1}));
}

TEST(BatchNorm, CumulativeAverageWithoutMomentum) {
  BatchNorm1d bn(2, {.momentum = std::nullopt});
  const Tensor x1 = randn({6, 2}), x2 = randn({6, 2}), x3 = randn({6, 2});
  bn(x1);
  bn(x2);
  bn(x3);
  const Tensor m = mul(add(add(channel_stats(x1).first, channel_stats(x2).first), channel_stats(x3).first), 1.0 / 3.0);
  const Tensor v = mul(add(add(channel_stats(x1).second, channel_stats(x2).second), channel_stats(x3).second), 1.0 / 3.0);
  EXPECT_CLOSE(to(bn.running_mean, kFloat64), m, 1e-5, 1e-6);
  EXPECT_CLOSE(to(bn.running_var, kFloat64), v, 1e-5, 1e-6);
  EXPECT_NE(bn.to_string().find("momentum=None"), std::string::npos) << bn.to_string();
}

TEST(BatchNorm, WithoutRunningStatsUsesBatchStatsInEval) {
  BatchNorm1d bn(3, {.affine = false, .track_running_stats = false});
  EXPECT_TRUE(keys_of(bn).empty());
  EXPECT_TRUE(bn.parameters().empty());
  bn.eval();
  const Tensor x = add(randn({5, 3}), 4.0);
  const Tensor y = bn(x);
  EXPECT_CLOSE(mean(y, {0}), zeros({3}), 0, 1e-5);
}

TEST(BatchNorm, StateDictKeysMatchPyTorch) {
  BatchNorm2d bn(4);
  EXPECT_EQ(keys_of(bn), (std::vector<std::string>{"bias", "num_batches_tracked", "running_mean", "running_var", "weight"}));
  EXPECT_EQ(bn.num_batches_tracked.dtype(), kInt64);
  EXPECT_EQ(bn.num_batches_tracked.dim(), 0);
  EXPECT_TRUE(equal(bn.weight, ones({4})));
  EXPECT_TRUE(equal(bn.bias, zeros({4})));
  EXPECT_TRUE(equal(bn.running_var, ones({4})));
  EXPECT_EQ(bn.to_string(), "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  BatchNorm1d nb(3, {.affine = false});
  EXPECT_EQ(keys_of(nb), (std::vector<std::string>{"num_batches_tracked", "running_mean", "running_var"}));
  Sequential seq({std::make_shared<Linear>(3, 4), std::make_shared<BatchNorm1d>(4)});
  EXPECT_EQ(keys_of(seq), (std::vector<std::string>{"0.bias", "0.weight", "1.bias", "1.num_batches_tracked",
                                                    "1.running_mean", "1.running_var", "1.weight"}));
  // load_state_dict round trip, and to(float64) keeps the counter int64
  BatchNorm2d a(4), b(4);
  a(randn({3, 4, 2, 2}));
  b.load_state_dict(a.state_dict());
  EXPECT_TRUE(equal(b.running_mean, a.running_mean));
  EXPECT_EQ(b.num_batches_tracked.item<int64_t>(), 1);
  b.to(kFloat64);
  EXPECT_EQ(b.running_var.dtype(), kFloat64);
  EXPECT_EQ(b.num_batches_tracked.dtype(), kInt64);
  b(randn({3, 4, 2, 2}, {.dtype = kFloat64}));
  EXPECT_EQ(b.num_batches_tracked.item<int64_t>(), 2);
}

TEST(BatchNorm, Errors) {
  BatchNorm2d bn2(3);
  EXPECT_THROW_MSG(bn2(randn({2, 3, 4})), "BatchNorm2d: expected 4D input");
  EXPECT_THROW_MSG(bn2(randn({2, 4, 2, 2})), "expected input with 3 channels");
  BatchNorm1d bn1(3);
  EXPECT_THROW_MSG(bn1(randn({2, 3, 4, 5})), "BatchNorm1d: expected 2D or 3D input");
  EXPECT_THROW_MSG(bn1(randn({1, 3})), "expected more than 1 value per channel when training");
  EXPECT_THROW_MSG(batch_norm(randn({2, 3}), zeros({4}), ones({4})), "running_mean float32[4] on cpu must be 1-D of size C = 3");
  EXPECT_THROW_MSG(batch_norm(randn({4}), Tensor(), Tensor(), Tensor(), Tensor(), true), "batch_norm: expected input of shape");
  EXPECT_THROW_MSG(batch_norm(randn({2, 3}), zeros({3}), Tensor()), "must be given together");
}

TEST(BatchNorm, Float32StatisticsWithLargeMean) {
  // the one-pass statistics are shifted, so a large mean does not eat the variance
  const Tensor x = add(mul(randn({64, 2, 100}), 0.01), 1000.0);
  auto [m, v] = channel_stats(x);
  BatchNorm1d bn(2, {.momentum = 1.0});
  bn(x);
  EXPECT_CLOSE(to(bn.running_mean, kFloat64), m, 1e-6, 0);
  EXPECT_CLOSE(to(bn.running_var, kFloat64), v, 1e-3, 0);
}

namespace {
// Gradients of sum(y * g) for every input: without create_graph (the fused kernels) and with
// it (the recorded formula).
void expect_fused_matches_graph(const std::function<Tensor(const autograd::tensor_list&)>& f,
                                const autograd::tensor_list& in) {
  const Tensor y = f(in);
  const Tensor g = randn(y.sizes());
  const auto fused = autograd::grad({y}, in, {g});
  const Tensor y2 = f(in);
  const auto graph = autograd::grad({y2}, in, {g}, false, /*create_graph=*/true);
  ASSERT_EQ(fused.size(), graph.size());
  for (size_t i = 0; i < fused.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_CLOSE(fused[i], graph[i].detach(), 1e-3, 1e-4);
  }
}
Tensor param(const Shape& s, double lo, double hi) {
  Tensor t = add(mul(rand(s), hi - lo), lo);
  t.requires_grad_(true);
  return t;
}
}  // namespace

TEST(BatchNorm, FusedBackwardMatchesFormulaOnLargeInputs) {
  for (const Shape& s : {Shape{20000, 3}, Shape{6, 5, 2001}, Shape{4, 3, 64, 65}}) {
    SCOPED_TRACE(shape_str(s));
    const int64_t C = s[1];
    for (bool training : {true, false}) {
      const Tensor rm = rand({C}), rv = add(rand({C}), 0.5);
      auto f = [&](const autograd::tensor_list& in) {
        return batch_norm(in[0], training ? Tensor() : rm, training ? Tensor() : rv, in[1], in[2], training, 0.1, 1e-5);
      };
      expect_fused_matches_graph(f, {param(s, -2, 2), param({C}, 0.5, 1.5), param({C}, -1, 1)});
    }
  }
}

TEST(LayerNorm, NormalisesRowsAndKeys) {
  LayerNorm ln(Shape{3, 4});
  EXPECT_EQ(keys_of(ln), (std::vector<std::string>{"bias", "weight"}));
  EXPECT_EQ(ln.to_string(), "LayerNorm((3, 4), eps=1e-05, elementwise_affine=True)");
  EXPECT_EQ(LayerNorm(512).to_string(), "LayerNorm((512,), eps=1e-05, elementwise_affine=True)");
  const Tensor x = add(randn({5, 3, 4}), 7.0);
  const Tensor y = ln(x);
  EXPECT_CLOSE(mean(y, {1, 2}), zeros({5}), 0, 1e-5);
  EXPECT_CLOSE(var(y, {1, 2}, 0), ones({5}), 1e-3, 1e-3);
  LayerNorm plain(4, {.elementwise_affine = false});
  EXPECT_TRUE(keys_of(plain).empty());
  const Tensor x2 = randn({2, 4});
  const Tensor want = div(sub(x2, mean(x2, {1}, true)), sqrt(add(var(x2, {1}, 0, true), 1e-5)));
  EXPECT_CLOSE(plain(x2), want, 1e-5, 1e-5);
}

TEST(LayerNorm, Errors) {
  LayerNorm ln(4);
  EXPECT_THROW_MSG(ln(randn({2, 3})), "layer_norm: normalized_shape [4] must be non-empty and equal the last dimensions of the input float32[2, 3] on cpu");
  EXPECT_THROW_MSG(layer_norm(randn({2, 4}), {4}, ones({3})), "weight float32[3] on cpu must have normalized_shape [4]");
  EXPECT_THROW_MSG(layer_norm(randn({2, 4}), {}), "layer_norm: normalized_shape []");
  EXPECT_THROW_MSG(layer_norm(ones({2, 4}, {.dtype = kInt64}), {4}), "expected a floating-point input");
}

TEST(LayerNorm, FusedBackwardMatchesFormulaOnLargeInputs) {
  auto f = [](const autograd::tensor_list& in) { return layer_norm(in[0], {200}, in[1], in[2], 1e-5); };
  expect_fused_matches_graph(f, {param({400, 200}, -2, 2), param({200}, 0.5, 1.5), param({200}, -1, 1)});
  auto g = [](const autograd::tensor_list& in) { return layer_norm(in[0], {8, 64}, Tensor(), Tensor(), 1e-5); };
  expect_fused_matches_graph(g, {param({70, 8, 64}, -2, 2)});
}
