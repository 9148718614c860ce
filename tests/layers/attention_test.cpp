// nn::MultiheadAttention, nn::RelativeMultiheadAttention, nn::PositionalEncoding,
// nn::TransformerEncoderLayer / TransformerEncoder and the functional pieces of
// autograd/attention.h: shapes, parameter names, masks, layouts, errors, and the proof that
// Music Transformer's skewing computes the same logits (and gradients) as the naive gather.
#include <cmath>
#include <limits>

#include "autograd/attention.h"
#include "layers/attention.h"
#include "layers/transformer.h"
#include "support/test_support.h"

using namespace fm;
using namespace fm::nn;
using fm::autograd::tensor_list;

namespace {

Tensor randu(const Shape& s, uint64_t seed, DType dt = kFloat32) {
  Generator g(seed);
  NoGradGuard ng;
  return add(mul(rand(s, {.dtype = dt}, &g), 2.0), -1.0);
}

std::vector<std::string> keys_of(const Module& m) {
  std::vector<std::string> k;
  for (const auto& [name, t] : m.state_dict()) k.push_back(name);
  return k;
}

std::vector<std::string> param_names(const Module& m) {
  std::vector<std::string> k;
  for (const auto& [name, t] : m.named_parameters()) k.push_back(name);
  return k;
}

// The gradients of `params` after backward of sum(outs[k] * g_k) with fixed random g_k.
tensor_list grads_of(const tensor_list& outs, const tensor_list& params, uint64_t seed) {
  tensor_list gs;
  for (size_t k = 0; k < outs.size(); ++k) gs.push_back(randu(outs[k].sizes(), seed + k, outs[k].dtype()));
  return autograd::grad(outs, params, gs);
}

}  // namespace

// ============================================================== MultiheadAttention

TEST(MultiheadAttention, ParameterNamesAndShapesArePyTorchs) {
  MultiheadAttention m(8, 2);
  EXPECT_EQ(keys_of(m), (std::vector<std::string>{"in_proj_bias", "in_proj_weight", "out_proj.bias", "out_proj.weight"}));
  EXPECT_EQ(param_names(m), (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}));
  EXPECT_EQ(m.in_proj_weight.sizes(), (Shape{24, 8}));
  EXPECT_EQ(m.in_proj_bias.sizes(), (Shape{24}));
  EXPECT_EQ(m.out_proj->weight.sizes(), (Shape{8, 8}));
  EXPECT_EQ(m.head_dim, 4);

  MultiheadAttention kv(8, 4, {.bias = false, .kdim = 5, .vdim = 3});
  EXPECT_EQ(keys_of(kv), (std::vector<std::string>{"k_proj_weight", "out_proj.weight", "q_proj_weight", "v_proj_weight"}));
  EXPECT_EQ(kv.k_proj_weight.sizes(), (Shape{8, 5}));
  EXPECT_EQ(kv.v_proj_weight.sizes(), (Shape{8, 3}));
  EXPECT_FALSE(kv.in_proj_weight.defined());
}

TEST(MultiheadAttention, InitialisationIsPyTorchs) {
  MultiheadAttention m(16, 4);
  // xavier_uniform_ on [3E, E]: bound sqrt(6 / (E + 3E))
  const double bound = std::sqrt(6.0 / (16 + 48));
  EXPECT_LE(max(abs(m.in_proj_weight)).item(), bound);
  EXPECT_GT(max(abs(m.in_proj_weight)).item(), 0.8 * bound);
  EXPECT_EQ(max(abs(m.in_proj_bias)).item(), 0.0);
  EXPECT_EQ(max(abs(m.out_proj->bias)).item(), 0.0);
  // out_proj.weight keeps Linear's default U(-1/sqrt(E), 1/sqrt(E))
  EXPECT_LE(max(abs(m.out_proj->weight)).item(), 1.0 / 4 + 1e-7);
}

TEST(MultiheadAttention, OutputAndWeightShapes) {
  const int64_t E = 8, H = 2, L = 5, S = 6, N = 3;
  MultiheadAttention m(E, H);
  Tensor q = randu({L, N, E}, 1), k = randu({S, N, E}, 2), v = randu({S, N, E}, 3);
  auto r = m(q, k, v);
  EXPECT_EQ(r.output.sizes(), (Shape{L, N, E}));
  EXPECT_EQ(r.weights.sizes(), (Shape{N, L, S}));
  EXPECT_CLOSE(sum(r.weights, {-1}), ones({N, L}), 1e-5, 1e-6);  // each row is a distribution
  auto per_head = m(q, k, v, {.average_attn_weights = false});
  EXPECT_EQ(per_head.weights.sizes(), (Shape{N, H, L, S}));
  EXPECT_CLOSE(mean(per_head.weights, {1}), r.weights);
  auto no_w = m(q, k, v, {.need_weights = false});
  EXPECT_FALSE(no_w.weights.defined());
  EXPECT_CLOSE(no_w.output, r.output);
}

TEST(MultiheadAttention, BatchFirstIsTheTransposedLayout) {
  const int64_t E = 8, H = 2, L = 4, S = 5, N = 2;
  MultiheadAttention a(E, H), b(E, H, {.batch_first = true});
  b.load_state_dict(a.state_dict());
  Tensor q = randu({L, N, E}, 1), k = randu({S, N, E}, 2), v = randu({S, N, E}, 3);
  auto ra = a(q, k, v);
  auto rb = b(contiguous(transpose(q, 0, 1)), contiguous(transpose(k, 0, 1)), contiguous(transpose(v, 0, 1)));
  EXPECT_EQ(rb.output.sizes(), (Shape{N, L, E}));
  EXPECT_CLOSE(transpose(rb.output, 0, 1), ra.output, 1e-5, 1e-6);
  EXPECT_CLOSE(rb.weights, ra.weights, 1e-5, 1e-6);
}

TEST(MultiheadAttention, UnbatchedEqualsBatchOfOne) {
  const int64_t E = 6, H = 3, L = 4, S = 3;
  for (bool bf : {false, true}) {
    MultiheadAttention m(E, H, {.batch_first = bf});
    Tensor q = randu({L, E}, 1), k = randu({S, E}, 2), v = randu({S, E}, 3);
    Tensor kpm = ne(from_vector(std::vector<int64_t>{0, 1, 0}, {S}), 0.0);
    auto r = m(q, k, v, {.key_padding_mask = kpm});
    const int64_t bd = bf ? 0 : 1;
    auto rb = m(unsqueeze(q, bd), unsqueeze(k, bd), unsqueeze(v, bd), {.key_padding_mask = unsqueeze(kpm, 0)});
    EXPECT_EQ(r.output.sizes(), (Shape{L, E}));
    EXPECT_EQ(r.weights.sizes(), (Shape{L, S}));
    EXPECT_CLOSE(r.output, squeeze(rb.output, bd));
    EXPECT_CLOSE(r.weights, squeeze(rb.weights, 0));
  }
}

TEST(MultiheadAttention, PackedSelfAttentionPathEqualsSeparateProjections) {
  const int64_t E = 8, H = 2, L = 5, N = 2;
  MultiheadAttention m(E, H);
  Tensor x = randu({L, N, E}, 4);
  auto packed = m(x, x, x);                          // one [3E, E] GEMM
  auto kv = m(x, clone(x), clone(x));                // q, then k and v separately
  Tensor x2 = clone(x);
  auto kv_same = m(x, x2, x2);                       // q, then one GEMM for k and v
  EXPECT_CLOSE(packed.output, kv.output, 1e-5, 1e-6);
  EXPECT_CLOSE(packed.output, kv_same.output, 1e-5, 1e-6);
  EXPECT_CLOSE(packed.weights, kv.weights, 1e-5, 1e-6);
}

TEST(MultiheadAttention, MaskedKeyGetsZeroWeightAndDoesNotMatter) {
  const int64_t E = 8, H = 2, L = 4, S = 5, N = 2;
  MultiheadAttention m(E, H);
  Tensor q = randu({L, N, E}, 1), k = randu({S, N, E}, 2), v = randu({S, N, E}, 3);
  // batch 0 ignores key 1, batch 1 ignores keys 3 and 4
  Tensor kpm = ne(from_vector(std::vector<int64_t>{0, 1, 0, 0, 0, 0, 0, 0, 1, 1}, {N, S}), 0.0);
  auto r = m(q, k, v, {.key_padding_mask = kpm, .average_attn_weights = false});
  const auto w = r.weights.to_vector<double>();  // [N, H, L, S]
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t l = 0; l < L; ++l) {
        double row = 0;
        for (int64_t s = 0; s < S; ++s) {
          const double x = w[static_cast<size_t>(((n * H + h) * L + l) * S + s)];
          const bool masked = (n == 0 && s == 1) || (n == 1 && s >= 3);
          if (masked) EXPECT_EQ(x, 0.0) << n << h << l << s;
          else EXPECT_GT(x, 0.0);
          row += x;
        }
        EXPECT_NEAR(row, 1.0, 1e-6);
      }
  // changing a masked key or value changes nothing
  Tensor k2 = clone(k), v2 = clone(v);
  {
    NoGradGuard ng;
    Tensor ks = select(select(k2, 0, 1), 0, 0), vs = select(select(v2, 0, 4), 0, 1);
    fill_(ks, 7.0);
    fill_(vs, -3.0);
  }
  auto r2 = m(q, k2, v2, {.key_padding_mask = kpm});
  EXPECT_CLOSE(r2.output, r.output, 1e-6, 1e-6);
}

TEST(MultiheadAttention, KeyPaddingMaskEqualsTheEquivalentAttnMask) {
  const int64_t E = 8, H = 2, L = 4, S = 5, N = 2;
  MultiheadAttention m(E, H);
  Tensor q = randu({L, N, E}, 1), k = randu({S, N, E}, 2), v = randu({S, N, E}, 3);
  Tensor kpm = ne(from_vector(std::vector<int64_t>{0, 1, 0, 0, 1, 1, 0, 0, 0, 0}, {N, S}), 0.0);
  auto a = m(q, k, v, {.key_padding_mask = kpm});
  // the same as an [N*H, L, S] attn_mask
  Tensor am = reshape(expand(reshape(kpm, {N, 1, 1, S}), {N, H, L, S}), {N * H, L, S});
  auto b = m(q, k, v, {.attn_mask = am});
  EXPECT_CLOSE(a.output, b.output, 1e-6, 1e-7);
  EXPECT_CLOSE(a.weights, b.weights, 1e-6, 1e-7);
  // and as float masks (-inf where masked)
  Tensor fk = masked_fill(zeros({N, S}), kpm, -INFINITY);
  auto c = m(q, k, v, {.key_padding_mask = fk});
  EXPECT_CLOSE(a.output, c.output, 1e-6, 1e-7);
  Tensor fa = masked_fill(zeros({N * H, L, S}), am, -INFINITY);
  auto d = m(q, k, v, {.attn_mask = fa});
  EXPECT_CLOSE(a.output, d.output, 1e-6, 1e-7);
}

TEST(MultiheadAttention, BothMasksCombine) {
  const int64_t E = 8, H = 2, L = 4, S = 4, N = 2;
  MultiheadAttention m(E, H);
  Tensor q = randu({L, N, E}, 1), k = randu({S, N, E}, 2), v = randu({S, N, E}, 3);
  Tensor causal = causal_mask(L, S);  // bool [L, S]
  Tensor kpm = ne(from_vector(std::vector<int64_t>{0, 0, 0, 1, 0, 0, 1, 0}, {N, S}), 0.0);
  auto both = m(q, k, v, {.key_padding_mask = kpm, .attn_mask = causal});
  // by hand: the union as one [N*H, L, S] bool mask
  Tensor u = logical_or(reshape(causal, {1, 1, L, S}), reshape(kpm, {N, 1, 1, S}));
  auto ref = m(q, k, v, {.attn_mask = reshape(expand(u, {N, H, L, S}), {N * H, L, S})});
  EXPECT_CLOSE(both.output, ref.output, 1e-6, 1e-7);
  // a float attn_mask with a bool key_padding_mask
  Tensor fc = masked_fill(zeros({L, S}), causal, -INFINITY);
  auto mixed = m(q, k, v, {.key_padding_mask = kpm, .attn_mask = fc});
  EXPECT_CLOSE(mixed.output, ref.output, 1e-6, 1e-7);
  EXPECT_CLOSE(mixed.weights, both.weights, 1e-6, 1e-7);
  // a finite float mask is simply added to the logits: adding a constant per row changes nothing
  auto shifted = m(q, k, v, {.attn_mask = full({L, S}, 3.5)});
  auto plain = m(q, k, v);
  EXPECT_CLOSE(shifted.output, plain.output, 1e-5, 1e-6);
}

TEST(MultiheadAttention, KdimVdimAndNoBias) {
  const int64_t E = 8, H = 2, L = 3, S = 4, N = 2;
  MultiheadAttention m(E, H, {.bias = false, .kdim = 5, .vdim = 7});
  auto r = m(randu({L, N, E}, 1), randu({S, N, 5}, 2), randu({S, N, 7}, 3));
  EXPECT_EQ(r.output.sizes(), (Shape{L, N, E}));
  EXPECT_EQ(r.weights.sizes(), (Shape{N, L, S}));
}

TEST(MultiheadAttention, DropoutOnTheWeightsInTrainingOnly) {
  const int64_t E = 8, H = 2, L = 6, S = 7, N = 3;
  MultiheadAttention m(E, H, {.dropout = 0.5});
  Tensor q = randu({L, N, E}, 1), k = randu({S, N, E}, 2), v = randu({S, N, E}, 3);
  m.eval();
  auto e1 = m(q, k, v, {.average_attn_weights = false});
  auto e2 = m(q, k, v, {.average_attn_weights = false});
  EXPECT_TRUE(equal(e1.output, e2.output));
  m.train();
  auto t = m(q, k, v, {.average_attn_weights = false});
  // every weight is either dropped or scaled by 1 / (1 - p)
  const auto tw = t.weights.to_vector<double>(), ew = e1.weights.to_vector<double>();
  int dropped = 0;
  for (size_t i = 0; i < tw.size(); ++i) {
    if (tw[i] == 0) ++dropped;
    else EXPECT_NEAR(tw[i], 2 * ew[i], 1e-6);
  }
  EXPECT_GT(dropped, static_cast<int>(tw.size()) / 4);
  EXPECT_LT(dropped, 3 * static_cast<int>(tw.size()) / 4);
}

TEST(MultiheadAttention, Float64AndBackwardReachEveryParameter) {
  MultiheadAttention m(6, 3, {.dtype = kFloat64});
  Tensor x = randu({4, 2, 6}, 5, kFloat64).requires_grad_(true);
  auto r = m(x, x, x);
  EXPECT_EQ(r.output.dtype(), kFloat64);
  sum(r.output).backward();
  EXPECT_TRUE(x.grad().defined());
  for (const auto& [name, p] : m.named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
}

TEST(MultiheadAttention, ForwardHooksSeeTheOutput) {
  MultiheadAttention m(4, 2);
  Shape seen;
  m.register_forward_hook([&](const Module&, const Tensor& y) { seen = y.sizes(); });
  Tensor x = randu({3, 2, 4}, 1);
  m(x, x, x);
  EXPECT_EQ(seen, (Shape{3, 2, 4}));
}

TEST(MultiheadAttention, ErrorsNameTheShapes) {
  EXPECT_THROW_MSG(MultiheadAttention(10, 3), "embed_dim 10 must be divisible by num_heads 3");
  MultiheadAttention m(8, 2);
  Tensor q = randu({4, 2, 8}, 1), k = randu({5, 2, 8}, 2);
  EXPECT_THROW_MSG(m(randu({4, 2, 6}, 1), k, k), "query float32[4, 2, 6] on cpu has 6 features, expected embed_dim = 8");
  EXPECT_THROW_MSG(m(q, randu({5, 3, 8}, 2), randu({5, 3, 8}, 2)), "different batch sizes");
  EXPECT_THROW_MSG(m(q, k, randu({6, 2, 8}, 3)), "different source lengths");
  EXPECT_THROW_MSG(m(q, k, k, {.attn_mask = zeros({4, 4}, {.dtype = kBool})}),
                   "2-D attn_mask bool[4, 4] on cpu must be [4, 5]");
  EXPECT_THROW_MSG(m(q, k, k, {.attn_mask = zeros({2, 4, 5}, {.dtype = kBool})}), "must be [4, 5] or [4, 4, 5]");
  EXPECT_THROW_MSG(m(q, k, k, {.key_padding_mask = zeros({5, 2}, {.dtype = kBool})}),
                   "key_padding_mask bool[5, 2] on cpu must be [2, 5]");
  EXPECT_THROW_MSG(m(randu({2, 4, 2, 8}, 1), k, k), "query must be [L, N, E]");
  EXPECT_THROW_MSG(m(q, k, k, {.attn_mask = zeros({4, 5}, {.dtype = kInt64})}), "attn_mask must be bool or floating");
}

// ============================================================== functional pieces

TEST(BatchedMatmul, StridedBatchViewsWithoutCopies) {
  // [L, N, H, d] permuted to [N, H, L, d]: the per-head layout MultiheadAttention uses
  Tensor base = randu({5, 2, 3, 4}, 1, kFloat64);
  Tensor a = permute(base, {1, 2, 0, 3});
  Tensor b = transpose(permute(randu({6, 2, 3, 4}, 2, kFloat64), {1, 2, 0, 3}), -1, -2);  // [2, 3, 4, 6]
  Tensor y = batched_matmul(a, b, 0.5);
  EXPECT_EQ(y.sizes(), (Shape{2, 3, 5, 6}));
  EXPECT_CLOSE(y, mul(matmul(contiguous(a), contiguous(b)), 0.5), 1e-12, 1e-12);
  // a stride-0 (expanded) operand
  Tensor e = expand(randu({1, 1, 4, 6}, 3, kFloat64), {2, 3, 4, 6});
  EXPECT_CLOSE(batched_matmul(a, e), matmul(contiguous(a), contiguous(e)), 1e-12, 1e-12);
  // no batch dims at all
  EXPECT_CLOSE(batched_matmul(select(select(a, 0, 1), 0, 2), select(select(b, 0, 1), 0, 2)),
               mm(select(select(a, 0, 1), 0, 2), select(select(b, 0, 1), 0, 2)), 1e-12, 1e-12);
  EXPECT_THROW_MSG(batched_matmul(a, randu({3, 2, 4, 6}, 1, kFloat64)), "batch dims differ");
  // batched_addmm: a broadcast bias + the product
  Tensor c = randu({3, 1, 6}, 4, kFloat64);
  EXPECT_CLOSE(batched_addmm(c, a, b, 0.5), add(c, mul(matmul(contiguous(a), contiguous(b)), 0.5)), 1e-12, 1e-12);
  EXPECT_THROW_MSG(batched_addmm(randu({4, 2, 3, 5, 6}, 1, kFloat64), a, b), "does not broadcast to the product's shape [2, 3, 5, 6]");
  EXPECT_THROW_MSG(batched_addmm(randu({4, 6}, 1, kFloat64), a, b), "batched_addmm");
}

TEST(DotProductAttention, MatchesTheFormula) {
  Tensor q = randu({2, 3, 4}, 1, kFloat64), k = randu({2, 5, 4}, 2, kFloat64), v = randu({2, 5, 6}, 3, kFloat64);
  Tensor mask = gt(randu({3, 5}, 4), 0.6);
  auto [o, w] = dot_product_attention(q, k, v, {.mask = mask});
  Tensor ref_w = softmax(masked_fill(div(matmul(q, transpose(k, 1, 2)), full({}, 2.0, {.dtype = kFloat64})), mask,
                                     -INFINITY), -1);
  EXPECT_CLOSE(w, ref_w, 1e-12, 1e-12);
  EXPECT_CLOSE(o, matmul(ref_w, v), 1e-12, 1e-12);
}

// ============================================================== relative attention: skew == naive

namespace {

// Compares relative_logits and relative_logits_naive on the entries that matter, forward and
// backward (an upstream gradient that is zero where the causal mask hides the entry).
void expect_skew_equals_naive(int64_t L, bool causal, bool per_batch_table, uint64_t seed) {
  const int64_t D = 3, R = causal ? L : 2 * L - 1;
  Tensor q = randu({2, 3, L, D}, seed, kFloat64).requires_grad_(true);
  Tensor rel = randu(per_batch_table ? Shape{2, 3, R, D} : Shape{R, D}, seed + 1, kFloat64).requires_grad_(true);
  Tensor s = relative_logits(q, rel, causal, 0.7), n = relative_logits_naive(q, rel, causal, 0.7);
  ASSERT_EQ(s.sizes(), (Shape{2, 3, L, L}));
  ASSERT_EQ(n.sizes(), (Shape{2, 3, L, L}));
  Tensor valid = causal ? logical_not(causal_mask(L)) : ones({L, L}, {.dtype = kBool});
  Tensor zero = zeros({}, {.dtype = kFloat64});
  EXPECT_CLOSE(where(valid, s, zero), where(valid, n, zero), 1e-12, 1e-12) << "L=" << L << " causal=" << causal;
  // the definition, element by element
  const auto sv = s.to_vector<double>(), qv = q.to_vector<double>(), rv = rel.to_vector<double>();
  for (int64_t b = 0; b < 6; ++b)
    for (int64_t i = 0; i < L; ++i)
      for (int64_t j = 0; j < L; ++j) {
        if (causal && j > i) continue;
        const int64_t r = (L - 1) + j - i;
        double dot = 0;
        for (int64_t d = 0; d < D; ++d)
          dot += qv[static_cast<size_t>((b * L + i) * D + d)] *
                 rv[static_cast<size_t>(((per_batch_table ? b * R : 0) + r) * D + d)];
        EXPECT_NEAR(sv[static_cast<size_t>((b * L + i) * L + j)], 0.7 * dot, 1e-12) << b << " " << i << " " << j;
      }
  Tensor g = where(valid, randu({2, 3, L, L}, seed + 2, kFloat64), zero);
  auto gs = autograd::grad({s}, {q, rel}, {g});
  auto gn = autograd::grad({n}, {q, rel}, {g});
  EXPECT_CLOSE(gs[0], gn[0], 1e-12, 1e-12) << "gradient of q, L=" << L;
  EXPECT_CLOSE(gs[1], gn[1], 1e-12, 1e-12) << "gradient of E_r, L=" << L;
}

}  // namespace

TEST(RelativeLogits, SkewingEqualsNaiveGatherCausal) {
  for (int64_t L : {1, 2, 3, 5, 8}) expect_skew_equals_naive(L, true, false, 10 + L);
  expect_skew_equals_naive(6, true, true, 40);
}

TEST(RelativeLogits, SkewingEqualsNaiveGatherBidirectional) {
  for (int64_t L : {1, 2, 4, 7}) expect_skew_equals_naive(L, false, false, 20 + L);
  expect_skew_equals_naive(5, false, true, 50);
}

TEST(RelativeLogits, ErrorsNameTheExpectedTable) {
  Tensor q = randu({2, 4, 3}, 1);
  EXPECT_THROW_MSG(relative_logits(q, randu({5, 3}, 2), true, 1),
                   "need causal relative embeddings [..., 4, 3] (distances -3 .. 0)");
  EXPECT_THROW_MSG(relative_logits(q, randu({4, 3}, 2), false, 1),
                   "need bidirectional relative embeddings [..., 7, 3] (distances -3 .. 3)");
}

// ============================================================== RelativeMultiheadAttention

TEST(RelativeMultiheadAttention, ParametersAndShapes) {
  RelativeMultiheadAttention m(8, 2, 10);
  EXPECT_EQ(keys_of(m), (std::vector<std::string>{"in_proj_bias", "in_proj_weight", "out_proj.bias",
                                                  "out_proj.weight", "relative_embedding"}));
  EXPECT_EQ(m.relative_embedding.sizes(), (Shape{10, 4}));
  RelativeMultiheadAttention bi(8, 2, 10, {.causal = false, .share_heads = false});
  EXPECT_EQ(bi.relative_embedding.sizes(), (Shape{2, 19, 4}));
  auto r = m(randu({6, 3, 8}, 1), {.need_weights = true});
  EXPECT_EQ(r.output.sizes(), (Shape{6, 3, 8}));
  EXPECT_EQ(r.weights.sizes(), (Shape{3, 6, 6}));
  RelativeMultiheadAttention bf(8, 2, 10, {.batch_first = true});
  EXPECT_EQ(bf(randu({3, 6, 8}, 1)).output.sizes(), (Shape{3, 6, 8}));
  EXPECT_EQ(bf(randu({6, 8}, 1)).output.sizes(), (Shape{6, 8}));
  EXPECT_THROW_MSG(m(randu({11, 1, 8}, 1)), "sequence length 11 is outside 1 .. max_len = 10");
  EXPECT_THROW_MSG(m(randu({4, 1, 6}, 1)), "has 6 features, expected d_model = 8");
}

TEST(RelativeMultiheadAttention, SkewedModuleEqualsNaiveModuleWithGradients) {
  for (bool causal : {true, false})
    for (bool share : {true, false}) {
      RelativeMultiheadAttentionOptions o{.causal = causal, .share_heads = share, .dtype = kFloat64};
      RelativeMultiheadAttention a(8, 2, 7, o);
      o.skew = false;
      RelativeMultiheadAttention b(8, 2, 7, o);
      b.load_state_dict(a.state_dict());
      Tensor kpm = ne(from_vector(std::vector<int64_t>{0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, {2, 5}), 0.0);
      Tensor x = randu({5, 2, 8}, 3, kFloat64).requires_grad_(true);
      auto ra = a(x, {.key_padding_mask = kpm, .need_weights = true});
      auto rb = b(x, {.key_padding_mask = kpm, .need_weights = true});
      EXPECT_CLOSE(ra.output, rb.output, 1e-12, 1e-12);
      EXPECT_CLOSE(ra.weights, rb.weights, 1e-12, 1e-12);
      tensor_list pa{x}, pb{x};
      for (auto& p : a.parameters()) pa.push_back(p);
      for (auto& p : b.parameters()) pb.push_back(p);
      auto ga = grads_of({ra.output}, pa, 9), gb = grads_of({rb.output}, pb, 9);
      for (size_t i = 0; i < ga.size(); ++i) EXPECT_CLOSE(ga[i], gb[i], 1e-11, 1e-12) << "input " << i;
    }
}

TEST(RelativeMultiheadAttention, CausalOutputsIgnoreTheFuture) {
  RelativeMultiheadAttention m(8, 2, 6, {.dtype = kFloat64});
  Tensor x = randu({6, 2, 8}, 1, kFloat64);
  Tensor y = m(x).output;
  Tensor x2 = clone(x);
  {
    Tensor tail = narrow(x2, 0, 4, 2);
    fill_(tail, 0.3);
  }
  Tensor y2 = m(x2).output;
  EXPECT_CLOSE(narrow(y2, 0, 0, 4), narrow(y, 0, 0, 4), 1e-12, 1e-12);
  EXPECT_FALSE(allclose(narrow(y2, 0, 4, 2), narrow(y, 0, 4, 2)));
}

TEST(RelativeMultiheadAttention, ZeroRelativeEmbeddingIsCausalMultiheadAttention) {
  RelativeMultiheadAttention rel(8, 2, 6, {.dtype = kFloat64});
  MultiheadAttention mha(8, 2, {.dtype = kFloat64});
  auto sd = rel.state_dict();
  sd.erase("relative_embedding");
  mha.load_state_dict(sd);
  {
    NoGradGuard ng;
    zero_(rel.relative_embedding);
  }
  Tensor x = randu({5, 3, 8}, 2, kFloat64);
  auto a = rel(x, {.need_weights = true});
  auto b = mha(x, x, x, {.attn_mask = causal_mask(5)});
  EXPECT_CLOSE(a.output, b.output, 1e-12, 1e-12);
  EXPECT_CLOSE(a.weights, b.weights, 1e-12, 1e-12);
}

TEST(RelativeMultiheadAttention, UsesTheNearestRowsOfTheTable) {
  // a shorter sequence uses the rows of the shortest distances: L=3 of max_len 6 gives the same
  // result as max_len 3 holding the last 3 rows (causal)
  RelativeMultiheadAttention big(4, 1, 6, {.dtype = kFloat64}), small(4, 1, 3, {.dtype = kFloat64});
  auto sd = big.state_dict();
  sd["relative_embedding"] = contiguous(narrow(sd["relative_embedding"], 0, 3, 3));
  small.load_state_dict(sd);
  Tensor x = randu({3, 2, 4}, 1, kFloat64);
  EXPECT_CLOSE(big(x).output, small(x).output, 1e-12, 1e-12);
}

// ============================================================== PositionalEncoding

TEST(PositionalEncoding, TheSinusoidTable) {
  PositionalEncoding pe(6, 50, {.dropout = 0});
  EXPECT_EQ(pe.pe.sizes(), (Shape{50, 1, 6}));
  EXPECT_EQ(keys_of(pe), (std::vector<std::string>{"pe"}));
  const auto t = pe.table().to_vector<double>();
  for (int64_t pos : {0, 1, 7, 49})
    for (int64_t i = 0; i < 3; ++i) {
      const double a = pos / std::pow(10000.0, 2.0 * i / 6);
      EXPECT_NEAR(t[static_cast<size_t>(pos * 6 + 2 * i)], std::sin(a), 1e-6);
      EXPECT_NEAR(t[static_cast<size_t>(pos * 6 + 2 * i + 1)], std::cos(a), 1e-6);
    }
  PositionalEncoding bf(5, 20, {.batch_first = true});  // odd d_model
  EXPECT_EQ(bf.pe.sizes(), (Shape{1, 20, 5}));
}

TEST(PositionalEncoding, AddsThePositionsInEachLayout) {
  PositionalEncoding tm(4, 10, {.dropout = 0}), bf(4, 10, {.dropout = 0, .batch_first = true});
  Tensor x = randu({3, 2, 4}, 1);
  Tensor y = tm(x);
  Tensor want = add(x, reshape(narrow(tm.table(), 0, 0, 3), {3, 1, 4}));
  EXPECT_CLOSE(y, want);
  EXPECT_CLOSE(bf(contiguous(transpose(x, 0, 1))), transpose(want, 0, 1));
  EXPECT_CLOSE(tm(select(x, 1, 0)), select(want, 1, 0));  // unbatched
  EXPECT_THROW_MSG(tm(randu({11, 1, 4}, 1)), "has length 11, more than max_len = 10");
  EXPECT_THROW_MSG(tm(randu({3, 1, 5}, 1)), "must be [L, N, 4]");
}

TEST(PositionalEncoding, DropoutInTrainingOnly) {
  PositionalEncoding pe(8, 16, {.dropout = 0.5});
  Tensor x = randu({16, 4, 8}, 1);
  pe.eval();
  EXPECT_CLOSE(pe(x), add(x, reshape(pe.table(), {16, 1, 8})));
  pe.train();
  Tensor y = pe(x);
  const auto v = y.to_vector<double>();
  int zeros_seen = 0;
  for (double e : v) zeros_seen += e == 0;
  EXPECT_GT(zeros_seen, static_cast<int>(v.size()) / 4);
}

// ============================================================== Transformer encoder

TEST(TransformerEncoderLayer, StateDictKeysArePyTorchs) {
  TransformerEncoderLayer l(8, 2, {.dim_feedforward = 16});
  EXPECT_EQ(param_names(l), (std::vector<std::string>{
                                "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                                "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
                                "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"}));
  std::vector<std::string> children;
  for (const auto& [n, c] : l.named_children()) children.push_back(n);
  EXPECT_EQ(children, (std::vector<std::string>{"self_attn", "linear1", "dropout", "linear2", "norm1", "norm2",
                                                "dropout1", "dropout2"}));
  EXPECT_EQ(l.linear1->weight.sizes(), (Shape{16, 8}));
  EXPECT_THROW_MSG(TransformerEncoderLayer(8, 2, {.activation = "tanh"}), "activation should be relu or gelu, not 'tanh'");
}

TEST(TransformerEncoderLayer, PostNormByHand) {
  TransformerEncoderLayer l(8, 2, {.dim_feedforward = 12, .dropout = 0, .dtype = kFloat64});
  Tensor x = randu({5, 2, 8}, 1, kFloat64);
  Tensor mask = causal_mask(5);
  Tensor y = l(x, mask);
  Tensor a = (*l.self_attn)(x, x, x, {.attn_mask = mask}).output;
  Tensor h = (*l.norm1)(add(x, a));
  Tensor want = (*l.norm2)(add(h, (*l.linear2)(relu((*l.linear1)(h)))));
  EXPECT_CLOSE(y, want, 1e-12, 1e-12);
  // layer norm: every position has mean 0 (weight 1, bias 0 at init)
  EXPECT_CLOSE(mean(y, {-1}), zeros({5, 2}, {.dtype = kFloat64}), 0, 1e-12);
}

TEST(TransformerEncoderLayer, PreNormGeluByHandBatchFirst) {
  TransformerEncoderLayer l(8, 4, {.dim_feedforward = 12, .dropout = 0, .activation = "gelu", .batch_first = true,
                                   .norm_first = true, .dtype = kFloat64});
  Tensor x = randu({2, 5, 8}, 1, kFloat64);
  Tensor kpm = ne(from_vector(std::vector<int64_t>{0, 0, 0, 1, 1, 0, 0, 0, 0, 0}, {2, 5}), 0.0);
  Tensor y = l(x, Tensor(), kpm);
  Tensor n1 = (*l.norm1)(x);
  Tensor h = add(x, (*l.self_attn)(n1, n1, n1, {.key_padding_mask = kpm}).output);
  Tensor want = add(h, (*l.linear2)(gelu((*l.linear1)((*l.norm2)(h)))));
  EXPECT_CLOSE(y, want, 1e-12, 1e-12);
}

TEST(TransformerEncoder, StackedLayersAndFinalNorm) {
  TransformerEncoder enc(8, 2, 3, {.dim_feedforward = 16, .dropout = 0}, std::make_shared<LayerNorm>(8));
  EXPECT_EQ(enc.num_layers(), 3u);
  auto keys = keys_of(enc);
  EXPECT_EQ(keys.size(), 3u * 12 + 2);
  EXPECT_TRUE(enc.state_dict().count("layers.0.self_attn.in_proj_weight"));
  EXPECT_TRUE(enc.state_dict().count("layers.2.norm2.bias"));
  EXPECT_TRUE(enc.state_dict().count("norm.weight"));
  // independently initialised layers
  EXPECT_FALSE(equal(enc.layer(0).linear1->weight, enc.layer(1).linear1->weight));
  Tensor x = randu({4, 2, 8}, 1);
  Tensor y = enc(x);
  Tensor want = x;
  for (size_t i = 0; i < 3; ++i) want = enc.layer(i)(want);
  EXPECT_CLOSE(y, (*enc.norm)(want));
  // a factory
  TransformerEncoder f([] { return std::make_shared<TransformerEncoderLayer>(8, 2, TransformerEncoderLayerOptions{.dim_feedforward = 4}); }, 2);
  EXPECT_EQ(keys_of(f).size(), 24u);
  EXPECT_EQ(f(x).sizes(), x.sizes());
}

TEST(TransformerEncoder, DropoutOnlyInTraining) {
  TransformerEncoder enc(8, 2, 2, {.dim_feedforward = 16, .dropout = 0.3});
  Tensor x = randu({4, 2, 8}, 1);
  enc.eval();
  EXPECT_TRUE(equal(enc(x), enc(x)));
  enc.train();
  EXPECT_FALSE(allclose(enc(x), enc(x)));
}
