// float64 gradchecks of the attention layers: MultiheadAttention with respect to query, key,
// value and every parameter (with masks, batch_first, kdim/vdim, the packed self-attention
// path), relative self-attention (skewed, causal and bidirectional), TransformerEncoderLayer
// (post-norm relu, pre-norm gelu), and gradgradchecks of the functional pieces.
#include "autograd/attention.h"
#include "layers/attention.h"
#include "layers/transformer.h"
#include "support/test_support.h"

using namespace fm;
using namespace fm::nn;
using fm::autograd::tensor_list;
using fm::testing::leaf64;

namespace {

tensor_list with_params(tensor_list in, const Module& m) {
  for (const Tensor& p : m.parameters()) in.push_back(p);
  return in;
}

Tensor bool_mask(const std::vector<int64_t>& v, const Shape& s) { return ne(from_vector(v, s), 0.0); }

}  // namespace

TEST(MultiheadAttentionGradcheck, QueryKeyValueAndParametersWithBothMasks) {
  MultiheadAttention m(4, 2, {.dtype = kFloat64});
  const int64_t L = 3, S = 4, N = 2;
  Tensor kpm = bool_mask({0, 0, 1, 0, 0, 0, 0, 1}, {N, S});
  Tensor am = bool_mask({0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, {L, S});
  auto in = with_params({leaf64({L, N, 4}, -1, 1, 1), leaf64({S, N, 4}, -1, 1, 2), leaf64({S, N, 4}, -1, 1, 3)}, m);
  EXPECT_GRADCHECK(([&](const tensor_list& x) {
                     auto r = m(x[0], x[1], x[2], {.key_padding_mask = kpm, .attn_mask = am});
                     return tensor_list{r.output, r.weights};
                   }),
                   in);
}

TEST(MultiheadAttentionGradcheck, SelfAttentionPackedPathBatchFirstFloatMask) {
  MultiheadAttention m(4, 2, {.batch_first = true, .dtype = kFloat64});
  Tensor fmask = leaf64({2 * 2, 3, 3}, -1, 1, 5).detach();  // [N*H, L, S] additive
  auto in = with_params({leaf64({2, 3, 4}, -1, 1, 4)}, m);
  EXPECT_GRADCHECK(([&](const tensor_list& x) {
                     auto r = m(x[0], x[0], x[0], {.attn_mask = fmask, .average_attn_weights = false});
                     return tensor_list{r.output, r.weights};
                   }),
                   in);
}

TEST(MultiheadAttentionGradcheck, KdimVdimNoBiasNonContiguousUnbatched) {
  MultiheadAttention m(4, 2, {.bias = false, .kdim = 3, .vdim = 5, .dtype = kFloat64});
  auto in = with_params({fm::testing::noncontig64(3, 4), fm::testing::noncontig64(2, 3), leaf64({2, 5}, -1, 1, 6)}, m);
  EXPECT_GRADCHECK(([&](const tensor_list& x) {
                     auto r = m(x[0], x[1], x[2]);
                     return tensor_list{r.output, r.weights};
                   }),
                   in);
}

TEST(MultiheadAttentionGradcheck, KeyIsValuePath) {
  MultiheadAttention m(4, 1, {.dtype = kFloat64});
  auto in = with_params({leaf64({2, 2, 4}, -1, 1, 7), leaf64({3, 2, 4}, -1, 1, 8)}, m);
  EXPECT_GRADCHECK(([&](const tensor_list& x) { return tensor_list{m(x[0], x[1], x[1]).output}; }), in);
}

TEST(RelativeAttentionGradcheck, CausalSkewedSharedTable) {
  RelativeMultiheadAttention m(4, 2, 5, {.dtype = kFloat64});
  auto in = with_params({leaf64({4, 2, 4}, -1, 1, 9)}, m);
  EXPECT_GRADCHECK(([&](const tensor_list& x) {
                     auto r = m(x[0], {.need_weights = true});
                     return tensor_list{r.output, r.weights};
                   }),
                   in);
}

TEST(RelativeAttentionGradcheck, BidirectionalSkewedPerHeadTableWithPadding) {
  RelativeMultiheadAttention m(4, 2, 4, {.causal = false, .batch_first = true, .share_heads = false, .dtype = kFloat64});
  Tensor kpm = bool_mask({0, 0, 0, 0, 0, 1}, {2, 3});
  auto in = with_params({leaf64({2, 3, 4}, -1, 1, 10)}, m);
  EXPECT_GRADCHECK(([&](const tensor_list& x) { return tensor_list{m(x[0], {.key_padding_mask = kpm}).output}; }), in);
}

TEST(RelativeAttentionGradcheck, RelativeLogitsTwice) {
  Tensor q = leaf64({2, 4, 3}, -1, 1, 11);
  Tensor rc = leaf64({4, 3}, -1, 1, 12), rb = leaf64({7, 3}, -1, 1, 13);
  Tensor lower = logical_not(causal_mask(4));
  Tensor zero = zeros({}, {.dtype = kFloat64});
  auto causal = [&](const tensor_list& x) { return tensor_list{where(lower, relative_logits(x[0], x[1], true, 0.5), zero)}; };
  auto bidir = [&](const tensor_list& x) { return tensor_list{relative_logits(x[0], x[1], false, 0.5)}; };
  EXPECT_GRADCHECK(causal, (tensor_list{q, rc}));
  EXPECT_GRADGRADCHECK(causal, (tensor_list{q, rc}));
  EXPECT_GRADCHECK(bidir, (tensor_list{q, rb}));
  EXPECT_GRADGRADCHECK(bidir, (tensor_list{q, rb}));
}

TEST(DotProductAttentionGradcheck, TwiceWithMask) {
  Tensor mask = bool_mask({0, 1, 0, 0, 0, 0, 1, 0, 0}, {3, 3});
  auto f = [&](const tensor_list& x) {
    auto [o, w] = dot_product_attention(x[0], x[1], x[2], {.mask = mask});
    return tensor_list{o, w};
  };
  tensor_list in{leaf64({2, 3, 2}, -1, 1, 14), leaf64({2, 3, 2}, -1, 1, 15), leaf64({2, 3, 2}, -1, 1, 16)};
  EXPECT_GRADCHECK(f, in);
  EXPECT_GRADGRADCHECK(f, in);
}

TEST(BatchedMatmulGradcheck, StridedAndExpandedOperandsTwice) {
  Tensor a = leaf64({3, 2, 2, 4}, -1, 1, 17);  // permuted below
  Tensor b = leaf64({1, 2, 4, 3}, -1, 1, 18);  // expanded below
  auto f = [](const tensor_list& x) {
    return tensor_list{batched_matmul(permute(x[0], {1, 2, 0, 3}), expand(x[1], {2, 2, 4, 3}), 0.5)};
  };
  EXPECT_GRADCHECK(f, (tensor_list{a, b}));
  EXPECT_GRADGRADCHECK(f, (tensor_list{a, b}));
}

TEST(TransformerEncoderLayerGradcheck, PostNormRelu) {
  TransformerEncoderLayer l(4, 2, {.dim_feedforward = 6, .dropout = 0, .dtype = kFloat64});
  Tensor mask = causal_mask(3);
  Tensor kpm = bool_mask({0, 0, 0, 0, 0, 1}, {2, 3});
  auto in = with_params({leaf64({3, 2, 4}, -1, 1, 19)}, l);
  EXPECT_GRADCHECK(([&](const tensor_list& x) { return tensor_list{l(x[0], mask, kpm)}; }), in);
}

TEST(TransformerEncoderLayerGradcheck, PreNormGeluBatchFirst) {
  TransformerEncoderLayer l(4, 2, {.dim_feedforward = 6, .dropout = 0, .activation = "gelu", .batch_first = true,
                                   .norm_first = true, .dtype = kFloat64});
  auto in = with_params({leaf64({2, 3, 4}, -1, 1, 20)}, l);
  EXPECT_GRADCHECK(([&](const tensor_list& x) { return tensor_list{l(x[0])}; }), in);
}

TEST(BatchedMatmulGradcheck, AddmmWithBroadcastBiasTwice) {
  Tensor c = leaf64({1, 3, 1}, -1, 1, 21);  // broadcasts to [2, 3, 4]
  Tensor a = leaf64({2, 3, 2}, -1, 1, 22), b = leaf64({2, 2, 4}, -1, 1, 23);
  auto f = [](const tensor_list& x) { return tensor_list{batched_addmm(x[0], x[1], x[2], 0.5)}; };
  EXPECT_GRADCHECK(f, (tensor_list{c, a, b}));
  EXPECT_GRADGRADCHECK(f, (tensor_list{c, a, b}));
}
