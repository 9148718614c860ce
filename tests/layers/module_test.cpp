#include <cmath>

#include "layers/basic.h"
#include "layers/init.h"
#include "support/test_support.h"

using namespace fm;
using namespace fm::nn;

namespace {
// A module with a nested Sequential, a buffer and a shared layer, as a user would write one.
class Net : public UnaryModule {
 public:
  Net() {
    body = register_module("body", std::make_shared<Sequential>(std::vector<std::shared_ptr<UnaryModule>>{
                                       std::make_shared<Linear>(3, 4), ReLU(), std::make_shared<Linear>(4, 2)}));
    scale = register_buffer("scale", full({2}, 2.0));
    head = register_parameter("head", ones({2}));
  }
  Tensor forward(const Tensor& x) override { return (*body)(x) * scale + head; }
  std::string type_name() const override { return "Net"; }
  std::shared_ptr<Sequential> body;
  Tensor scale, head;
};
}  // namespace

TEST(Module, StateDictKeysMatchPyTorch) {
  Net net;
  auto sd = net.state_dict();
  std::vector<std::string> keys;
  for (auto& [k, v] : sd) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"body.0.bias", "body.0.weight", "body.2.bias", "body.2.weight", "head", "scale"}));
  auto named = net.named_parameters();
  EXPECT_EQ(named.size(), 5u);
  EXPECT_EQ(named[0].first, "head");  // own parameters first, then children in order
  EXPECT_EQ(named[1].first, "body.0.weight");
  EXPECT_EQ(net.num_parameters(), 2 + 12 + 4 + 8 + 2);
  EXPECT_EQ(net.named_modules().size(), 5u);  // net, body, 0, 1, 2
}

TEST(Module, LoadStateDictIsStrictAndListsProblems) {
  Net a, b;
  b.load_state_dict(a.state_dict());
  Tensor x = rand({5, 3});
  EXPECT_TRUE(equal(a(x), b(x)));
  auto sd = a.state_dict();
  sd.erase("head");
  sd["extra"] = zeros({1});
  sd["body.0.weight"] = zeros({4, 5});
  try {
    b.load_state_dict(sd);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("missing keys: head"), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected keys: extra"), std::string::npos) << m;
    EXPECT_NE(m.find("body.0.weight (checkpoint [4, 5], model [4, 3])"), std::string::npos) << m;
  }
  EXPECT_TRUE(equal(a(x), b(x)));  // nothing changed
  auto partial = a.state_dict();
  partial.erase("head");
  b.load_state_dict(partial, /*strict=*/false);
}

TEST(Module, TrainEvalToDtypeAndZeroGrad) {
  Net net;
  net.eval();
  EXPECT_FALSE(net.body->is_training());
  net.train();
  EXPECT_TRUE((*net.body)[1].is_training());
  Tensor w = net.body->named_parameters()[0].second;
  net.to(kFloat64);
  EXPECT_EQ(w.dtype(), kFloat64);  // handles held elsewhere follow
  EXPECT_EQ(net.scale.dtype(), kFloat64);
  sum(net(rand({2, 3}, {.dtype = kFloat64}))).backward();
  EXPECT_TRUE(net.head.grad().defined());
  net.zero_grad();
  EXPECT_FALSE(net.head.grad().defined());
  if (cuda_device_count() == 0) EXPECT_THROW_MSG(net.to(Device::cuda()), "cuda");
}

TEST(Module, ForwardHooksSeeIntermediateOutputs) {
  Net net;
  Tensor seen;
  const int h = (*net.body)[1].register_forward_hook([&](const Module& m, const Tensor& out) {
    EXPECT_EQ(m.type_name(), "ReLU");
    seen = out;
  });
  net(rand({4, 3}));
  ASSERT_TRUE(seen.defined());
  EXPECT_EQ(seen.sizes(), (Shape{4, 4}));
  EXPECT_GE(amin(seen).item(), 0.0);
  (*net.body)[1].remove_forward_hook(h);
  seen = Tensor();
  net(rand({4, 3}));
  EXPECT_FALSE(seen.defined());
}

TEST(Module, PrintsLikePyTorch) {
  Sequential s({std::make_shared<Linear>(3, 4, LinearOptions{.bias = false}), ReLU()});
  EXPECT_EQ(s.to_string(), "Sequential(\n  (0): Linear(in_features=3, out_features=4, bias=False)\n  (1): ReLU()\n)");
}

TEST(Layers, LinearDefaultsAndGradcheck) {
  Linear lin(50, 20);
  const double bound = 1 / std::sqrt(50.0);
  EXPECT_LE(amax(abs(lin.weight)).item(), bound);
  EXPECT_GT(amax(abs(lin.weight)).item(), 0.8 * bound);
  EXPECT_LE(amax(abs(lin.bias)).item(), bound);
  EXPECT_THROW_MSG(lin(zeros({2, 49})), "last dimension 49");
  Linear l64(3, 2, {.dtype = kFloat64});
  auto fn = [&](const autograd::tensor_list& in) { return autograd::tensor_list{l64(in[0])}; };
  EXPECT_GRADCHECK(fn, (autograd::tensor_list{fm::testing::leaf64({4, 3})}));
  auto fw = [&](const autograd::tensor_list& in) { return autograd::tensor_list{linear(in[1], in[0], l64.bias)}; };
  EXPECT_GRADCHECK(fw, (autograd::tensor_list{fm::testing::leaf64({2, 3}), fm::testing::leaf64({4, 3})}));
}

TEST(Layers, EmbeddingPaddingRowIsZeroAndGetsNoGradient) {
  Embedding emb(10, 4, {.padding_idx = 0});
  EXPECT_EQ(sum(abs(select(emb.weight, 0, 0))).item(), 0.0);
  Tensor idx = from_vector(std::vector<int64_t>{0, 3, 3}, {3});
  sum(emb(idx)).backward();
  EXPECT_EQ(sum(abs(select(emb.weight.grad(), 0, 0))).item(), 0.0);
  EXPECT_EQ(select(emb.weight.grad(), 0, 3).to_vector<float>(), (std::vector<float>{2, 2, 2, 2}));
}

TEST(Layers, DropoutOnlyInTraining) {
  Dropout d(0.5);
  Tensor x = ones({1000});
  EXPECT_FALSE(equal(d(x), x));
  d.eval();
  EXPECT_TRUE(equal(d(x), x));
}

TEST(Init, DistributionsAndOrthogonality) {
  Tensor w = empty({64, 128});
  init::xavier_uniform_(w);
  EXPECT_LE(amax(abs(w)).item(), std::sqrt(6.0 / 192) + 1e-6);
  init::kaiming_normal_(w, 0, "fan_in", "relu");
  EXPECT_NEAR(fm::std(w).item(), std::sqrt(2.0 / 128), 0.01);
  Tensor q = empty({5, 8}, {.dtype = kFloat64});
  init::orthogonal_(q);
  EXPECT_CLOSE(mm(q, t(q)), eye(5, 5, {.dtype = kFloat64}), 1e-10, 1e-10);
  Tensor tall = empty({8, 3}, {.dtype = kFloat64});
  init::orthogonal_(tall, 2.0);
  EXPECT_CLOSE(mm(t(tall), tall), eye(3, 3, {.dtype = kFloat64}) * 4.0, 1e-10, 1e-10);
  EXPECT_EQ(init::calculate_fan_in_and_fan_out(empty({16, 8, 3, 3})), (std::pair<int64_t, int64_t>{72, 144}));
  EXPECT_THROW_MSG(init::calculate_gain("swish"), "unknown nonlinearity");
}
