// Message passing: forward through kernels/graph.h, gradients beside it. spmm's gradient is the
// transposed spmm (for x) and sddmm (for the edge weights); sddmm's gradient is spmm both ways.
// GCN normalisation and the segment reductions are compositions of differentiable ops.
// Every op works on CPU and CUDA tensors alike: graphs are built on the device of their edge
// list, range checks of CUDA indices reduce them on the device (two values reach the host, and
// a host copy is scanned only to name an offending index), and the only host work on CUDA data
// is add_remaining_self_loops' filtering of the edge list and the per-segment counts (B + 1
// values) that mean and max pooling need.
#include "autograd/graph.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "autograd/elementwise.h"
#include "autograd/index.h"
#include "autograd/node.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "tensor/factory.h"

namespace fm {

using autograd::record;
using autograd::save;
using autograd::SavedTensor;
using autograd::tensor_list;

namespace {

// Throws when a value of p[0..n) lies outside [0, size); `what` names the values ("edge_index[1]").
void check_range(const char* op, const int64_t* p, int64_t n, int64_t size, const std::string& what,
                 const char* size_name) {
  int64_t lo = 0, hi = -1;
  if (n > 0) lo = hi = p[0];
  for (int64_t i = 1; i < n; ++i) {
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
  }
  if (n == 0 || (lo >= 0 && hi < size)) return;
  for (int64_t i = 0; i < n; ++i)
    if (p[i] < 0 || p[i] >= size)
      fail(op, ": ", what, "[", i, "] = ", p[i], " is out of range for ", size_name, " = ", size,
           " (expected a value in [0, ", size, "))");
}

// t itself on the CPU, else a CPU copy.
Tensor on_host(const Tensor& t) { return t.device().is_cpu() ? t : to_raw(t, t.dtype(), Device::cpu()); }

// The same for a contiguous int64 tensor on either device: a CUDA tensor is reduced on the
// device to its minimum and maximum, and scanned on the host only when one is out of range.
void check_range(const char* op, const Tensor& t, int64_t size, const std::string& what, const char* size_name) {
  const int64_t n = t.numel();
  if (n == 0) return;
  if (t.device().is_cuda()) {
    const auto [lo, hi] = kernels::index_min_max(t);
    if (lo >= 0 && hi < size) return;
  }
  const Tensor h = contiguous_raw(on_host(t));
  check_range(op, h.data_ptr<int64_t>(), n, size, what, size_name);
}

// edge_index as a contiguous int64 [2, E] tensor (on its device) with every node index in
// [0, num_nodes). With `host`, *host gets a CPU copy too, and the check runs on it.
Tensor checked_edge_index(const char* op, const Tensor& edge_index, int64_t num_nodes, Tensor* host = nullptr) {
  FM_CHECK(edge_index.defined(), op, ": edge_index is undefined");
  FM_CHECK(edge_index.dtype() == DType::Int64 && edge_index.dim() == 2 && edge_index.size(0) == 2, op,
           ": edge_index must be an int64 tensor of shape [2, num_edges] (row 0 sources, row 1 "
           "targets), got ", edge_index.describe());
  FM_CHECK(num_nodes >= 0, op, ": num_nodes must be non-negative, got ", num_nodes);
  const Tensor ei = contiguous_raw(edge_index.detach());
  const int64_t E = ei.size(1);
  if (!host && E > 0 && ei.device().is_cuda()) {
    const auto [lo, hi] = kernels::index_min_max(ei);
    if (lo >= 0 && hi < num_nodes) return ei;
  }
  const Tensor h = contiguous_raw(on_host(ei));
  const int64_t* p = E ? h.data_ptr<int64_t>() : nullptr;
  check_range(op, p, E, num_nodes, "edge_index[0]", "num_nodes");
  check_range(op, p ? p + E : nullptr, E, num_nodes, "edge_index[1]", "num_nodes");
  if (host) *host = h;
  return ei;
}

void check_edge_weight(const char* op, const Tensor& w, int64_t E, const Tensor* x) {
  if (!w.defined()) return;
  FM_CHECK(w.is_floating_point() && w.dim() == 1 && w.size(0) == E, op,
           ": edge_weight must be a floating tensor of shape [", E, "] (one weight per edge), got ",
           w.describe());
  if (x)
    FM_CHECK(w.dtype() == x->dtype(), op, ": edge_weight dtype ", w.dtype(), " must match x dtype ",
             x->dtype(), " (edge_weight ", w.describe(), ", x ", x->describe(), ")");
}

void check_features(const char* op, const Tensor& x, int64_t rows, const char* rows_name) {
  FM_CHECK(x.defined() && x.is_floating_point() && x.dim() >= 1, op,
           ": expected a floating tensor [", rows_name, ", features...], got ",
           x.defined() ? x.describe() : std::string("an undefined tensor"));
  FM_CHECK(x.size(0) == rows, op, ": x has ", x.size(0), " rows but the graph has ", rows, " ", rows_name,
           " (x ", x.describe(), ")");
}

// The graph lives on the device of the edge list it was built from; its operands must too.
void check_graph_device(const char* op, const CsrGraph& g, const Tensor& x) {
  const Device d = g.by_target().ptr.device();
  FM_CHECK(x.device() == d, op, ": ", x.describe(), " is not on the graph's device ", d,
           " (build the graph from an edge_index on ", x.device(), ")");
}

Tensor sddmm_impl(const CsrGraph& g, const Tensor& a, const Tensor& b);

// transposed = false: y[t] = sum_{e -> t} w[e] x[source(e)]; true: y[s] = sum_{s -> e} w[e] x[target(e)].
Tensor spmm_impl(const CsrGraph& g, bool transposed, const Tensor& x, const Tensor& w) {
  const kernels::Csr& A = transposed ? g.by_source() : g.by_target();
  Tensor y = kernels::spmm(A, w, x);
  const bool xg = x.requires_grad(), wg = w.defined() && w.requires_grad();
  if (xg || wg)
    record(transposed ? "SpmmTransposeBackward" : "SpmmBackward", {x, w}, {y},
           [g, transposed, xg, wg, sx = wg ? save(x) : SavedTensor(), sw = save(w)](const tensor_list& gy) {
             Tensor gx, gw;
             if (xg) gx = spmm_impl(g, !transposed, gy[0], sw.unpack());
             if (wg) {
               const Tensor x = sx.unpack();
               gw = transposed ? sddmm_impl(g, x, gy[0]) : sddmm_impl(g, gy[0], x);
             }
             return tensor_list{gx, gw};
           });
  return y;
}

Tensor sddmm_impl(const CsrGraph& g, const Tensor& a, const Tensor& b) {
  Tensor y = kernels::sddmm(g.by_target(), a, b);
  const bool ag = a.requires_grad(), bg = b.requires_grad();
  if (ag || bg)
    record("SddmmBackward", {a, b}, {y},
           [g, ag, bg, sa = bg ? save(a) : SavedTensor(), sb = ag ? save(b) : SavedTensor()](const tensor_list& gy) {
             Tensor ga, gb;
             if (ag) ga = spmm_impl(g, false, sb.unpack(), gy[0]);
             if (bg) gb = spmm_impl(g, true, sa.unpack(), gy[0]);
             return tensor_list{ga, gb};
           });
  return y;
}

// ----- segments -----
struct Segments {
  CsrGraph g;      // sources: rows of x; targets: segments
  Tensor batch;    // int64 [N] on x's device (zeros when the caller gave none)
  int64_t count;   // number of segments
};

// The rows of each segment, on the host (a copy of count + 1 values from a CUDA graph).
std::vector<int64_t> segment_sizes(const Segments& s) {
  const std::vector<int64_t> ptr = s.g.by_target().ptr.to_vector<int64_t>();
  std::vector<int64_t> n(s.count);
  for (int64_t b = 0; b < s.count; ++b) n[b] = ptr[b + 1] - ptr[b];
  return n;
}

}  // namespace
CsrGraph csr_graph_unchecked(const Tensor& source, const Tensor& target, int64_t num_sources, int64_t num_targets);
namespace {

Segments make_segments(const char* op, const Tensor& x, const Tensor& batch0, int64_t num_segments) {
  FM_CHECK(x.defined() && x.is_floating_point() && x.dim() >= 1, op,
           ": expected a floating tensor x [num_nodes, features...], got ",
           x.defined() ? x.describe() : std::string("an undefined tensor"));
  const int64_t N = x.size(0);
  const Device dev = x.device();
  Segments s;
  if (!batch0.defined()) {
    s.batch = zeros({N}, {.dtype = DType::Int64, .device = dev});
    s.count = num_segments < 0 ? 1 : num_segments;
    if (s.count < 1) check_range(op, s.batch, s.count, "batch", "num_graphs");  // zeros fit otherwise
  } else {
    FM_CHECK(batch0.dtype() == DType::Int64 && batch0.dim() == 1 && batch0.size(0) == N, op,
             ": batch must be an int64 tensor [num_nodes] giving each node's graph, with num_nodes = ", N,
             " (the rows of x ", x.describe(), "), got ", batch0.describe());
    FM_CHECK(batch0.device() == dev, op, ": batch ", batch0.describe(), " and x ", x.describe(),
             " must be on one device");
    s.batch = contiguous_raw(batch0.detach());
    int64_t lo = 0, hi = -1;
    if (N > 0) std::tie(lo, hi) = kernels::index_min_max(s.batch);
    s.count = num_segments < 0 ? hi + 1 : num_segments;
    // rare: name the first offending node (a host scan)
    if (N > 0 && (lo < 0 || hi >= s.count)) {
      const Tensor h = contiguous_raw(on_host(s.batch));
      check_range(op, h.data_ptr<int64_t>(), N, s.count, "batch", "num_graphs");
    }
  }
  FM_CHECK(s.count >= 0, op, ": num_graphs must be non-negative, got ", s.count);
  s.g = csr_graph_unchecked(arange(N, {.dtype = DType::Int64, .device = dev}), s.batch, N, s.count);
  return s;
}

// [B, 1, 1, ...] with x's number of dims, for broadcasting a per-segment value over features.
Shape segment_column(int64_t B, const Tensor& x) {
  Shape s(x.dim(), 1);
  s[0] = B;
  return s;
}

Tensor seg_sum(const Segments& s, const Tensor& x) { return spmm_impl(s.g, false, x, Tensor()); }

std::pair<Tensor, Tensor> seg_max(const Segments& s, const Tensor& x) {
  auto [vals, idx] = kernels::segment_max(s.g.by_target(), x);
  if (x.requires_grad()) {
    Tensor idx_safe = idx, empty_rows;
    const std::vector<int64_t> sizes = segment_sizes(s);
    if (std::find(sizes.begin(), sizes.end(), int64_t{0}) != sizes.end()) {
      // an empty segment's index -1 becomes 0 (its gradient is masked to 0 below)
      std::vector<double> empty_v(s.count);
      for (int64_t b = 0; b < s.count; ++b) empty_v[b] = sizes[b] == 0;
      empty_rows = eq(reshape(from_vector(empty_v, {s.count}, {.dtype = x.dtype(), .device = x.device()}),
                              segment_column(s.count, x)),
                      1.0);
      idx_safe = where(empty_rows, zeros({}, {.dtype = DType::Int64, .device = idx.device()}), idx);
    }
    record("SegmentMaxBackward", {x}, {vals},
           [idx_safe, empty_rows, xs = x.sizes()](const tensor_list& g) {
             const Tensor gm = empty_rows.defined() ? masked_fill(g[0], empty_rows, 0.0) : g[0];
             return tensor_list{scatter_add(zeros(xs, {.dtype = g[0].dtype(), .device = g[0].device()}), 0,
                                            idx_safe, gm)};
           });
  }
  return {vals, idx};
}

}  // namespace

CsrGraph csr_graph_unchecked(const Tensor& source, const Tensor& target, int64_t num_sources, int64_t num_targets) {
  auto d = std::make_shared<CsrGraph::Data>();
  d->by_target = kernels::csr_from_edges(target, source, num_targets, num_sources);
  d->by_source = kernels::csr_from_edges(source, target, num_sources, num_targets);
  CsrGraph g;
  g.d_ = std::move(d);
  return g;
}

// ---------------- CsrGraph ----------------

CsrGraph CsrGraph::from_edge_index(const Tensor& edge_index, int64_t num_nodes) {
  const Tensor ei = checked_edge_index("CsrGraph::from_edge_index", edge_index, num_nodes);
  const int64_t E = ei.size(1);
  const Tensor src = make_view(ei, {E}, {1}, 0), tgt = make_view(ei, {E}, {1}, E);
  auto d = std::make_shared<Data>();
  d->by_target = kernels::csr_from_edges(tgt, src, num_nodes, num_nodes);
  d->by_source = kernels::csr_from_edges(src, tgt, num_nodes, num_nodes);
  CsrGraph g;
  g.d_ = std::move(d);
  return g;
}

CsrGraph CsrGraph::bipartite(const Tensor& source, const Tensor& target, int64_t num_sources,
                             int64_t num_targets, const char* op) {
  FM_CHECK(source.defined() && target.defined() && source.dtype() == DType::Int64 &&
               target.dtype() == DType::Int64 && source.dim() == 1 && target.dim() == 1 &&
               source.numel() == target.numel(),
           op, ": source and target must be int64 tensors [num_edges] of the same size, got ",
           source.defined() ? source.describe() : "undefined", " and ",
           target.defined() ? target.describe() : "undefined");
  FM_CHECK(num_sources >= 0 && num_targets >= 0, op, ": node counts must be non-negative, got ",
           num_sources, " and ", num_targets);
  FM_CHECK(source.device() == target.device(), op, ": source ", source.describe(), " and target ",
           target.describe(), " must be on one device");
  const Tensor s = contiguous_raw(source.detach()), t = contiguous_raw(target.detach());
  check_range(op, s, num_sources, "source", "num_sources");
  check_range(op, t, num_targets, "target", "num_targets");
  return csr_graph_unchecked(s, t, num_sources, num_targets);
}

// ---------------- products ----------------

Tensor spmm(const CsrGraph& g, const Tensor& x, const Tensor& edge_weight) {
  FM_CHECK(g.defined(), "spmm: the graph is empty (default-constructed CsrGraph)");
  check_features("spmm", x, g.num_sources(), "source nodes");
  check_edge_weight("spmm", edge_weight, g.num_edges(), &x);
  check_graph_device("spmm", g, x);
  if (edge_weight.defined()) check_graph_device("spmm", g, edge_weight);
  return spmm_impl(g, false, x, edge_weight);
}

Tensor spmm_transpose(const CsrGraph& g, const Tensor& x, const Tensor& edge_weight) {
  FM_CHECK(g.defined(), "spmm_transpose: the graph is empty (default-constructed CsrGraph)");
  check_features("spmm_transpose", x, g.num_targets(), "target nodes");
  check_edge_weight("spmm_transpose", edge_weight, g.num_edges(), &x);
  check_graph_device("spmm_transpose", g, x);
  if (edge_weight.defined()) check_graph_device("spmm_transpose", g, edge_weight);
  return spmm_impl(g, true, x, edge_weight);
}

Tensor sddmm(const CsrGraph& g, const Tensor& a, const Tensor& b) {
  FM_CHECK(g.defined(), "sddmm: the graph is empty (default-constructed CsrGraph)");
  check_features("sddmm", a, g.num_targets(), "target nodes");
  check_features("sddmm", b, g.num_sources(), "source nodes");
  FM_CHECK(a.dtype() == b.dtype(), "sddmm: a and b must have the same dtype, got ", a.describe(), " and ",
           b.describe());
  check_graph_device("sddmm", g, a);
  check_graph_device("sddmm", g, b);
  Shape fa(a.sizes().begin() + 1, a.sizes().end()), fb(b.sizes().begin() + 1, b.sizes().end());
  FM_CHECK(fa == fb, "sddmm: a and b must have the same feature shape, got ", a.describe(), " and ",
           b.describe());
  return sddmm_impl(g, a, b);
}

// ---------------- GCN normalisation ----------------

std::pair<Tensor, Tensor> add_remaining_self_loops(const Tensor& edge_index, const Tensor& edge_weight,
                                                   double fill_value, int64_t num_nodes) {
  const char* op = "add_remaining_self_loops";
  // The filtering runs on the host (for a CUDA edge list: one copy there and the result back).
  Tensor host;
  const Tensor ei = checked_edge_index(op, edge_index, num_nodes, &host);
  const int64_t E = ei.size(1), N = num_nodes;
  check_edge_weight(op, edge_weight, E, nullptr);
  if (edge_weight.defined())
    FM_CHECK(edge_weight.device() == ei.device(), op, ": edge_weight ", edge_weight.describe(), " and edge_index ",
             ei.describe(), " must be on one device");
  const int64_t* src = E ? host.data_ptr<int64_t>() : nullptr;
  const int64_t* tgt = src ? src + E : nullptr;
  std::vector<int64_t> keep;
  keep.reserve(E);
  std::vector<int64_t> last_loop(N, -1);
  for (int64_t e = 0; e < E; ++e) {
    if (src[e] != tgt[e]) keep.push_back(e);
    else last_loop[src[e]] = e;
  }
  const int64_t K = static_cast<int64_t>(keep.size());
  Tensor out = empty({2, K + N}, {.dtype = DType::Int64});
  int64_t* o = out.data_ptr<int64_t>();
  for (int64_t k = 0; k < K; ++k) {
    o[k] = src[keep[k]];
    o[K + N + k] = tgt[keep[k]];
  }
  for (int64_t i = 0; i < N; ++i) o[K + i] = o[K + N + K + i] = i;
  out = to_raw(out, DType::Int64, ei.device());
  if (!edge_weight.defined()) return {out, Tensor()};
  std::vector<int64_t> loop_nodes, loop_edges;
  for (int64_t i = 0; i < N; ++i)
    if (last_loop[i] >= 0) {
      loop_nodes.push_back(i);
      loop_edges.push_back(last_loop[i]);
    }
  const Options wo{.dtype = edge_weight.dtype(), .device = edge_weight.device()};
  const Options io{.dtype = DType::Int64, .device = edge_weight.device()};
  Tensor loop_w = full({N}, fill_value, wo);
  if (!loop_nodes.empty()) {
    const int64_t L = static_cast<int64_t>(loop_nodes.size());
    loop_w = scatter(loop_w, 0, from_vector(loop_nodes, {L}, io),
                     index_select(edge_weight, 0, from_vector(loop_edges, {L}, io)));
  }
  Tensor kept = K == E ? edge_weight : index_select(edge_weight, 0, from_vector(keep, {K}, io));
  return {out, K == 0 ? loop_w : cat({kept, loop_w}, 0)};
}

GcnNorm gcn_norm(const Tensor& edge_index, int64_t num_nodes, const Tensor& edge_weight, GcnNormOptions o) {
  const char* op = "gcn_norm";
  Tensor ei = checked_edge_index(op, edge_index, num_nodes);
  check_edge_weight(op, edge_weight, ei.size(1), nullptr);
  FM_CHECK(edge_weight.defined() || is_floating(o.dtype), op, ": dtype must be floating, got ", o.dtype);
  Tensor w = edge_weight.defined() ? edge_weight : ones({ei.size(1)}, {.dtype = o.dtype, .device = ei.device()});
  if (o.add_self_loops) std::tie(ei, w) = add_remaining_self_loops(ei, w, o.improved ? 2.0 : 1.0, num_nodes);
  const int64_t E = ei.size(1);
  const Tensor src = make_view(ei, {E}, {1}, 0), tgt = make_view(ei, {E}, {1}, E);
  const Tensor deg = index_add(zeros({num_nodes}, {.dtype = w.dtype(), .device = w.device()}), 0, tgt, w);
  const Tensor zero = eq(deg, 0.0);
  // deg^-1/2 with 0 where deg is 0 (computed on 1 there, so no inf reaches the gradient)
  const Tensor dinv = masked_fill(pow(masked_fill(deg, zero, 1.0), -0.5), zero, 0.0);
  w = mul(mul(index_select(dinv, 0, src), w), index_select(dinv, 0, tgt));
  return {ei, w};
}

// ---------------- segment reductions ----------------

Tensor segment_sum(const Tensor& x, const Tensor& batch, int64_t num_segments, const char* op) {
  return seg_sum(make_segments(op, x, batch, num_segments), x);
}

Tensor segment_mean(const Tensor& x, const Tensor& batch, int64_t num_segments, const char* op) {
  const Segments s = make_segments(op, x, batch, num_segments);
  const std::vector<int64_t> sizes = segment_sizes(s);
  std::vector<double> cnt(s.count);
  for (int64_t b = 0; b < s.count; ++b) cnt[b] = static_cast<double>(std::max<int64_t>(sizes[b], 1));
  const Tensor c = reshape(from_vector(cnt, {s.count}, {.dtype = x.dtype(), .device = x.device()}),
                           segment_column(s.count, x));
  return div(seg_sum(s, x), c);
}

std::pair<Tensor, Tensor> segment_max(const Tensor& x, const Tensor& batch, int64_t num_segments, const char* op) {
  return seg_max(make_segments(op, x, batch, num_segments), x);
}

Tensor segment_softmax(const Tensor& x, const Tensor& batch, int64_t num_segments, const char* op) {
  const Segments s = make_segments(op, x, batch, num_segments);
  const Tensor m = seg_max(s, x.detach()).first;
  const Tensor e = exp(sub(x, index_select(m, 0, s.batch)));
  return div(e, index_select(seg_sum(s, e), 0, s.batch));
}

}  // namespace fm
