// Float64 gradchecks of message passing: spmm (x and edge weights, plain and transposed, on a
// graph with duplicate edges, self-loops and an isolated node, contiguous and not), sddmm,
// gcn_norm's edge weights, GCNConv (every option) and every pooling incl. attention pooling over
// an unsorted batch with an empty graph; gradgradchecks for the products and poolings.
#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;
using fm::testing::noncontig64;

namespace {

// 7 nodes: a duplicate edge (0 -> 1 twice), a self-loop (3 -> 3), node 6 isolated, node 5 a
// pure source.
Tensor edges() {
  return from_vector(std::vector<int64_t>{0, 1, 0, 1, 2, 3, 4, 5, 2, 5,
                                          1, 0, 1, 2, 3, 3, 0, 4, 4, 2},
                     {2, 10});
}
constexpr int64_t kNodes = 7, kEdges = 10;
// 9 rows in 4 segments, unsorted, segment 2 empty
Tensor batch4() { return from_vector(std::vector<int64_t>{3, 0, 1, 0, 3, 1, 0, 3, 1}, {9}); }

}  // namespace

TEST(GraphGradcheck, SpmmInXAndEdgeWeights) {
  const CsrGraph g = CsrGraph::from_edge_index(edges(), kNodes);
  auto fn = [g](const tensor_list& in) { return tensor_list{spmm(g, in[0], in[1])}; };
  const tensor_list in{leaf64({kNodes, 3}, -1, 1, 1), leaf64({kEdges}, 0.5, 1.5, 2)};
  EXPECT_GRADCHECK(fn, in);
  EXPECT_GRADGRADCHECK(fn, in);
  auto fu = [g](const tensor_list& in) { return tensor_list{spmm(g, in[0])}; };  // unweighted
  EXPECT_GRADCHECK(fu, (tensor_list{leaf64({kNodes, 2, 2}, -1, 1, 3)}));
  // non-contiguous x: a transposed view of a [3, 7] buffer
  EXPECT_GRADCHECK(fn, (tensor_list{noncontig64(kNodes, 3, -1, 1, 4), leaf64({kEdges}, 0.5, 1.5, 5)}));
  // weights only
  const Tensor x = leaf64({kNodes, 3}, -1, 1, 6).detach();
  auto fw = [g, x](const tensor_list& in) { return tensor_list{spmm(g, x, in[0])}; };
  EXPECT_GRADCHECK(fw, (tensor_list{leaf64({kEdges}, -1, 1, 7)}));
}

TEST(GraphGradcheck, SpmmTransposeAndSddmm) {
  const CsrGraph g = CsrGraph::from_edge_index(edges(), kNodes);
  auto ft = [g](const tensor_list& in) { return tensor_list{spmm_transpose(g, in[0], in[1])}; };
  const tensor_list in{leaf64({kNodes, 3}, -1, 1, 8), leaf64({kEdges}, 0.5, 1.5, 9)};
  EXPECT_GRADCHECK(ft, in);
  EXPECT_GRADGRADCHECK(ft, in);
  auto fs = [g](const tensor_list& in) { return tensor_list{sddmm(g, in[0], in[1])}; };
  const tensor_list ab{leaf64({kNodes, 4}, -1, 1, 10), leaf64({kNodes, 4}, -1, 1, 11)};
  EXPECT_GRADCHECK(fs, ab);
  EXPECT_GRADGRADCHECK(fs, ab);
  // a bipartite graph: 5 sources, 3 targets
  const CsrGraph bg = CsrGraph::bipartite(from_vector(std::vector<int64_t>{0, 4, 2, 2, 1}, {5}),
                                          from_vector(std::vector<int64_t>{2, 0, 0, 2, 2}, {5}), 5, 3);
  auto fb = [bg](const tensor_list& in) { return tensor_list{spmm(bg, in[0], in[1])}; };
  EXPECT_GRADCHECK(fb, (tensor_list{leaf64({5, 2}, -1, 1, 12), leaf64({5}, -1, 1, 13)}));
}

TEST(GraphGradcheck, GcnNormEdgeWeights) {
  for (bool improved : {false, true})
    for (bool loops : {true, false}) {
      SCOPED_TRACE(std::to_string(improved) + std::to_string(loops));
      auto fn = [=](const tensor_list& in) {
        return tensor_list{gcn_norm(edges(), kNodes, in[0], {.improved = improved, .add_self_loops = loops}).edge_weight};
      };
      EXPECT_GRADCHECK(fn, (tensor_list{leaf64({kEdges}, 0.5, 1.5, 14)}));
    }
}

TEST(GraphGradcheck, GCNConv) {
  const nn::GCNConvOptions variants[] = {{}, {.improved = true}, {.add_self_loops = false}, {.normalize = false}};
  for (const auto& o : variants) {
    SCOPED_TRACE(std::to_string(o.improved) + std::to_string(o.add_self_loops) + std::to_string(o.normalize));
    auto fn = [o](const tensor_list& in) {
      return tensor_list{nn::gcn_conv(in[0], edges(), in[1], in[2], in[3], o)};
    };
    EXPECT_GRADCHECK(fn, (tensor_list{leaf64({kNodes, 3}, -1, 1, 15), leaf64({2, 3}, -1, 1, 16),
                                      leaf64({2}, -1, 1, 17), leaf64({kEdges}, 0.5, 1.5, 18)}));
  }
  // unweighted, through the module
  auto conv = std::make_shared<nn::GCNConv>(3, 2, nn::GCNConvOptions{.dtype = kFloat64});
  auto fm_ = [conv](const tensor_list& in) { return tensor_list{(*conv)(in[0], edges())}; };
  EXPECT_GRADCHECK(fm_, (tensor_list{leaf64({kNodes, 3}, -1, 1, 19)}));
  auto fg = [](const tensor_list& in) { return tensor_list{nn::gcn_conv(in[0], edges(), in[1], in[2])}; };
  EXPECT_GRADGRADCHECK(fg, (tensor_list{leaf64({kNodes, 3}, -1, 1, 20), leaf64({2, 3}, -1, 1, 21),
                                        leaf64({2}, -1, 1, 22)}));
}

TEST(GraphGradcheck, Pooling) {
  const Tensor b = batch4();
  auto fa = [b](const tensor_list& in) { return tensor_list{nn::global_add_pool(in[0], b, 4)}; };
  auto fm_ = [b](const tensor_list& in) { return tensor_list{nn::global_mean_pool(in[0], b, 4)}; };
  auto fx = [b](const tensor_list& in) { return tensor_list{nn::global_max_pool(in[0], b, 4)}; };
  for (const autograd::TestFn& f : std::vector<autograd::TestFn>{fa, fm_, fx}) {
    const tensor_list in{leaf64({9, 3}, -1, 1, 23)};
    EXPECT_GRADCHECK(f, in);
    EXPECT_GRADGRADCHECK(f, in);
    EXPECT_GRADCHECK(f, (tensor_list{noncontig64(9, 3, -1, 1, 24)}));
    EXPECT_GRADCHECK(f, (tensor_list{leaf64({9, 2, 2}, -1, 1, 25)}));  // features [2, 2]
  }
  // no batch: one graph
  auto f1 = [](const tensor_list& in) { return tensor_list{nn::global_max_pool(in[0])}; };
  EXPECT_GRADCHECK(f1, (tensor_list{leaf64({5, 3}, -1, 1, 26)}));
}

TEST(GraphGradcheck, SegmentSoftmaxAndAttentionPooling) {
  const Tensor b = batch4();
  auto fs = [b](const tensor_list& in) { return tensor_list{segment_softmax(in[0], b, 4)}; };
  EXPECT_GRADCHECK(fs, (tensor_list{leaf64({9, 2}, -2, 2, 27)}));
  EXPECT_GRADGRADCHECK(fs, (tensor_list{leaf64({9, 1}, -2, 2, 28)}));
  // gate [N, 1] and per-feature gate [N, F], with x
  auto fa = [b](const tensor_list& in) { return tensor_list{nn::attention_pool(in[0], in[1], b, 4)}; };
  EXPECT_GRADCHECK(fa, (tensor_list{leaf64({9, 1}, -2, 2, 29), leaf64({9, 3}, -1, 1, 30)}));
  EXPECT_GRADCHECK(fa, (tensor_list{leaf64({9, 3}, -2, 2, 31), leaf64({9, 3}, -1, 1, 32)}));
  EXPECT_GRADGRADCHECK(fa, (tensor_list{leaf64({9, 1}, -2, 2, 33), leaf64({9, 2}, -1, 1, 34)}));
  // the module: gate_nn and nn are Linear layers; x and the parameters are checked
  const nn::LinearOptions f64{.dtype = kFloat64};
  auto pool = std::make_shared<nn::GlobalAttentionPool>(std::make_shared<nn::Linear>(3, 1, f64),
                                                        std::make_shared<nn::Linear>(3, 2, f64));
  auto fp = [pool, b](const tensor_list& in) { return tensor_list{(*pool)(in[0], b, 4)}; };
  tensor_list in{leaf64({9, 3}, -1, 1, 35)};
  for (const Tensor& p : pool->parameters()) in.push_back(p);
  EXPECT_GRADCHECK(fp, in);
}
