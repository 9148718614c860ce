#include "layers/graph.h"

#include "autograd/elementwise.h"
#include "autograd/linalg.h"
#include "autograd/views.h"
#include "layers/init.h"
#include "tensor/factory.h"

namespace fm::nn {

namespace {

struct Prepared {
  CsrGraph graph;
  Tensor weight;  // [E'] or undefined (all ones)
};

Prepared prepare(const Tensor& edge_index, const Tensor& edge_weight, int64_t N, const GCNConvOptions& o,
                 DType dtype) {
  if (!o.normalize) return {CsrGraph::from_edge_index(edge_index, N), edge_weight};
  GcnNorm n = gcn_norm(edge_index, N, edge_weight,
                       {.improved = o.improved, .add_self_loops = o.add_self_loops, .dtype = dtype});
  return {CsrGraph::from_edge_index(n.edge_index, N), n.edge_weight};
}

void check_x(const Tensor& x, int64_t in) {
  FM_CHECK(x.defined() && x.is_floating_point() && x.dim() == 2, "GCNConv: x must be a floating tensor "
           "[num_nodes, in_channels], got ", x.defined() ? x.describe() : std::string("an undefined tensor"));
  FM_CHECK(in < 0 || x.size(1) == in, "GCNConv: x has ", x.size(1), " features but in_channels is ", in,
           " (x ", x.describe(), ")");
}

Tensor propagate(const Prepared& p, const Tensor& x, const Tensor& weight, const Tensor& bias) {
  Tensor out = spmm(p.graph, linear(x, weight), p.weight);
  return bias.defined() ? add(out, bias) : out;
}

}  // namespace

Tensor gcn_conv(const Tensor& x, const Tensor& edge_index, const Tensor& weight, const Tensor& bias,
                const Tensor& edge_weight, const GCNConvOptions& o) {
  check_x(x, weight.defined() && weight.dim() == 2 ? weight.size(1) : -1);
  return propagate(prepare(edge_index, edge_weight, x.size(0), o, x.dtype()), x, weight, bias);
}

GCNConv::GCNConv(int64_t in, int64_t out, GCNConvOptions o) : in_channels(in), out_channels(out), options(o) {
  FM_CHECK(in > 0 && out > 0, "GCNConv: channel counts must be positive, got ", in, " and ", out);
  lin = register_module("lin", std::make_shared<Linear>(in, out, LinearOptions{.bias = false, .dtype = o.dtype}));
  bias = register_parameter("bias", o.bias ? empty({out}, {.dtype = o.dtype}) : Tensor());
  reset_parameters();
}

void GCNConv::reset_parameters() {
  init::xavier_uniform_(lin->weight);  // torch_geometric's glorot
  if (bias.defined()) init::zeros_(bias);
  reset_cache();
}

std::string GCNConv::extra_repr() const { return std::to_string(in_channels) + ", " + std::to_string(out_channels); }

Tensor GCNConv::forward(const Tensor& x, const Tensor& edge_index, const Tensor& edge_weight) {
  check_x(x, in_channels);
  const int64_t N = x.size(0);
  if (!options.cached) return propagate(prepare(edge_index, edge_weight, N, options, x.dtype()), x, lin->weight, bias);
  FM_CHECK(edge_index.defined() && edge_index.dim() == 2, "GCNConv: edge_index must be an int64 tensor "
           "[2, num_edges], got ", edge_index.defined() ? edge_index.describe() : std::string("undefined"));
  if (!cache_.graph.defined()) {
    Prepared p = prepare(edge_index, edge_weight, N, options, x.dtype());
    cache_ = {p.graph, p.weight.defined() ? p.weight.detach() : Tensor(), N, edge_index.size(1)};
  } else {
    FM_CHECK(cache_.num_nodes == N && cache_.num_edges == edge_index.size(1), "GCNConv(cached=true): the "
             "cached graph has ", cache_.num_nodes, " nodes and ", cache_.num_edges, " edges, this call ", N,
             " nodes and ", edge_index.size(1), " edges; call reset_cache() to use another graph");
  }
  Tensor w = cache_.weight;
  if (w.defined() && w.dtype() != x.dtype()) w = cache_.weight = fm::to(w, x.dtype());
  return propagate({cache_.graph, w}, x, lin->weight, bias);
}

Tensor global_add_pool(const Tensor& x, const Tensor& batch, int64_t num_graphs) {
  return segment_sum(x, batch, num_graphs, "global_add_pool");
}
Tensor global_mean_pool(const Tensor& x, const Tensor& batch, int64_t num_graphs) {
  return segment_mean(x, batch, num_graphs, "global_mean_pool");
}
Tensor global_max_pool(const Tensor& x, const Tensor& batch, int64_t num_graphs) {
  return segment_max(x, batch, num_graphs, "global_max_pool").first;
}

Tensor attention_pool(const Tensor& gate, const Tensor& h, const Tensor& batch, int64_t num_graphs) {
  FM_CHECK(h.defined() && h.dim() == 2, "attention_pool: features must be [num_nodes, F], got ",
           h.defined() ? h.describe() : std::string("undefined"));
  FM_CHECK(gate.defined() && gate.dim() == 2 && gate.size(0) == h.size(0) &&
               (gate.size(1) == 1 || gate.size(1) == h.size(1)),
           "attention_pool: gate must be [num_nodes, 1] or [num_nodes, F] for features ", h.describe(), ", got ",
           gate.defined() ? gate.describe() : std::string("undefined"));
  const Tensor a = segment_softmax(gate, batch, num_graphs, "attention_pool");
  return segment_sum(mul(a, h), batch, num_graphs, "attention_pool");
}

GlobalAttentionPool::GlobalAttentionPool(std::shared_ptr<UnaryModule> gate, std::shared_ptr<UnaryModule> n)
    : gate_nn(std::move(gate)), nn(std::move(n)) {
  FM_CHECK(gate_nn != nullptr, "GlobalAttentionPool: gate_nn is required");
  register_module("gate_nn", gate_nn);
  if (nn) register_module("nn", nn);
}

Tensor GlobalAttentionPool::forward(const Tensor& x, const Tensor& batch, int64_t num_graphs) {
  const Tensor gate = (*gate_nn)(x);
  const Tensor h = nn ? (*nn)(x) : x;
  return attention_pool(gate, h, batch, num_graphs);
}

}  // namespace fm::nn
