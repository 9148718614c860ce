#pragma once
// Message passing on graphs (torch_geometric's conventions): a sparse adjacency in compressed
// sparse row form built from an edge list, the sparse-dense product that aggregates messages,
// GCN normalisation, and segment reductions over a batch vector (the graph pooling ops).
//
// Edge lists are int64 [2, E]: row 0 holds the source node of each edge, row 1 its target
// (torch_geometric's flow "source_to_target": a node aggregates the messages of the edges that
// point at it). Every node index is checked; an error names the op, the offending index, where
// it is and num_nodes.
//
// All ops here are differentiable, and their gradients are written with ops of this file (the
// gradient of spmm is a transposed spmm and a sampled dense-dense product, whose gradients are
// spmm again), so second derivatives work.
#include <memory>
#include <utility>

#include "kernels/graph.h"
#include "tensor/tensor.h"

namespace fm {

// An immutable sparse adjacency between num_sources source nodes and num_targets target nodes,
// kept both ways: grouped by target (for aggregation) and grouped by source (its transpose, for
// the gradient). Copies share the data. Edge k of the original list keeps its number k, so an
// edge weight tensor [E] in edge-list order applies to it.
class CsrGraph {
 public:
  CsrGraph() = default;
  // A graph on num_nodes nodes from edge_index int64 [2, E] (row 0 sources, row 1 targets).
  static CsrGraph from_edge_index(const Tensor& edge_index, int64_t num_nodes);
  // A bipartite graph: edge e goes from source[e] in [0, num_sources) to target[e] in
  // [0, num_targets). `op` names the caller in range errors.
  static CsrGraph bipartite(const Tensor& source, const Tensor& target, int64_t num_sources,
                            int64_t num_targets, const char* op = "CsrGraph");

  bool defined() const { return d_ != nullptr; }
  int64_t num_sources() const { return d_->by_target.cols; }
  int64_t num_targets() const { return d_->by_target.rows; }
  int64_t num_edges() const { return d_->by_target.nnz(); }
  // Rows are targets, columns sources / rows are sources, columns targets.
  const kernels::Csr& by_target() const { return d_->by_target; }
  const kernels::Csr& by_source() const { return d_->by_source; }

 private:
  struct Data {
    kernels::Csr by_target, by_source;
  };
  std::shared_ptr<const Data> d_;
  // bipartite without the range checks, for autograd/graph.cpp's callers that checked already.
  friend CsrGraph csr_graph_unchecked(const Tensor& source, const Tensor& target, int64_t num_sources,
                                      int64_t num_targets);
};

// Message aggregation: y[t] = sum over the edges e with target t of w[e] * x[source(e)].
// x [num_sources, F...] (float32/float64, any strides), edge_weight [E] of x's dtype or
// undefined (all ones). Returns [num_targets, F...]. Differentiable in x (the gradient is the
// transposed product) and in edge_weight (the gradient of w[e] is <dy[target(e)], x[source(e)]>).
Tensor spmm(const CsrGraph& g, const Tensor& x, const Tensor& edge_weight = Tensor());
// The same over the reversed edges: y[s] = sum over the edges e with source s of w[e] * x[target(e)].
Tensor spmm_transpose(const CsrGraph& g, const Tensor& x, const Tensor& edge_weight = Tensor());
// The product a @ b^T sampled at the edges: out[e] = <a[target(e)], b[source(e)]>, for
// a [num_targets, F...] and b [num_sources, F...]. Returns [E]. Differentiable in a and b.
Tensor sddmm(const CsrGraph& g, const Tensor& a, const Tensor& b);

// torch_geometric.utils.add_remaining_self_loops: drops the self-loops of edge_index and appends
// one loop (i, i) for every node, in node order. The weight of node i's loop is the weight of
// its last dropped self-loop if it had one, else fill_value. edge_weight [E] or undefined (then
// the returned weight is undefined too). Differentiable in edge_weight.
std::pair<Tensor, Tensor> add_remaining_self_loops(const Tensor& edge_index, const Tensor& edge_weight,
                                                   double fill_value, int64_t num_nodes);

struct GcnNormOptions {
  bool improved = false;        // self-loop weight 2 instead of 1
  bool add_self_loops = true;   // add_remaining_self_loops before normalising
  DType dtype = DType::Float32;  // of the weights when edge_weight is undefined
};
struct GcnNorm {
  Tensor edge_index;   // int64 [2, E'] (E' = E - existing loops + num_nodes with self-loops)
  Tensor edge_weight;  // [E']
};
// torch_geometric.nn.conv.gcn_conv.gcn_norm (flow source_to_target): w = edge_weight or ones;
// with add_self_loops, add_remaining_self_loops(fill = improved ? 2 : 1) (an existing loop keeps
// its own weight: 1 when edge_weight is undefined); deg[t] = sum of w over the edges into t; and
// w[e] = deg^-1/2[source(e)] * w[e] * deg^-1/2[target(e)], where deg^-1/2 is 0 where deg is 0.
// That is D^-1/2 (A + I) D^-1/2 with A[t, s] the summed weights of the edges s -> t.
// Differentiable in edge_weight.
GcnNorm gcn_norm(const Tensor& edge_index, int64_t num_nodes, const Tensor& edge_weight = Tensor(),
                 GcnNormOptions o = {});

// ----- segment reductions over a batch vector -----
// batch: int64 [N], the segment (graph) of each of the N rows of x [N, F...]; any order. With
// num_segments < 0 the count is batch.max() + 1 (0 when N = 0); every value must be in
// [0, num_segments). An undefined batch puts every row in one segment. The result has
// num_segments rows. An empty segment gives 0 (sum, mean and max alike) and gets no gradient,
// as torch_scatter's scatter(reduce=...) does. `op` names the caller in errors.
Tensor segment_sum(const Tensor& x, const Tensor& batch, int64_t num_segments = -1,
                   const char* op = "segment_sum");
Tensor segment_mean(const Tensor& x, const Tensor& batch, int64_t num_segments = -1,
                    const char* op = "segment_mean");
// Values and the row index of each maximum (the first row, in row order, that reaches it; -1
// for an empty segment). The gradient goes to that row only.
std::pair<Tensor, Tensor> segment_max(const Tensor& x, const Tensor& batch, int64_t num_segments = -1,
                                      const char* op = "segment_max");
// Softmax over the rows of each segment, separately for each column (torch_geometric.utils.
// softmax): exp(x - max of the segment) / sum of those over the segment. Same shape as x.
Tensor segment_softmax(const Tensor& x, const Tensor& batch, int64_t num_segments = -1,
                       const char* op = "segment_softmax");

}  // namespace fm
