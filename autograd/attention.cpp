#include "autograd/attention.h"

#include <cmath>
#include <limits>

#include "autograd/dropout.h"
#include "autograd/elementwise.h"
#include "autograd/index.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/shape.h"
#include "autograd/softmax.h"
#include "autograd/views.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/linalg.h"
#include "tensor/factory.h"

namespace fm {

using autograd::record;
using autograd::save;
using autograd::SavedTensor;
using autograd::tensor_list;

namespace {

Shape batch_dims(const Tensor& x) { return Shape(x.sizes().begin(), x.sizes().end() - 2); }

Shape with_matrix(Shape batch, int64_t r, int64_t c) {
  batch.push_back(r);
  batch.push_back(c);
  return batch;
}

}  // namespace

namespace {

void check_batched(const Tensor& a, const Tensor& b, const char* op) {
  FM_CHECK(a.dim() >= 2 && b.dim() == a.dim(), op, ": expected two tensors [..., m, k] and [..., k, n] with the "
           "same number of dims (at least 2), got ", a.describe(), " and ", b.describe());
  FM_CHECK(batch_dims(b) == batch_dims(a), op, ": batch dims differ: ", a.describe(), " and ", b.describe());
  FM_CHECK(b.size(-2) == a.size(-1), op, ": shapes ", shape_str(a.sizes()), " and ", shape_str(b.sizes()),
           " cannot be multiplied (", a.size(-1), " != ", b.size(-2), ")");
  FM_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", a.describe(), " and ", b.describe());
}

// y[i] = alpha * a[i] @ b[i] + beta * y[i] for every batch index i; y contiguous.
void gemm_per_batch(const Tensor& y, const Tensor& a, const Tensor& b, double alpha, double beta) {
  const Shape batch = batch_dims(a);
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const int64_t nb = shape_numel(batch), nd = static_cast<int64_t>(batch.size());
  if (y.numel() == 0) return;
  Shape idx(nd, 0);
  int64_t oa = a.storage_offset(), ob = b.storage_offset();
  for (int64_t i = 0; i < nb; ++i) {
    const Tensor am = make_view(a, {m, k}, {a.stride(-2), a.stride(-1)}, oa);
    const Tensor bm = make_view(b, {k, n}, {b.stride(-2), b.stride(-1)}, ob);
    const Tensor ym = make_view(y, {m, n}, {n, 1}, y.storage_offset() + i * m * n);
    kernels::mm_into(ym, am, bm, alpha, beta);
    // next batch index (row-major), updating the operands' offsets incrementally
    for (int64_t d = nd - 1; d >= 0; --d) {
      oa += a.stride(d), ob += b.stride(d);
      if (++idx[d] < batch[d]) break;
      oa -= a.stride(d) * batch[d], ob -= b.stride(d) * batch[d];
      idx[d] = 0;
    }
  }
}

void record_batched(const char* name, const Tensor& bias, const Tensor& a, const Tensor& b, const Tensor& y,
                    double alpha) {
  if (!autograd::any_requires_grad({bias, a, b})) return;
  const bool gc = bias.requires_grad(), ga = a.requires_grad(), gb = b.requires_grad();
  record(name, {bias, a, b}, {y},
         [sa = gb ? save(a) : SavedTensor(), sb = ga ? save(b) : SavedTensor(), gc, ga, gb, alpha,
          bs = bias.sizes()](const tensor_list& g) {
           return tensor_list{gc ? sum_to(g[0], bs) : Tensor(),
                              ga ? batched_matmul(g[0], transpose(sb.unpack(), -1, -2), alpha) : Tensor(),
                              gb ? batched_matmul(transpose(sa.unpack(), -1, -2), g[0], alpha) : Tensor()};
         });
}

}  // namespace

Tensor batched_matmul(const Tensor& a, const Tensor& b, double alpha) {
  check_batched(a, b, "batched_matmul");
  Tensor y = empty(with_matrix(batch_dims(a), a.size(-2), b.size(-1)), {.dtype = a.dtype(), .device = a.device()});
  gemm_per_batch(y, a, b, alpha, 0);
  if (autograd::any_requires_grad({a, b})) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record("BatchedMatmulBackward", {a, b}, {y},
           [sa = gb ? save(a) : SavedTensor(), sb = ga ? save(b) : SavedTensor(), ga, gb, alpha](const tensor_list& g) {
             return tensor_list{ga ? batched_matmul(g[0], transpose(sb.unpack(), -1, -2), alpha) : Tensor(),
                                gb ? batched_matmul(transpose(sa.unpack(), -1, -2), g[0], alpha) : Tensor()};
           });
  }
  return y;
}

Tensor batched_addmm(const Tensor& bias, const Tensor& a, const Tensor& b, double alpha) {
  check_batched(a, b, "batched_addmm");
  const Shape out = with_matrix(batch_dims(a), a.size(-2), b.size(-1));
  FM_CHECK(kernels::broadcast_shapes(bias.sizes(), out, "batched_addmm") == out, "batched_addmm: bias ",
           bias.describe(), " does not broadcast to the product's shape ", shape_str(out));
  FM_CHECK(bias.dtype() == a.dtype(), "batched_addmm: bias ", bias.describe(), " and the matrices ", a.describe(),
           " have different dtypes");
  Tensor y = empty(out, {.dtype = a.dtype(), .device = a.device()});
  {
    NoGradGuard ng;
    copy_into(y, expand(bias.detach(), out));  // the GEMMs then accumulate onto it (beta = 1)
  }
  gemm_per_batch(y, a, b, alpha, 1);
  record_batched("BatchedAddmmBackward", bias, a, b, y, alpha);
  return y;
}

std::pair<Tensor, Tensor> dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                                const DotProductAttentionOptions& o) {
  FM_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(), "dot_product_attention: expected "
           "query [..., L, E], key [..., S, E] and value [..., S, Ev] with the same number of dims, got ",
           q.describe(), ", ", k.describe(), " and ", v.describe());
  FM_CHECK(batch_dims(k) == batch_dims(q) && batch_dims(v) == batch_dims(q), "dot_product_attention: batch "
           "dims differ: query ", q.describe(), ", key ", k.describe(), ", value ", v.describe());
  FM_CHECK(k.size(-1) == q.size(-1), "dot_product_attention: query ", q.describe(), " and key ",
           k.describe(), " have different feature sizes");
  FM_CHECK(k.size(-2) == v.size(-2), "dot_product_attention: key ", k.describe(), " and value ",
           v.describe(), " have different lengths");
  FM_CHECK(o.dropout >= 0 && o.dropout <= 1, "dot_product_attention: dropout must be in [0, 1], got ", o.dropout);
  const double scale = o.scale.value_or(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  const Tensor kt = transpose(k, -1, -2);
  Tensor logits;
  if (o.mask.defined()) {
    const Shape want = with_matrix(batch_dims(q), q.size(-2), k.size(-2));
    const Shape s = kernels::broadcast_shapes(want, o.mask.sizes(), "dot_product_attention");
    FM_CHECK(s == want, "dot_product_attention: mask ", o.mask.describe(),
             " does not broadcast to the attention logits ", shape_str(want));
    if (o.mask.dtype() == DType::Bool) {
      logits = masked_fill(batched_matmul(q, kt, scale), o.mask, -std::numeric_limits<double>::infinity());
    } else {
      FM_CHECK(o.mask.is_floating_point(), "dot_product_attention: mask must be bool or floating, got ",
               o.mask.describe());
      // the additive mask is the GEMM's starting value (as baddbmm): no extra pass
      logits = batched_addmm(o.mask.dtype() == q.dtype() ? o.mask : to(o.mask, q.dtype()), q, kt, scale);
    }
  } else {
    logits = batched_matmul(q, kt, scale);
  }
  Tensor w = softmax(logits, -1);
  if (o.dropout > 0 && o.training) w = dropout(w, o.dropout, true, o.gen);
  return {batched_matmul(w, v), w};
}

namespace {

// The gradient of softmax(scale q k^T + mask) v at g, from differentiable ops (create_graph).
tensor_list composed_attention_grads(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                     double scale, bool causal, const Tensor& kpm) {
  const int64_t B = q.size(0), L = q.size(1), S = k.size(1);
  Tensor mask;
  if (causal) mask = causal_mask(L, S, q.device());
  if (kpm.defined()) {
    const Tensor km = reshape(kpm, {B, 1, S});
    mask = mask.defined() ? logical_or(mask, km) : km;
  }
  Tensor logits = batched_matmul(q, transpose(k, -1, -2), scale);
  if (mask.defined()) logits = masked_fill(logits, mask, -std::numeric_limits<double>::infinity());
  // a query whose keys are all masked has a NaN row here; the fused backward gives it (and the
  // keys it cannot see) zero gradient, and so must this path, or create_graph would change results
  Tensor p = softmax(logits, -1);
  p = masked_fill(p, ne(p, p), 0.0);
  const Tensor dv = batched_matmul(transpose(p, -1, -2), g);
  const Tensor dp = batched_matmul(g, transpose(v, -1, -2));
  const Tensor ds = mul(p, sub(dp, sum(mul(dp, p), {-1}, true)));
  return {batched_matmul(ds, k, scale), batched_matmul(transpose(ds, -1, -2), q, scale), dv};
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const ScaledDotProductAttentionOptions& o) {
  static constexpr const char* op = "scaled_dot_product_attention";
  FM_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(), op, ": expected query [..., L, E], key "
           "[..., S, E] and value [..., S, Ev] with the same number of dims, got ", q.describe(), ", ",
           k.describe(), " and ", v.describe());
  FM_CHECK(batch_dims(k) == batch_dims(q) && batch_dims(v) == batch_dims(q), op, ": batch dims differ: query ",
           q.describe(), ", key ", k.describe(), ", value ", v.describe());
  const Shape batch = batch_dims(q);
  const int64_t B = shape_numel(batch), L = q.size(-2), S = k.size(-2), E = q.size(-1), Ev = v.size(-1);
  const double scale = o.scale.value_or(1.0 / std::sqrt(static_cast<double>(E)));
  Tensor kpm;
  if (o.key_padding_mask.defined()) {
    FM_CHECK(o.key_padding_mask.dtype() == DType::Bool, op, ": key_padding_mask must be bool (true = ignored), got ",
             o.key_padding_mask.describe());
    Shape want = batch;
    want.push_back(S);
    FM_CHECK(kernels::broadcast_shapes(want, o.key_padding_mask.sizes(), op) == want, op, ": key_padding_mask ",
             o.key_padding_mask.describe(), " does not broadcast to ", shape_str(want));
    NoGradGuard ng;
    kpm = reshape(contiguous(expand(o.key_padding_mask, want)), {B, S});
  }
  const Tensor q3 = reshape(q, {B, L, E}), k3 = reshape(k, {B, S, E}), v3 = reshape(v, {B, S, Ev});
  auto [out, lse] = kernels::flash_attention_forward(q3, k3, v3, scale, o.causal, kpm);
  if (autograd::any_requires_grad({q3, k3, v3})) {
    record("ScaledDotProductAttentionBackward", {q3, k3, v3}, {out},
           [sq = save(q3), sk = save(k3), sv = save(v3), so = autograd::save_output(out, 0), lse, scale, causal = o.causal,
            kpm](const tensor_list& g) {
             if (autograd::grad_enabled())
               return composed_attention_grads(sq.unpack(), sk.unpack(), sv.unpack(), g[0], scale, causal, kpm);
             auto [dq, dk, dv] = kernels::flash_attention_backward(sq.unpack(), sk.unpack(), sv.unpack(),
                                                                   so.unpack().detach(), lse, g[0].detach(), scale,
                                                                   causal, kpm);
             return tensor_list{dq, dk, dv};
           });
  }
  Shape os = batch;
  os.insert(os.end(), {L, Ev});
  return reshape(out, os);
}

namespace {

void check_relative(const Tensor& q, const Tensor& rel, bool causal, const char* op) {
  FM_CHECK(q.dim() >= 2, op, ": queries must be [..., L, D], got ", q.describe());
  const int64_t L = q.size(-2), D = q.size(-1), R = causal ? L : 2 * L - 1;
  FM_CHECK(rel.dim() == 2 || (rel.dim() == q.dim() && batch_dims(rel) == batch_dims(q)), op,
           ": relative embeddings must be [R, D] or have the batch dims of the queries ", q.describe(),
           ", got ", rel.describe());
  FM_CHECK(rel.size(-2) == R && rel.size(-1) == D, op, ": queries ", q.describe(), " need ",
           causal ? "causal" : "bidirectional", " relative embeddings [..., ", R, ", ", D, "] (distances ",
           -(L - 1), " .. ", causal ? 0 : L - 1, "), got ", rel.describe());
}

}  // namespace

Tensor relative_logits(const Tensor& q, const Tensor& rel, bool causal, double alpha) {
  check_relative(q, rel, causal, "relative_logits");
  const int64_t L = q.size(-2), D = q.size(-1), R = causal ? L : 2 * L - 1;
  const Shape batch = batch_dims(q);
  Tensor relT = transpose(rel, -1, -2);                                  // [.., D, R]
  if (rel.dim() != q.dim()) relT = expand(relT, with_matrix(batch, D, R));  // shared: stride 0
  const Tensor qe = batched_matmul(q, relT, alpha);                       // [..., L, R]
  const Tensor padded = pad(qe, {1, 0});                                  // [..., L, R + 1]
  if (causal) {
    // [L, L+1] -> [L+1, L], drop the first row
    return slice(view(padded, with_matrix(batch, L + 1, L)), -2, 1, L + 1);
  }
  // [L, 2L] -> [2L, L], drop the first row -> [2L-1, L] -> [L, 2L-1], first L columns
  const Tensor rows = slice(view(padded, with_matrix(batch, 2 * L, L)), -2, 1, 2 * L);
  return slice(reshape(rows, with_matrix(batch, L, 2 * L - 1)), -1, 0, L);
}

Tensor relative_logits_naive(const Tensor& q, const Tensor& rel, bool causal, double alpha) {
  check_relative(q, rel, causal, "relative_logits_naive");
  const int64_t L = q.size(-2), D = q.size(-1);
  std::vector<int64_t> idx(static_cast<size_t>(L * L));
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) {
      const int64_t dist = causal ? std::min<int64_t>(j - i, 0) : j - i;
      idx[static_cast<size_t>(i * L + j)] = (L - 1) + dist;
    }
  const Tensor index = from_vector(idx, {L * L}, {.dtype = DType::Int64, .device = q.device()});
  const Tensor g = index_select(rel, rel.dim() - 2, index);  // [..., L*L, D]
  Shape gs = batch_dims(rel);
  gs.insert(gs.end(), {L, L, D});
  const Tensor e = view(g, gs);                               // [..., L, L, D]: O(L^2 D)
  const Tensor s = sum(mul(unsqueeze(q, -2), e), {-1});       // [..., L, L]
  return alpha == 1 ? s : mul(s, alpha);
}

Tensor causal_mask(int64_t L, int64_t S, Device device) {
  if (S < 0) S = L;
  FM_CHECK(L >= 0, "causal_mask: negative length ", L);
  const Tensor i = reshape(arange(L, {.dtype = DType::Int64, .device = device}), {L, 1});
  const Tensor j = reshape(arange(S, {.dtype = DType::Int64, .device = device}), {1, S});
  return gt(j, i);
}

}  // namespace fm
