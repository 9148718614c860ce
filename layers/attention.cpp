#include "layers/attention.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "autograd/attention.h"
#include "autograd/dropout.h"
#include "autograd/elementwise.h"
#include "autograd/linalg.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "layers/init.h"
#include "tensor/factory.h"

namespace fm::nn {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// x [A, B, in] @ w[out, in]^T + b as one 2-D GEMM over the A*B rows (addmm with the bias).
Tensor project(const Tensor& x, const Tensor& w, const Tensor& b) {
  const Tensor y = linear(reshape(x, {-1, x.size(-1)}), w, b);
  return view(y, {x.size(0), x.size(1), w.size(0)});
}

// [A, B, E] (A, B = L, N or N, L with batch_first) -> the per-head view [N, H, L, hd].
Tensor heads(const Tensor& x, int64_t H, bool batch_first) {
  const Tensor v = view(x, {x.size(0), x.size(1), H, x.size(2) / H});
  return batch_first ? permute(v, {0, 2, 1, 3}) : permute(v, {1, 2, 0, 3});
}

// [N, H, L, hd] -> [A, B, E] rows for the output projection (one copy: the heads are interleaved).
Tensor merge_heads(const Tensor& x, bool batch_first) {
  const int64_t N = x.size(0), H = x.size(1), L = x.size(2), hd = x.size(3);
  if (batch_first) return reshape(permute(x, {0, 2, 1, 3}), {N * L, H * hd});
  return reshape(permute(x, {2, 0, 1, 3}), {L * N, H * hd});
}

// Combines two masks (either may be undefined): bool|bool -> or; bool with floating -> -inf
// where the bool is true; floating + floating -> sum. Shapes broadcast.
Tensor combine_masks(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  const bool ab = a.dtype() == DType::Bool, bb = b.dtype() == DType::Bool;
  if (ab && bb) return logical_or(a, b);
  if (ab) return where(a, full({}, -kInf, {.dtype = b.dtype(), .device = b.device()}), b);
  if (bb) return where(b, full({}, -kInf, {.dtype = a.dtype(), .device = a.device()}), a);
  return add(a, b);
}

// A floating mask takes the dtype of the logits (so a float32 mask cannot promote them).
Tensor as_mask(const Tensor& m, DType dtype, const char* op, const char* what) {
  if (!m.defined() || m.dtype() == DType::Bool) return m;
  FM_CHECK(m.is_floating_point(), op, ": ", what, " must be bool or floating, got ", m.describe());
  return m.dtype() == dtype ? m : to(m, dtype);
}

// key_padding_mask [N, S] (or [S] unbatched) -> [N, 1, 1, S]
Tensor padding_mask(const Tensor& kpm, int64_t N, int64_t S, bool batched, DType dtype, const char* op) {
  if (!kpm.defined()) return kpm;
  const Shape want = batched ? Shape{N, S} : Shape{S};
  FM_CHECK(kpm.sizes() == want, op, ": key_padding_mask ", kpm.describe(), " must be ", shape_str(want),
           " (batch, source length)");
  return reshape(as_mask(kpm, dtype, op, "key_padding_mask"), {N, 1, 1, S});
}

struct Layout {
  bool batched;
  int64_t t_dim, b_dim;  // time and batch dims of a batched input
};

Layout layout_of(const Tensor& x, bool batch_first, const char* op, const char* what) {
  FM_CHECK(x.dim() == 2 || x.dim() == 3, op, ": ", what, " must be ",
           batch_first ? "[N, L, E]" : "[L, N, E]", " (or unbatched [L, E]), got ", x.describe());
  return {x.dim() == 3, batch_first ? 1 : 0, batch_first ? 0 : 1};
}

// True when attn_mask is exactly the causal mask [L, S] (bool: true above the diagonal; floating:
// -inf above it, 0 elsewhere), i.e. the fused kernel's causal flag computes the same thing.
bool is_causal_mask(const Tensor& am, int64_t L, int64_t S) {
  if (!am.defined() || am.dim() != 2 || am.size(0) != L || am.size(1) != S) return false;
  NoGradGuard ng;
  const Tensor c = causal_mask(L, S, am.device());
  if (am.dtype() == DType::Bool) return equal(am, c);
  if (!am.is_floating_point()) return false;
  return equal(am, masked_fill(zeros({L, S}, {.dtype = am.dtype(), .device = am.device()}), c, -kInf));
}

}  // namespace

// ------------------------------------------------------------------ MultiheadAttention

MultiheadAttention::MultiheadAttention(int64_t E, int64_t H, MultiheadAttentionOptions o)
    : embed_dim(E), num_heads(H), kdim(o.kdim.value_or(E)), vdim(o.vdim.value_or(E)),
      dropout(o.dropout), batch_first(o.batch_first) {
  FM_CHECK(E > 0 && H > 0, "MultiheadAttention: embed_dim and num_heads must be positive, got ", E, " and ", H);
  FM_CHECK(E % H == 0, "MultiheadAttention: embed_dim ", E, " must be divisible by num_heads ", H);
  FM_CHECK(kdim > 0 && vdim > 0, "MultiheadAttention: kdim and vdim must be positive, got ", kdim, " and ", vdim);
  FM_CHECK(dropout >= 0 && dropout <= 1, "MultiheadAttention: dropout must be in [0, 1], got ", dropout);
  head_dim = E / H;
  const Options opt{.dtype = o.dtype};
  if (same_embed_dim()) {
    in_proj_weight = register_parameter("in_proj_weight", empty({3 * E, E}, opt));
  } else {
    q_proj_weight = register_parameter("q_proj_weight", empty({E, E}, opt));
    k_proj_weight = register_parameter("k_proj_weight", empty({E, kdim}, opt));
    v_proj_weight = register_parameter("v_proj_weight", empty({E, vdim}, opt));
  }
  in_proj_bias = register_parameter("in_proj_bias", o.bias ? empty({3 * E}, opt) : Tensor());
  out_proj = register_module("out_proj", std::make_shared<Linear>(E, E, LinearOptions{.bias = o.bias, .dtype = o.dtype}));
  reset_parameters();
}

void MultiheadAttention::reset_parameters() {
  if (in_proj_weight.defined()) {
    init::xavier_uniform_(in_proj_weight);
  } else {
    init::xavier_uniform_(q_proj_weight);
    init::xavier_uniform_(k_proj_weight);
    init::xavier_uniform_(v_proj_weight);
  }
  if (in_proj_bias.defined()) init::zeros_(in_proj_bias);
  if (out_proj->bias.defined()) init::zeros_(out_proj->bias);
}

AttentionOutput MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                            const MultiheadAttentionCall& call) {
  static constexpr const char* op = "MultiheadAttention";
  const Layout lq = layout_of(query, batch_first, op, "query");
  FM_CHECK(key.dim() == query.dim() && value.dim() == query.dim(), op, ": query ", query.describe(),
           ", key ", key.describe(), " and value ", value.describe(), " must all be batched (3-D) or all unbatched (2-D)");
  FM_CHECK(query.size(-1) == embed_dim, op, ": query ", query.describe(), " has ", query.size(-1),
           " features, expected embed_dim = ", embed_dim);
  FM_CHECK(key.size(-1) == kdim, op, ": key ", key.describe(), " has ", key.size(-1), " features, expected kdim = ", kdim);
  FM_CHECK(value.size(-1) == vdim, op, ": value ", value.describe(), " has ", value.size(-1),
           " features, expected vdim = ", vdim);
  // work on batched tensors: unbatched ones get a batch dim of 1
  auto batched = [&](const Tensor& x) { return lq.batched ? x : unsqueeze(x, lq.b_dim); };
  const Tensor q_in = batched(query), k_in = batched(key), v_in = batched(value);
  const int64_t L = q_in.size(lq.t_dim), N = q_in.size(lq.b_dim), S = k_in.size(lq.t_dim);
  FM_CHECK(k_in.size(lq.b_dim) == N && v_in.size(lq.b_dim) == N, op, ": query ", query.describe(), ", key ",
           key.describe(), " and value ", value.describe(), " have different batch sizes");
  FM_CHECK(v_in.size(lq.t_dim) == S, op, ": key ", key.describe(), " and value ", value.describe(),
           " have different source lengths");

  // ----- input projections
  const int64_t E = embed_dim;
  const Tensor& b = in_proj_bias;
  auto bias_part = [&](int64_t i) { return b.defined() ? narrow(b, 0, i * E, E) : Tensor(); };
  Tensor q, k, v;
  if (same_embed_dim() && query.is_same(key) && key.is_same(value)) {
    auto qkv = chunk(project(q_in, in_proj_weight, b), 3, -1);
    q = qkv[0], k = qkv[1], v = qkv[2];
  } else if (same_embed_dim()) {
    q = project(q_in, narrow(in_proj_weight, 0, 0, E), bias_part(0));
    if (key.is_same(value)) {
      auto kv = chunk(project(k_in, narrow(in_proj_weight, 0, E, 2 * E), b.defined() ? narrow(b, 0, E, 2 * E) : Tensor()), 2, -1);
      k = kv[0], v = kv[1];
    } else {
      k = project(k_in, narrow(in_proj_weight, 0, E, E), bias_part(1));
      v = project(v_in, narrow(in_proj_weight, 0, 2 * E, E), bias_part(2));
    }
  } else {
    q = project(q_in, q_proj_weight, bias_part(0));
    k = project(k_in, k_proj_weight, bias_part(1));
    v = project(v_in, v_proj_weight, bias_part(2));
  }

  // ----- the fused kernel (kernels/attention.h) when the weights are not needed, no dropout
  // applies, and the masks are at most a causal attn_mask and a bool key_padding_mask: the same
  // result without the [N, H, L, S] weights in memory
  // A mask is recognised as causal by value only on the CPU (on a device the comparison would
  // wait for it); a learnable mask needs the composed path's gradient.
  const Tensor& am0 = call.attn_mask;
  const bool causal = call.is_causal || (am0.defined() && am0.device().is_cpu() && !am0.requires_grad() &&
                                         is_causal_mask(am0, L, S));
  const bool fused_ok = !call.need_weights && (dropout == 0 || !is_training()) &&
                        (!call.key_padding_mask.defined() || call.key_padding_mask.dtype() == DType::Bool) &&
                        (!am0.defined() || causal);
  if (fused_ok) {
    Tensor kpm = call.key_padding_mask;
    if (kpm.defined()) {
      const Shape want = lq.batched ? Shape{N, S} : Shape{S};
      FM_CHECK(kpm.sizes() == want, op, ": key_padding_mask ", kpm.describe(), " must be ", shape_str(want),
               " (batch, source length)");
      kpm = reshape(kpm, {N, 1, S});
    }
    const Tensor o = scaled_dot_product_attention(
        heads(q, num_heads, batch_first), heads(k, num_heads, batch_first), heads(v, num_heads, batch_first),
        {.causal = causal, .key_padding_mask = kpm});
    Tensor out = view(linear(merge_heads(o, batch_first), out_proj->weight, out_proj->bias),
                      batch_first ? Shape{N, L, E} : Shape{L, N, E});
    if (!lq.batched) out = squeeze(out, lq.b_dim);
    return {out, Tensor()};
  }

  // ----- masks -> one mask broadcastable to [N, H, L, S]
  const DType dt = q.dtype();
  Tensor am = as_mask(call.is_causal && !am0.defined() ? causal_mask(L, S, q.device()) : am0, dt, op, "attn_mask");
  if (am.defined()) {
    if (am.dim() == 2) {
      FM_CHECK(am.sizes() == (Shape{L, S}), op, ": 2-D attn_mask ", call.attn_mask.describe(), " must be [",
               L, ", ", S, "] (target length, source length)");
    } else {
      FM_CHECK(am.dim() == 3 && am.sizes() == (Shape{N * num_heads, L, S}), op, ": attn_mask ",
               call.attn_mask.describe(), " must be [", L, ", ", S, "] or [", N * num_heads, ", ", L, ", ", S,
               "] (batch * num_heads, target length, source length)");
      am = reshape(am, {N, num_heads, L, S});
    }
  }
  const Tensor mask = combine_masks(am, padding_mask(call.key_padding_mask, N, S, lq.batched, dt, op));

  // ----- attention over [N, H, *, hd] views of the projections
  auto [o, w] = dot_product_attention(heads(q, num_heads, batch_first), heads(k, num_heads, batch_first),
                                      heads(v, num_heads, batch_first),
                                      {.mask = mask, .dropout = dropout, .training = is_training()});
  Tensor out = view(linear(merge_heads(o, batch_first), out_proj->weight, out_proj->bias),
                    batch_first ? Shape{N, L, E} : Shape{L, N, E});
  if (!lq.batched) out = squeeze(out, lq.b_dim);

  AttentionOutput r{out, Tensor()};
  if (call.need_weights) {
    r.weights = call.average_attn_weights ? mean(w, {1}) : w;  // [N, L, S] or [N, H, L, S]
    if (!lq.batched) r.weights = squeeze(r.weights, 0);
  }
  return r;
}

AttentionOutput MultiheadAttention::operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                                               const MultiheadAttentionCall& call) {
  AttentionOutput r = forward(query, key, value, call);
  r.output = run_forward_hooks(r.output);
  return r;
}

// ------------------------------------------------------------------ RelativeMultiheadAttention

RelativeMultiheadAttention::RelativeMultiheadAttention(int64_t E, int64_t H, int64_t max_len,
                                                       RelativeMultiheadAttentionOptions o)
    : embed_dim(E), num_heads(H), max_len(max_len), dropout(o.dropout), causal(o.causal),
      batch_first(o.batch_first), share_heads(o.share_heads), skew(o.skew) {
  FM_CHECK(E > 0 && H > 0, "RelativeMultiheadAttention: d_model and num_heads must be positive, got ", E, " and ", H);
  FM_CHECK(E % H == 0, "RelativeMultiheadAttention: d_model ", E, " must be divisible by num_heads ", H);
  FM_CHECK(max_len > 0, "RelativeMultiheadAttention: max_len must be positive, got ", max_len);
  FM_CHECK(dropout >= 0 && dropout <= 1, "RelativeMultiheadAttention: dropout must be in [0, 1], got ", dropout);
  head_dim = E / H;
  const Options opt{.dtype = o.dtype};
  in_proj_weight = register_parameter("in_proj_weight", empty({3 * E, E}, opt));
  in_proj_bias = register_parameter("in_proj_bias", o.bias ? empty({3 * E}, opt) : Tensor());
  const int64_t R = causal ? max_len : 2 * max_len - 1;
  relative_embedding = register_parameter(
      "relative_embedding", empty(share_heads ? Shape{R, head_dim} : Shape{H, R, head_dim}, opt));
  out_proj = register_module("out_proj", std::make_shared<Linear>(E, E, LinearOptions{.bias = o.bias, .dtype = o.dtype}));
  reset_parameters();
}

void RelativeMultiheadAttention::reset_parameters() {
  init::xavier_uniform_(in_proj_weight);
  if (in_proj_bias.defined()) init::zeros_(in_proj_bias);
  if (out_proj->bias.defined()) init::zeros_(out_proj->bias);
  init::normal_(relative_embedding);
}

std::string RelativeMultiheadAttention::extra_repr() const {
  std::ostringstream os;
  os << "d_model=" << embed_dim << ", num_heads=" << num_heads << ", max_len=" << max_len
     << ", causal=" << (causal ? "True" : "False") << ", dropout=" << dropout;
  return os.str();
}

Tensor RelativeMultiheadAttention::relative_embeddings_for(int64_t L) const {
  FM_CHECK(L >= 1 && L <= max_len, "RelativeMultiheadAttention: sequence length ", L,
           " is outside 1 .. max_len = ", max_len, " (the relative embeddings cover distances up to ",
           max_len - 1, ")");
  return narrow(relative_embedding, -2, max_len - L, causal ? L : 2 * L - 1);
}

AttentionOutput RelativeMultiheadAttention::forward(const Tensor& x, const RelativeAttentionCall& call) {
  static constexpr const char* op = "RelativeMultiheadAttention";
  const Layout lx = layout_of(x, batch_first, op, "input");
  FM_CHECK(x.size(-1) == embed_dim, op, ": input ", x.describe(), " has ", x.size(-1),
           " features, expected d_model = ", embed_dim);
  const Tensor xb = lx.batched ? x : unsqueeze(x, lx.b_dim);
  const int64_t L = xb.size(lx.t_dim), N = xb.size(lx.b_dim), H = num_heads;
  Tensor rel = relative_embeddings_for(L);  // [R, hd] or [H, R, hd]

  auto qkv = chunk(project(xb, in_proj_weight, in_proj_bias), 3, -1);
  const Tensor q = heads(qkv[0], H, batch_first), k = heads(qkv[1], H, batch_first),
               v = heads(qkv[2], H, batch_first);
  if (rel.dim() == 3) rel = expand(unsqueeze(rel, 0), {N, H, rel.size(1), head_dim});
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  // S_rel, scaled like Q K^T, enters as an additive mask: logits = scale * (Q K^T + S_rel)
  const Tensor s_rel = skew ? relative_logits(q, rel, causal, scale) : relative_logits_naive(q, rel, causal, scale);
  Tensor bool_mask = causal ? causal_mask(L, L, x.device()) : Tensor();
  Tensor mask = combine_masks(combine_masks(bool_mask, padding_mask(call.key_padding_mask, N, L, lx.batched,
                                                                    q.dtype(), op)),
                              s_rel);
  auto [o, w] = dot_product_attention(q, k, v, {.mask = mask, .dropout = dropout, .training = is_training()});
  Tensor out = view(linear(merge_heads(o, batch_first), out_proj->weight, out_proj->bias),
                    batch_first ? Shape{N, L, embed_dim} : Shape{L, N, embed_dim});
  if (!lx.batched) out = squeeze(out, lx.b_dim);
  AttentionOutput r{out, Tensor()};
  if (call.need_weights) {
    r.weights = call.average_attn_weights ? mean(w, {1}) : w;
    if (!lx.batched) r.weights = squeeze(r.weights, 0);
  }
  return r;
}

AttentionOutput RelativeMultiheadAttention::operator()(const Tensor& x, const RelativeAttentionCall& call) {
  AttentionOutput r = forward(x, call);
  r.output = run_forward_hooks(r.output);
  return r;
}

// ------------------------------------------------------------------ PositionalEncoding

PositionalEncoding::PositionalEncoding(int64_t d, int64_t max_len, PositionalEncodingOptions o)
    : d_model(d), max_len(max_len), dropout(o.dropout), batch_first(o.batch_first) {
  FM_CHECK(d > 0 && max_len > 0, "PositionalEncoding: d_model and max_len must be positive, got ", d, " and ", max_len);
  FM_CHECK(dropout >= 0 && dropout <= 1, "PositionalEncoding: dropout must be in [0, 1], got ", dropout);
  std::vector<double> table(static_cast<size_t>(max_len * d));
  const double k = -std::log(10000.0) / static_cast<double>(d);
  for (int64_t pos = 0; pos < max_len; ++pos)
    for (int64_t i = 0; i < d; i += 2) {
      const double a = static_cast<double>(pos) * std::exp(static_cast<double>(i) * k);
      table[static_cast<size_t>(pos * d + i)] = std::sin(a);
      if (i + 1 < d) table[static_cast<size_t>(pos * d + i + 1)] = std::cos(a);
    }
  const Shape shape = batch_first ? Shape{1, max_len, d} : Shape{max_len, 1, d};
  Tensor t = from_vector(table, shape);
  if (o.dtype != DType::Float64) t = fm::to(t, o.dtype);
  pe = register_buffer("pe", t);
}

Tensor PositionalEncoding::table() const { return reshape(pe, {max_len, d_model}); }

Tensor PositionalEncoding::forward(const Tensor& x) {
  FM_CHECK((x.dim() == 2 || x.dim() == 3) && x.size(-1) == d_model, "PositionalEncoding: input ",
           x.describe(), " must be ", batch_first ? "[N, L, " : "[L, N, ", d_model, "] (or [L, ", d_model,
           "] unbatched)");
  const int64_t L = x.size(x.dim() == 3 && batch_first ? 1 : 0);
  FM_CHECK(L <= max_len, "PositionalEncoding: input ", x.describe(), " has length ", L,
           ", more than max_len = ", max_len);
  Tensor p;
  if (x.dim() == 2) p = narrow(table(), 0, 0, L);
  else p = batch_first ? narrow(pe, 1, 0, L) : narrow(pe, 0, 0, L);
  return fm::dropout(add(x, p), dropout, is_training());
}

std::string PositionalEncoding::extra_repr() const {
  std::ostringstream os;
  os << "d_model=" << d_model << ", max_len=" << max_len << ", dropout=" << dropout;
  return os.str();
}

}  // namespace fm::nn
