#pragma once
// Graph layers with torch_geometric's names, defaults and parameter names: GCNConv (Kipf &
// Welling), the global pooling functions over a batch vector, and attention pooling
// (GlobalAttention / AttentionalAggregation). Graph conventions (edge_index int64 [2, E], row 0
// sources, row 1 targets; batch int64 [N]) are those of autograd/graph.h.
#include <memory>
#include <string>

#include "autograd/graph.h"
#include "layers/basic.h"
#include "layers/module.h"

namespace fm::nn {

struct GCNConvOptions {
  bool improved = false;        // A + 2I instead of A + I
  bool cached = false;          // normalise the first graph seen and reuse it (see GCNConv)
  bool add_self_loops = true;   // add_remaining_self_loops before normalising
  bool normalize = true;        // false: plain sum of the (weighted) messages, no self-loops
  bool bias = true;
  DType dtype = DType::Float32;
};

// The functional form of GCNConv (no cache): out = A_hat (x @ weight^T) + bias, where A_hat is
// gcn_norm's D^-1/2 (A + I) D^-1/2 (or A itself when !o.normalize, weighted by edge_weight if
// given). x [N, in], weight [out, in], bias [out] or undefined, edge_weight [E] or undefined.
// Differentiable in x, weight, bias and edge_weight.
Tensor gcn_conv(const Tensor& x, const Tensor& edge_index, const Tensor& weight, const Tensor& bias = Tensor(),
                const Tensor& edge_weight = Tensor(), const GCNConvOptions& o = {});

// torch_geometric.nn.GCNConv (2.x): x @ W^T, then each node sums the messages w[e] * h[source]
// of the edges into it (normalised as gcn_norm does), then the bias is added. Parameters, as
// torch_geometric 2.x names them in state_dict: "lin.weight" [out, in] (glorot / xavier-uniform
// init; lin is a Linear without bias) and "bias" [out] (zeros).
// With cached, the normalised graph of the first forward is kept and reused (transductive
// learning on one graph, as in torch_geometric); its weights are detached, so no gradient reaches
// an edge_weight through the cache. A later call with a different number of nodes or edges is an
// error; reset_cache() forgets it.
class GCNConv : public Module {
 public:
  GCNConv(int64_t in_channels, int64_t out_channels, GCNConvOptions o = {});
  Tensor forward(const Tensor& x, const Tensor& edge_index, const Tensor& edge_weight = Tensor());
  Tensor operator()(const Tensor& x, const Tensor& edge_index, const Tensor& edge_weight = Tensor()) {
    return run_forward_hooks(forward(x, edge_index, edge_weight));
  }
  std::string type_name() const override { return "GCNConv"; }
  std::string extra_repr() const override;  // "12, 128", as torch_geometric prints it
  void reset_parameters();
  void reset_cache() { cache_ = {}; }

  int64_t in_channels, out_channels;
  GCNConvOptions options;
  std::shared_ptr<Linear> lin;  // weight [out, in], no bias
  Tensor bias;                  // [out] or undefined

 private:
  struct Cache {
    CsrGraph graph;
    Tensor weight;  // normalised edge weights in the graph's edge order
    int64_t num_nodes = -1, num_edges = -1;
  } cache_;
};

// torch_geometric.nn.global_{add,mean,max}_pool: per graph, the sum / mean / maximum of the rows
// of x [N, F...] of its nodes. batch int64 [N] gives each node's graph (any order; undefined: all
// nodes form one graph); num_graphs < 0 means batch.max() + 1. Returns [num_graphs, F...]. A
// graph without nodes gives 0 for all three (torch_scatter's convention) and no gradient.
// global_max_pool sends the gradient to the first node (in node order) that reaches the maximum.
Tensor global_add_pool(const Tensor& x, const Tensor& batch = Tensor(), int64_t num_graphs = -1);
Tensor global_mean_pool(const Tensor& x, const Tensor& batch = Tensor(), int64_t num_graphs = -1);
Tensor global_max_pool(const Tensor& x, const Tensor& batch = Tensor(), int64_t num_graphs = -1);

// torch_geometric's GlobalAttention / AttentionalAggregation: gate = gate_nn(x) [N, 1] (or
// [N, F] for per-feature gates), softmax over the nodes of each graph (segment_softmax), and
// out[g] = sum over the nodes i of g of gate[i] * h[i], with h = nn(x) (or x when nn is null).
// Submodules "gate_nn" and "nn", so state_dict keys match torch_geometric's
// ("gate_nn.0.weight" for a Sequential gate). An empty graph gives 0.
class GlobalAttentionPool : public Module {
 public:
  explicit GlobalAttentionPool(std::shared_ptr<UnaryModule> gate_nn, std::shared_ptr<UnaryModule> nn = nullptr);
  Tensor forward(const Tensor& x, const Tensor& batch = Tensor(), int64_t num_graphs = -1);
  Tensor operator()(const Tensor& x, const Tensor& batch = Tensor(), int64_t num_graphs = -1) {
    return run_forward_hooks(forward(x, batch, num_graphs));
  }
  std::string type_name() const override { return "GlobalAttention"; }

  std::shared_ptr<UnaryModule> gate_nn, nn;
};

// The attention pooling as a function of the gate scores: out[g] = sum over the nodes i of g of
// softmax_g(gate)[i] * h[i]. gate [N, 1] or [N, F] (broadcast against h [N, F]).
Tensor attention_pool(const Tensor& gate, const Tensor& h, const Tensor& batch = Tensor(), int64_t num_graphs = -1);

}  // namespace fm::nn
