// GCNConv and graph pooling against the formulas computed by hand in PyTorch 1.13 (data:
// make_golden_graph.py, torch_geometric 2.x's definitions): outputs and the gradients of x,
// weight, bias, edge weights and gate networks. The functional forms run through the golden
// table; the modules (GCNConv, GlobalAttentionPool) load the same weights through state_dict.
#include "golden/golden_support.h"

using namespace fm;
using fm::testing::golden::Case;
using fm::testing::golden::matches;

namespace {

using nn::GCNConvOptions;

constexpr int64_t kGraphs = 4;  // the unsorted batch's graph count (graph 2 is empty)

const std::vector<Case>& graph_cases() {
  static const std::vector<Case> cases = {
      GOLDEN("gcn_basic", nn::gcn_conv(x[0], x[3], x[1], x[2])),
      GOLDEN("gcn_edge_weight", nn::gcn_conv(x[0], x[3], x[1], x[2], x[4])),
      GOLDEN("gcn_improved_nobias", nn::gcn_conv(x[0], x[2], x[1], Tensor(), Tensor(), {.improved = true})),
      GOLDEN("gcn_improved_edge_weight", nn::gcn_conv(x[0], x[3], x[1], x[2], x[4], {.improved = true})),
      GOLDEN("gcn_no_self_loops", nn::gcn_conv(x[0], x[3], x[1], x[2], Tensor(), {.add_self_loops = false})),
      GOLDEN("gcn_no_normalize", nn::gcn_conv(x[0], x[3], x[1], x[2], x[4], {.normalize = false})),
      GOLDEN("gcn_basic_f32", nn::gcn_conv(x[0], x[3], x[1], x[2])),
      GOLDEN("gcn_two_layer_mean_pool",
             nn::global_mean_pool(nn::gcn_conv(relu(nn::gcn_conv(x[0], x[5], x[1], x[2])), x[5], x[3], x[4]), x[6])),
      GOLDEN("pool_add", nn::global_add_pool(x[0], x[1], kGraphs)),
      GOLDEN("pool_mean", nn::global_mean_pool(x[0], x[1], kGraphs)),
      GOLDEN("pool_max", nn::global_max_pool(x[0], x[1], kGraphs)),
      GOLDEN("pool_mean_sorted", nn::global_mean_pool(x[0], x[1])),
      GOLDEN("pool_max_sorted", nn::global_max_pool(x[0], x[1])),
      GOLDEN("attention_gate", nn::attention_pool(linear(x[0], x[1], x[2]), x[0], x[3], kGraphs)),
      GOLDEN("attention_gate_nn",
             nn::attention_pool(linear(x[0], x[1], x[2]), linear(x[0], x[3], x[4]), x[5], kGraphs)),
      GOLDEN("attention_mlp_gate",
             nn::attention_pool(linear(tanh(linear(x[0], x[1], x[2])), x[3], x[4]), x[0], x[5])),
      GOLDEN("attention_feature_gate", nn::attention_pool(x[0], x[1], x[2], kGraphs)),
  };
  return cases;
}

FM_GOLDEN_FAMILY(GraphGolden, "graph", graph_cases)

Tensor golden(const std::string& name) { return fm::testing::golden::load("graph").tensors.at(name); }
Tensor fresh_leaf(const std::string& name) {
  return contiguous_raw(golden(name), /*force=*/true).requires_grad_(true);
}

// The module path: GCNConv with the case's weight and bias loaded through state_dict under
// torch_geometric 2.x's names.
void check_gcn_module(const std::string& c, GCNConvOptions o, bool has_bias, bool has_weight) {
  const Tensor x0 = golden(c + ".in0"), w = golden(c + ".in1");
  o.dtype = x0.dtype();
  o.bias = has_bias;
  nn::GCNConv conv(x0.size(1), w.size(0), o);
  std::map<std::string, Tensor> sd{{"lin.weight", w}};
  if (has_bias) sd["bias"] = golden(c + ".in2");
  conv.load_state_dict(sd);
  const int ei_at = has_bias ? 3 : 2;
  Tensor x = fresh_leaf(c + ".in0");
  Tensor ew = has_weight ? fresh_leaf(c + ".in" + std::to_string(ei_at + 1)) : Tensor();
  Tensor y = conv(x, golden(c + ".in" + std::to_string(ei_at)), ew);
  EXPECT_TRUE(matches(y, golden(c + ".out")));
  y.backward(golden(c + ".grad_out"));
  EXPECT_TRUE(matches(x.grad(), golden(c + ".grad0")));
  EXPECT_TRUE(matches(conv.lin->weight.grad(), golden(c + ".grad1")));
  if (has_bias) EXPECT_TRUE(matches(conv.bias.grad(), golden(c + ".grad2")));
  if (has_weight) EXPECT_TRUE(matches(ew.grad(), golden(c + ".grad" + std::to_string(ei_at + 1))));
}

TEST(GraphGoldenModule, GCNConvStateDictNamesAndValues) {
  check_gcn_module("gcn_basic", {}, true, false);
  check_gcn_module("gcn_edge_weight", {}, true, true);
  check_gcn_module("gcn_improved_nobias", {.improved = true}, false, false);
  check_gcn_module("gcn_no_self_loops", {.add_self_loops = false}, true, false);
  check_gcn_module("gcn_no_normalize", {.normalize = false}, true, true);
}

TEST(GraphGoldenModule, GCNConvCachedGivesTheSameOutputTwice) {
  const std::string c = "gcn_basic";
  nn::GCNConv conv(5, 4, {.cached = true, .dtype = kFloat64});
  conv.load_state_dict({{"lin.weight", golden(c + ".in1")}, {"bias", golden(c + ".in2")}});
  for (int rep = 0; rep < 2; ++rep) {
    conv.zero_grad();
    Tensor x = fresh_leaf(c + ".in0");
    Tensor y = conv(x, golden(c + ".in3"));
    EXPECT_TRUE(matches(y, golden(c + ".out"))) << "call " << rep;
    y.backward(golden(c + ".grad_out"));
    EXPECT_TRUE(matches(x.grad(), golden(c + ".grad0"))) << "call " << rep;
    EXPECT_TRUE(matches(conv.lin->weight.grad(), golden(c + ".grad1"))) << "call " << rep;
  }
}

TEST(GraphGoldenModule, GlobalAttentionPoolWithLinearGateAndNn) {
  const std::string c = "attention_gate_nn";
  nn::GlobalAttentionPool pool(std::make_shared<nn::Linear>(5, 1, nn::LinearOptions{.dtype = kFloat64}),
                               std::make_shared<nn::Linear>(5, 3, nn::LinearOptions{.dtype = kFloat64}));
  pool.load_state_dict({{"gate_nn.weight", golden(c + ".in1")},
                        {"gate_nn.bias", golden(c + ".in2")},
                        {"nn.weight", golden(c + ".in3")},
                        {"nn.bias", golden(c + ".in4")}});
  Tensor x = fresh_leaf(c + ".in0");
  Tensor y = pool(x, golden(c + ".in5"), kGraphs);
  EXPECT_TRUE(matches(y, golden(c + ".out")));
  y.backward(golden(c + ".grad_out"));
  EXPECT_TRUE(matches(x.grad(), golden(c + ".grad0")));
  const auto params = pool.named_parameters();
  std::map<std::string, Tensor> grads;
  for (const auto& [n, p] : params) grads[n] = p.grad();
  EXPECT_TRUE(matches(grads.at("gate_nn.weight"), golden(c + ".grad1")));
  EXPECT_TRUE(matches(grads.at("gate_nn.bias"), golden(c + ".grad2")));
  EXPECT_TRUE(matches(grads.at("nn.weight"), golden(c + ".grad3")));
  EXPECT_TRUE(matches(grads.at("nn.bias"), golden(c + ".grad4")));
}

TEST(GraphGoldenModule, GlobalAttentionPoolWithTheBlogsMlpGate) {
  const std::string c = "attention_mlp_gate";
  const nn::LinearOptions f64{.dtype = kFloat64};
  auto gate = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::UnaryModule>>{
      std::make_shared<nn::Linear>(5, 4, f64), nn::Tanh(), std::make_shared<nn::Linear>(4, 1, f64)});
  nn::GlobalAttentionPool pool(gate);
  pool.load_state_dict({{"gate_nn.0.weight", golden(c + ".in1")},
                        {"gate_nn.0.bias", golden(c + ".in2")},
                        {"gate_nn.2.weight", golden(c + ".in3")},
                        {"gate_nn.2.bias", golden(c + ".in4")}});
  Tensor x = fresh_leaf(c + ".in0");
  Tensor y = pool(x, golden(c + ".in5"));
  EXPECT_TRUE(matches(y, golden(c + ".out")));
  y.backward(golden(c + ".grad_out"));
  EXPECT_TRUE(matches(x.grad(), golden(c + ".grad0")));
  std::map<std::string, Tensor> grads;
  for (const auto& [n, p] : pool.named_parameters()) grads[n] = p.grad();
  EXPECT_TRUE(matches(grads.at("gate_nn.0.weight"), golden(c + ".grad1")));
  EXPECT_TRUE(matches(grads.at("gate_nn.2.bias"), golden(c + ".grad4")));
}

}  // namespace
