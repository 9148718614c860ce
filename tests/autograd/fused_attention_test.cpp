// The fused scaled_dot_product_attention (kernels/attention.h) against the composed
// dot_product_attention (softmax of masked logits, then weights @ V): outputs and gradients in
// float32 and float64, with causal and key-padding masks, L != S, Ev != E; NaN for rows whose
// keys are all masked; nn::MultiheadAttention's fused path (need_weights = false) against its
// composed one (need_weights = true) with both masks.
#include <cmath>
#include <limits>

#include "autograd/attention.h"
#include "kernels/attention.h"
#include "layers/attention.h"
#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;

namespace {

Tensor bools(const std::vector<int64_t>& v, const Shape& shape) { return ne(from_vector(v, shape), 0.0); }

Tensor randn_leaf(const Shape& s, DType dt, uint64_t seed) {
  Generator g(seed);
  Tensor x = to(randn(s, {.dtype = DType::Float64}, &g), dt);
  return x.requires_grad_(true);
}

struct Grads {
  Tensor out, dq, dk, dv;
};

Grads run(bool fused, const Tensor& q0, const Tensor& k0, const Tensor& v0, const Tensor& g, bool causal,
          const Tensor& kpm /* [N, S] for q [N, H, L, E] */) {
  Tensor q = q0.detach().requires_grad_(true), k = k0.detach().requires_grad_(true),
         v = v0.detach().requires_grad_(true);
  Tensor out;
  const int64_t N = q.size(0), L = q.size(-2), S = k.size(-2);
  if (fused) {
    out = scaled_dot_product_attention(q, k, v,
                                       {.causal = causal,
                                        .key_padding_mask = kpm.defined() ? reshape(kpm, {N, 1, S}) : Tensor()});
  } else {
    Tensor mask = causal ? causal_mask(L, S) : Tensor();
    if (kpm.defined()) {
      const Tensor km = reshape(kpm, {N, 1, 1, S});
      mask = mask.defined() ? logical_or(mask, km) : km;
    }
    out = dot_product_attention(q, k, v, {.mask = mask}).first;
  }
  autograd::backward({out}, {g});
  return {out.detach(), q.grad(), k.grad(), v.grad()};
}

}  // namespace

TEST(FusedAttention, EqualsTheComposition) {
  const Tensor kpm = bools({0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0}, {2, 7});
  struct Case {
    int64_t L, S, E, Ev;
    bool causal, pad;
  };
  for (DType dt : {DType::Float32, DType::Float64}) {
    for (const Case& c : {Case{5, 7, 4, 3, false, false}, Case{7, 7, 8, 8, true, false}, Case{6, 7, 3, 5, false, true},
                          Case{7, 7, 4, 6, true, true}, Case{9, 7, 5, 2, true, true}, Case{1, 7, 3, 3, false, true}}) {
      SCOPED_TRACE(::testing::Message() << dtype_name(dt) << " L " << c.L << " S " << c.S << " E " << c.E << " Ev "
                                        << c.Ev << " causal " << c.causal << " pad " << c.pad);
      const Tensor q = randn_leaf({2, 3, c.L, c.E}, dt, 1), k = randn_leaf({2, 3, c.S, c.E}, dt, 2),
                   v = randn_leaf({2, 3, c.S, c.Ev}, dt, 3), g = randn_leaf({2, 3, c.L, c.Ev}, dt, 4).detach();
      const Tensor m = c.pad ? kpm : Tensor();
      const Grads a = run(true, q, k, v, g, c.causal, m), b = run(false, q, k, v, g, c.causal, m);
      const double rtol = dt == DType::Float32 ? 1e-4 : 1e-11, atol = dt == DType::Float32 ? 1e-5 : 1e-12;
      EXPECT_EQ(a.out.dtype(), dt);
      EXPECT_CLOSE(a.out, b.out, rtol, atol);
      EXPECT_CLOSE(a.dq, b.dq, rtol, atol);
      EXPECT_CLOSE(a.dk, b.dk, rtol, atol);
      EXPECT_CLOSE(a.dv, b.dv, rtol, atol);
    }
  }
}

TEST(FusedAttention, AllMaskedRowsGiveNaNAndNoGradient) {
  const Tensor q = randn_leaf({1, 3, 4}, DType::Float64, 5), k = randn_leaf({1, 3, 4}, DType::Float64, 6),
               v = randn_leaf({1, 3, 2}, DType::Float64, 7);
  // key 0 masked, causal: query 0 sees no key
  const Tensor kpm = bools({1, 0, 0}, {1, 3});
  auto [out, lse] = kernels::flash_attention_forward(q.detach(), k.detach(), v.detach(), 0.5, true, kpm);
  const auto o = out.to_vector<double>();
  EXPECT_TRUE(std::isnan(o[0]) && std::isnan(o[1]));
  EXPECT_TRUE(std::isfinite(o[2]) && std::isfinite(o[5]));
  EXPECT_EQ(lse.to_vector<double>()[0], -std::numeric_limits<double>::infinity());
  auto [dq, dk, dv] = kernels::flash_attention_backward(q.detach(), k.detach(), v.detach(), out, lse, ones_like(out),
                                                        0.5, true, kpm);
  for (const Tensor& t : {dq, dk, dv})
    for (double x : t.to_vector<double>()) EXPECT_TRUE(std::isfinite(x));
  for (int d = 0; d < 4; ++d) EXPECT_EQ(dq.to_vector<double>()[d], 0.0);  // row 0
  // and the composition agrees on the output (PyTorch's NaN)
  const Tensor mask = logical_or(causal_mask(3, 3), reshape(kpm, {1, 1, 3}));
  const Tensor ref = dot_product_attention(q.detach(), k.detach(), v.detach(), {.mask = mask, .scale = 0.5}).first;
  EXPECT_TRUE(std::isnan(ref.to_vector<double>()[0]));
  EXPECT_CLOSE(slice(out, 1, 1, 3), slice(ref, 1, 1, 3), 1e-12, 1e-13);
}

TEST(FusedAttention, MultiheadAttentionFusedPathMatchesComposed) {
  for (bool batch_first : {false, true}) {
    nn::MultiheadAttention mha(8, 2, {.batch_first = batch_first, .dtype = DType::Float64});
    mha.eval();
    const int64_t L = 5, N = 2;
    const Tensor x = randn_leaf(batch_first ? Shape{N, L, 8} : Shape{L, N, 8}, DType::Float64, 9);
    const Tensor kpm = bools({0, 0, 0, 1, 0, 0, 1, 0, 0, 0}, {N, L});
    for (int mask_kind : {0, 1, 2}) {  // none, bool causal, float causal
      Tensor am;
      if (mask_kind == 1) am = causal_mask(L, L);
      if (mask_kind == 2)
        am = masked_fill(zeros({L, L}, {.dtype = DType::Float64}), causal_mask(L, L),
                         -std::numeric_limits<double>::infinity());
      SCOPED_TRACE(::testing::Message() << "batch_first " << batch_first << " mask " << mask_kind);
      const Tensor xa = x.detach().requires_grad_(true), xb = x.detach().requires_grad_(true);
      const Tensor a = mha(xa, xa, xa, {.key_padding_mask = kpm, .need_weights = false, .attn_mask = am}).output;
      const auto ga = autograd::grad({sum(mul(a, a))}, {xa, mha.in_proj_weight});
      const Tensor b = mha(xb, xb, xb, {.key_padding_mask = kpm, .need_weights = true, .attn_mask = am}).output;
      const auto gb = autograd::grad({sum(mul(b, b))}, {xb, mha.in_proj_weight});
      EXPECT_CLOSE(a, b, 1e-11, 1e-12);
      EXPECT_CLOSE(ga[0], gb[0], 1e-10, 1e-11);
      EXPECT_CLOSE(ga[1], gb[1], 1e-10, 1e-11);
    }
  }
}

TEST(FusedAttention, CreateGraphGivesTheSameZeroGradientForAllMaskedRows) {
  const Tensor q = randn_leaf({1, 3, 4}, DType::Float64, 15), k = randn_leaf({1, 3, 4}, DType::Float64, 16),
               v = randn_leaf({1, 3, 2}, DType::Float64, 17);
  const Tensor kpm = bools({1, 0, 0}, {1, 3});  // with causal: query 0 sees nothing
  const Tensor out = scaled_dot_product_attention(q, k, v, {.causal = true, .key_padding_mask = kpm});
  // the NaN row is left out of the loss; its keys still must not get NaN from it
  const Tensor loss = sum(slice(out, 1, 1, 3));
  const auto first = autograd::grad({loss}, {q, k, v}, {}, true, false);
  const auto second = autograd::grad({loss}, {q, k, v}, {}, true, true);
  for (int i = 0; i < 3; ++i) {
    for (double x : second[i].to_vector<double>()) EXPECT_TRUE(std::isfinite(x)) << "input " << i;
    EXPECT_CLOSE(second[i], first[i], 1e-12, 1e-13);
  }
}

TEST(FusedAttention, IsCausalEqualsAnExplicitCausalMask) {
  nn::MultiheadAttention mha(8, 2, {.dtype = DType::Float64});
  mha.eval();
  const Tensor x = randn_leaf({5, 2, 8}, DType::Float64, 19).detach();
  const Tensor hinted = mha(x, x, x, {.need_weights = false, .is_causal = true}).output;
  const Tensor hinted_composed = mha(x, x, x, {.need_weights = true, .is_causal = true}).output;
  const Tensor masked = mha(x, x, x, {.need_weights = true, .attn_mask = causal_mask(5, 5)}).output;
  EXPECT_CLOSE(hinted, masked, 1e-11, 1e-12);
  EXPECT_CLOSE(hinted_composed, masked, 1e-12, 1e-13);
}
