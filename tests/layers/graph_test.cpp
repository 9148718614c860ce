// Graph ops and layers: CSR construction, spmm/sddmm against dense references (small and large,
// float32 and float64, deterministic), add_remaining_self_loops and gcn_norm semantics
// (torch_geometric 2.x), isolated nodes, empty edge lists and empty graphs in a batch, error
// messages, the GCNConv and GlobalAttentionPool modules (names, init, printing, cache), and the
// blog's chord-progression GNN assembled from them.
#include <cmath>

#include "layers/basic.h"
#include "layers/graph.h"
#include "support/test_support.h"

using namespace fm;
using namespace fm::nn;

namespace {

Tensor ei_of(const std::vector<int64_t>& src, const std::vector<int64_t>& tgt) {
  std::vector<int64_t> v = src;
  v.insert(v.end(), tgt.begin(), tgt.end());
  return from_vector(v, {2, static_cast<int64_t>(src.size())});
}

// Dense A[t, s] = sum of w over the edges s -> t.
Tensor dense_adjacency(const Tensor& ei, int64_t n, const Tensor& w) {
  const auto e = contiguous(ei).to_vector<int64_t>();
  const int64_t E = ei.size(1);
  std::vector<double> wv = w.defined() ? to(w.detach(), kFloat64).to_vector<double>() : std::vector<double>(E, 1.0);
  std::vector<double> a(n * n, 0.0);
  for (int64_t k = 0; k < E; ++k) a[e[E + k] * n + e[k]] += wv[k];
  return from_vector(a, {n, n});
}

Tensor random_edges(int64_t n, int64_t E, uint64_t seed) {
  Generator g(seed);
  return randint(0, n, {2, E}, {.dtype = kInt64}, &g);
}

}  // namespace

TEST(GraphCsr, GroupsEdgesByTargetInEdgeOrder) {
  const CsrGraph g = CsrGraph::from_edge_index(ei_of({0, 2, 1, 0, 3}, {1, 1, 0, 3, 1}), 4);
  EXPECT_EQ(g.num_edges(), 5);
  EXPECT_EQ(g.by_target().ptr.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 4, 4, 5}));
  EXPECT_EQ(g.by_target().col.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 2, 3, 0}));
  EXPECT_EQ(g.by_target().eid.to_vector<int64_t>(), (std::vector<int64_t>{2, 0, 1, 4, 3}));
  EXPECT_EQ(g.by_source().ptr.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 3, 4, 5}));
  EXPECT_EQ(g.by_source().eid.to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 2, 1, 4}));
}

TEST(GraphSpmm, MatchesDenseProductSmallAndLarge) {
  for (auto [n, E, F] : {std::tuple<int64_t, int64_t, int64_t>{5, 9, 3}, {600, 5000, 70}}) {
    for (DType dt : {kFloat64, kFloat32}) {
      SCOPED_TRACE(std::to_string(n) + " " + std::string(dtype_name(dt)));
      const Tensor ei = random_edges(n, E, 3);
      Generator gen(4);
      const Tensor x = rand({n, F}, {.dtype = dt}, &gen), w = rand({E}, {.dtype = dt}, &gen);
      const CsrGraph g = CsrGraph::from_edge_index(ei, n);
      const Tensor A = to(dense_adjacency(ei, n, w), dt);
      const double tol = dt == kFloat64 ? 1e-12 : 1e-5;
      EXPECT_CLOSE(spmm(g, x, w), mm(A, x), tol, tol);
      EXPECT_CLOSE(spmm(g, x), mm(to(dense_adjacency(ei, n, Tensor()), dt), x), tol, tol);
      EXPECT_CLOSE(spmm_transpose(g, x, w), mm(t(A), x), tol, tol);
      // sddmm: (a @ b^T) at the edges
      const Tensor a = rand({n, F}, {.dtype = dt}, &gen);
      const Tensor s = sddmm(g, a, x);
      const Tensor full = mm(a, t(x));
      const auto e = ei.to_vector<int64_t>();
      const auto sv = to(s, kFloat64).to_vector<double>();
      const auto fv = to(contiguous(full), kFloat64).to_vector<double>();
      for (int64_t k = 0; k < E; ++k) ASSERT_NEAR(sv[k], fv[e[E + k] * n + e[k]], tol * F) << "edge " << k;
      // deterministic: the same bits twice
      EXPECT_TRUE(equal(spmm(g, x, w), spmm(g, x, w)));
    }
  }
}

TEST(GraphSpmm, ChecksShapesAndDtypes) {
  const CsrGraph g = CsrGraph::from_edge_index(ei_of({0, 1}, {1, 2}), 3);
  EXPECT_THROW_MSG(spmm(g, zeros({4, 2})), "x has 4 rows but the graph has 3");
  EXPECT_THROW_MSG(spmm(g, zeros({3, 2}), ones({3})), "edge_weight must be a floating tensor of shape [2]");
  EXPECT_THROW_MSG(spmm(g, zeros({3, 2}), ones({2}, {.dtype = kFloat64})), "must match x dtype");
  EXPECT_THROW_MSG(spmm(CsrGraph(), zeros({3, 2})), "default-constructed");
}

TEST(GraphSelfLoops, AddedOnceReplacingExistingLoops) {
  // node 1 has two loops (weights 5 and 7: the last one is kept), node 0 none, node 2 one
  const Tensor ei = ei_of({0, 1, 1, 2, 1}, {1, 1, 2, 2, 1});
  const Tensor w = tensor({0.5, 5, 0.25, 3, 7});
  auto [ei2, w2] = add_remaining_self_loops(ei, w, 1.0, 4);
  EXPECT_EQ(ei2.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0, 1, 2, 3, 1, 2, 0, 1, 2, 3}));
  EXPECT_EQ(w2.to_vector<float>(), (std::vector<float>{0.5, 0.25, 1, 7, 3, 1}));
  auto [ei3, w3] = add_remaining_self_loops(ei, Tensor(), 2.0, 4);
  EXPECT_EQ(ei3.size(1), 6);
  EXPECT_FALSE(w3.defined());
}

TEST(GraphGcnNorm, SymmetricNormalisationWithTargetDegrees) {
  // 0 -> 1, 0 -> 2, 1 -> 2 plus loops: deg (targets) = [1, 2, 3]
  const GcnNorm n = gcn_norm(ei_of({0, 0, 1}, {1, 2, 2}), 3, Tensor(), {.dtype = kFloat64});
  EXPECT_EQ(n.edge_index.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 0, 1, 2, 1, 2, 2, 0, 1, 2}));
  const std::vector<double> d{1, 2, 3};
  const std::vector<double> want{1 / std::sqrt(d[0] * d[1]), 1 / std::sqrt(d[0] * d[2]), 1 / std::sqrt(d[1] * d[2]),
                                 1 / d[0], 1 / d[1], 1 / d[2]};
  EXPECT_CLOSE(n.edge_weight, from_vector(want, {6}), 1e-14, 1e-15);
  // improved: loop weight 2, deg = [2, 3, 4]
  const GcnNorm m = gcn_norm(ei_of({0, 0, 1}, {1, 2, 2}), 3, Tensor(), {.improved = true, .dtype = kFloat64});
  EXPECT_NEAR(m.edge_weight.to_vector<double>()[3], 2.0 / 2.0, 1e-15);
  EXPECT_NEAR(m.edge_weight.to_vector<double>()[0], 1 / std::sqrt(2.0 * 3.0), 1e-15);
  // without self-loops node 0 has degree 0: its outgoing weights are 0, not inf or NaN
  const GcnNorm z = gcn_norm(ei_of({0, 0, 1}, {1, 2, 2}), 3, Tensor(), {.add_self_loops = false, .dtype = kFloat64});
  const auto zw = z.edge_weight.to_vector<double>();
  EXPECT_EQ(zw[0], 0.0);
  EXPECT_EQ(zw[1], 0.0);
  EXPECT_NEAR(zw[2], 1 / std::sqrt(1.0 * 2.0), 1e-15);
}

TEST(GraphGCNConv, IsolatedNodesAndEmptyEdgeLists) {
  GCNConv conv(3, 2, {.dtype = kFloat64});
  init::uniform_(conv.bias, -1, 1);
  const Tensor x = fm::testing::leaf64({4, 3}, -1, 1, 3).detach();
  const Tensor lin = linear(x, conv.lin->weight, conv.bias);
  // no edges: every node only has its self-loop of weight 1 and degree 1
  const Tensor none = empty({2, 0}, {.dtype = kInt64});
  EXPECT_CLOSE(conv(x, none), lin, 1e-12, 1e-14);
  // node 3 isolated among edges: its row is x W^T + b as well
  const Tensor y = conv(x, ei_of({0, 1, 2}, {1, 2, 0}));
  EXPECT_CLOSE(select(y, 0, 3), select(lin, 0, 3), 1e-12, 1e-14);
  // without self-loops an isolated node receives nothing: bias only
  GCNConv c2(3, 2, {.add_self_loops = false, .dtype = kFloat64});
  init::uniform_(c2.bias, -1, 1);
  EXPECT_CLOSE(select(c2(x, ei_of({0, 1, 2}, {1, 2, 0})), 0, 3), c2.bias, 0, 0);
  // zero nodes
  EXPECT_EQ(conv(zeros({0, 3}, {.dtype = kFloat64}), none).sizes(), (Shape{0, 2}));
}

TEST(GraphGCNConv, MatchesTheDenseFormulaOnALargerGraph) {
  const int64_t n = 300, E = 2400;
  GCNConv conv(16, 8, {.dtype = kFloat64});
  init::uniform_(conv.bias, -1, 1);
  const Tensor ei = random_edges(n, E, 11);
  const Tensor x = fm::testing::leaf64({n, 16}, -1, 1, 12).detach();
  // dense A + I with existing loops replaced, D^-1/2 (A + I) D^-1/2
  auto [ei2, w2] = add_remaining_self_loops(ei, ones({E}, {.dtype = kFloat64}), 1.0, n);
  const Tensor A = dense_adjacency(ei2, n, w2);
  const Tensor dinv = pow(sum(A, {1}), -0.5);
  const Tensor An = mul(mul(unsqueeze(dinv, 1), A), unsqueeze(dinv, 0));
  EXPECT_CLOSE(conv(x, ei), add(mm(An, linear(x, conv.lin->weight)), conv.bias), 1e-12, 1e-12);
}

TEST(GraphGCNConv, ErrorsNameTheIndexAndNumNodes) {
  GCNConv conv(3, 2);
  const Tensor x = zeros({4, 3});
  EXPECT_THROW_MSG(conv(x, ei_of({0, 1, 2}, {1, 4, 0})), "edge_index[1][1] = 4 is out of range for num_nodes = 4");
  EXPECT_THROW_MSG(conv(x, ei_of({0, -1}, {1, 2})), "edge_index[0][1] = -1 is out of range for num_nodes = 4");
  EXPECT_THROW_MSG(conv(x, zeros({2, 3}, {.dtype = kFloat32})), "edge_index must be an int64 tensor of shape [2, num_edges]");
  EXPECT_THROW_MSG(conv(x, zeros({3, 3}, {.dtype = kInt64})), "edge_index must be an int64 tensor of shape [2, num_edges]");
  EXPECT_THROW_MSG(conv(zeros({4, 5}), ei_of({0}, {1})), "x has 5 features but in_channels is 3");
  EXPECT_THROW_MSG(conv(x, ei_of({0}, {1}), ones({2})), "edge_weight must be a floating tensor of shape [1]");
  EXPECT_THROW_MSG(CsrGraph::from_edge_index(ei_of({0}, {9}), 3), "edge_index[1][0] = 9 is out of range for num_nodes = 3");
}

TEST(GraphGCNConv, ParametersInitAndPrinting) {
  GCNConv conv(12, 128);
  const auto sd = conv.state_dict();
  ASSERT_EQ(sd.size(), 2u);
  EXPECT_EQ(sd.at("lin.weight").sizes(), (Shape{128, 12}));
  EXPECT_EQ(sd.at("bias").sizes(), (Shape{128}));
  // glorot: U(-a, a), a = sqrt(6 / (in + out))
  const double a = std::sqrt(6.0 / (12 + 128));
  EXPECT_LE(max(abs(conv.lin->weight)).item<float>(), a);
  EXPECT_GT(max(abs(conv.lin->weight)).item<float>(), 0.9 * a);
  EXPECT_EQ(max(abs(conv.bias)).item<float>(), 0.0f);
  EXPECT_EQ(conv.to_string().substr(0, 16), "GCNConv(12, 128\n");
  GCNConv nb(3, 2, {.bias = false});
  EXPECT_EQ(nb.state_dict().size(), 1u);
  EXPECT_EQ(nb.state_dict().count("lin.weight"), 1u);
}

TEST(GraphGCNConv, CachedReusesTheFirstGraph) {
  GCNConv conv(3, 2, {.cached = true});
  const Tensor x = rand({4, 3});
  const Tensor e1 = ei_of({0, 1, 2}, {1, 2, 3});
  const Tensor y1 = conv(x, e1);
  // another graph with the same counts is not looked at (torch_geometric's contract)...
  EXPECT_TRUE(equal(conv(x, ei_of({3, 3, 3}, {0, 0, 0})), y1));
  // ...a different count is an error, and reset_cache() lets it through
  EXPECT_THROW_MSG(conv(x, ei_of({0, 1}, {1, 2})), "cached graph has 4 nodes and 3 edges");
  conv.reset_cache();
  EXPECT_EQ(conv(x, ei_of({0, 1}, {1, 2})).sizes(), (Shape{4, 2}));
}

TEST(GraphPool, EmptyGraphsGiveZeros) {
  const Tensor b = from_vector(std::vector<int64_t>{2, 0, 2, 0}, {4});  // graph 1 and 3 empty
  Tensor x = fm::testing::leaf64({4, 2}, -1, 1, 5);
  for (auto f : {global_add_pool, global_mean_pool, global_max_pool}) {
    x.set_grad(Tensor());
    Tensor y = f(x, b, 4);
    ASSERT_EQ(y.sizes(), (Shape{4, 2}));
    EXPECT_EQ(sum(abs(select(y, 0, 1))).item<double>(), 0.0);
    EXPECT_EQ(sum(abs(select(y, 0, 3))).item<double>(), 0.0);
    sum(y).backward();
    EXPECT_TRUE(x.grad().defined());
  }
  // values: mean of rows {1, 3} for graph 0; max goes to the first maximum
  const Tensor v = from_vector(std::vector<double>{1, 5, 2, 5, 3, 1, 4, 0}, {4, 2});
  EXPECT_EQ(global_mean_pool(v, b, 4).to_vector<double>(), (std::vector<double>{3, 2.5, 0, 0, 2, 3, 0, 0}));
  auto [mx, arg] = segment_max(v, b, 4);
  EXPECT_EQ(mx.to_vector<double>(), (std::vector<double>{4, 5, 0, 0, 3, 5, 0, 0}));
  EXPECT_EQ(arg.to_vector<int64_t>(), (std::vector<int64_t>{3, 1, -1, -1, 2, 0, -1, -1}));
  // no batch: one graph; num_graphs inferred from batch.max() + 1
  EXPECT_EQ(global_add_pool(v).sizes(), (Shape{1, 2}));
  EXPECT_EQ(global_add_pool(v, b).sizes(), (Shape{3, 2}));
  // attention pooling of an empty graph is 0 too
  EXPECT_EQ(sum(abs(select(attention_pool(ones({4, 1}, {.dtype = kFloat64}), v, b, 4), 0, 1))).item<double>(), 0.0);
}

TEST(GraphPool, MatchesSortedAndUnsortedBatches) {
  Generator g(6);
  const int64_t N = 2000, F = 40, B = 7;
  const Tensor x = rand({N, F}, {}, &g);
  const Tensor b = randint(0, B, {N}, {.dtype = kInt64}, &g);
  // reference: one-hot matrix product
  const Tensor M = t(to(one_hot(b, B), kFloat32));
  EXPECT_CLOSE(global_add_pool(x, b, B), mm(M, x), 1e-5, 1e-4);
  const Tensor cnt = sum(M, {1}, true);
  EXPECT_CLOSE(global_mean_pool(x, b, B), div(mm(M, x), cnt), 1e-5, 1e-5);
  // max against a masked amax
  const Tensor masked = where(gt(unsqueeze(t(M), 2), 0.5), unsqueeze(x, 1), full({1}, -1e30));
  EXPECT_CLOSE(global_max_pool(x, b, B), amax(masked, {0}), 0, 0);
  // segment_softmax sums to one per graph and column
  const Tensor s = segment_softmax(x, b, B);
  EXPECT_CLOSE(global_add_pool(s, b, B), ones({B, F}), 1e-5, 1e-5);
}

TEST(GraphPool, Errors) {
  const Tensor x = zeros({4, 2});
  EXPECT_THROW_MSG(global_mean_pool(x, from_vector(std::vector<int64_t>{0, 1, 5, 0}, {4}), 3),
                   "global_mean_pool: batch[2] = 5 is out of range for num_graphs = 3");
  EXPECT_THROW_MSG(global_max_pool(x, from_vector(std::vector<int64_t>{0, -1, 0, 0}, {4})),
                   "batch[1] = -1 is out of range");
  EXPECT_THROW_MSG(global_add_pool(x, from_vector(std::vector<int64_t>{0, 1}, {2})), "batch must be an int64 tensor [num_nodes]");
  EXPECT_THROW_MSG(attention_pool(zeros({4, 3}), zeros({4, 2})), "gate must be [num_nodes, 1] or [num_nodes, F]");
}

TEST(GraphAttentionPool, ModuleNamesAndPrinting) {
  GlobalAttentionPool p(std::make_shared<Linear>(8, 1), std::make_shared<Linear>(8, 4));
  const auto sd = p.state_dict();
  for (const char* k : {"gate_nn.weight", "gate_nn.bias", "nn.weight", "nn.bias"}) EXPECT_EQ(sd.count(k), 1u) << k;
  GlobalAttentionPool q(std::make_shared<Linear>(8, 1));
  EXPECT_EQ(q.state_dict().size(), 2u);
  EXPECT_EQ(q(rand({5, 8}), from_vector(std::vector<int64_t>{0, 0, 1, 1, 1}, {5})).sizes(), (Shape{2, 8}));
  EXPECT_NE(p.to_string().find("(gate_nn): Linear(in_features=8, out_features=1"), std::string::npos);
}

// The blog's ChordProgressionGNN: 3 GCN layers, an attention MLP whose softmax runs over all
// nodes of the batch (dim 0), global_mean_pool of the weighted features, a linear classifier.
TEST(GraphModels, ChordProgressionGnnTrainsOneStep) {
  struct ChordGnn : Module {
    std::shared_ptr<GCNConv> conv1, conv2, conv3;
    std::shared_ptr<Sequential> attention;
    std::shared_ptr<Linear> classifier;
    ChordGnn() {
      conv1 = register_module("conv1", std::make_shared<GCNConv>(12, 32));
      conv2 = register_module("conv2", std::make_shared<GCNConv>(32, 32));
      conv3 = register_module("conv3", std::make_shared<GCNConv>(32, 32));
      attention = register_module("attention", std::make_shared<Sequential>(std::vector<std::shared_ptr<UnaryModule>>{
                                                   std::make_shared<Linear>(32, 16), Tanh(), std::make_shared<Linear>(16, 1)}));
      classifier = register_module("classifier", std::make_shared<Linear>(32, 7));
    }
    std::string type_name() const override { return "ChordProgressionGNN"; }
    Tensor forward(const Tensor& x, const Tensor& ei, const Tensor& batch) {
      Tensor h = relu((*conv1)(x, ei));
      h = relu((*conv2)(h, ei));
      h = (*conv3)(h, ei);
      const Tensor a = softmax((*attention)(h), 0);
      return (*classifier)(global_mean_pool(mul(h, a), batch));
    }
  } model;
  // two progressions (4 and 3 chords): temporal edges i-1 -> i and a fifth relation
  const Tensor ei = ei_of({0, 1, 2, 4, 5, 0, 3}, {1, 2, 3, 5, 6, 3, 0});
  const Tensor batch = from_vector(std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1}, {7});
  const Tensor x = rand({7, 12});
  const Tensor y = model.forward(x, ei, batch);
  ASSERT_EQ(y.sizes(), (Shape{2, 7}));
  sum(mul(y, y)).backward();
  for (const auto& [n, p] : model.named_parameters()) EXPECT_TRUE(p.grad().defined()) << n;
  EXPECT_EQ(model.state_dict().count("conv2.lin.weight"), 1u);
  EXPECT_EQ(model.state_dict().count("attention.2.bias"), 1u);
}
