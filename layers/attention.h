#pragma once
// Attention layers: nn::MultiheadAttention (PyTorch's, parameter for parameter),
// nn::RelativeMultiheadAttention (Music Transformer's relative self-attention) and
// nn::PositionalEncoding (the sinusoidal table of "Attention is all you need").
// TransformerEncoderLayer / TransformerEncoder are in layers/transformer.h.
#include <memory>
#include <optional>
#include <string>

#include "layers/basic.h"
#include "layers/module.h"
#include "tensor/philox.h"

namespace fm::nn {

// ---------------------------------------------------------------------------------------------
// MultiheadAttention, as torch.nn.MultiheadAttention (1.13).
//
// Parameters (state_dict keys as PyTorch's):
//   in_proj_weight [3E, E]          when kdim == vdim == embed_dim (q, k, v rows stacked), or
//   q_proj_weight [E, E], k_proj_weight [E, kdim], v_proj_weight [E, vdim]   otherwise;
//   in_proj_bias [3E], out_proj.weight [E, E], out_proj.bias [E]   (biases only with bias=true).
// Initialisation as PyTorch's: xavier_uniform_ on the input projection(s), zero biases,
// out_proj.weight with Linear's default (kaiming_uniform_(a=sqrt(5))).
// Not supported: add_bias_kv and add_zero_attn (PyTorch's bias_k, bias_v).
//
// Shapes (E = embed_dim, L = target length, S = source length, N = batch, H = num_heads):
//   query [L, N, E], key [S, N, kdim], value [S, N, vdim]  ([N, L, E] ... with batch_first;
//   unbatched [L, E], [S, kdim], [S, vdim]).
//   key_padding_mask: [N, S] ([S] unbatched); bool (true = this key is ignored) or floating
//     (added to the logits).
//   attn_mask: [L, S] or [N*H, L, S]; bool (true = may not attend) or floating (added).
//   Both masks may be given; they are combined as PyTorch does.
// Returns output [L, N, E] ([N, L, E] with batch_first, [L, E] unbatched) and, with
// need_weights, the attention weights [N, L, S] averaged over heads (average_attn_weights) or
// [N, H, L, S] per head (unbatched: without N). As in PyTorch 1.13, the returned weights are
// those after dropout (identical in eval mode or with dropout 0), and a query whose keys are
// all masked gets NaN.
//
// Computation: one GEMM for the packed projection when query, key and value are the same
// tensor (self-attention), one for key+value when key is value; per-head views
// [N, H, L, hd] of the projections (no copies: batched_matmul goes through their strides),
// softmax(Q K^T / sqrt(hd) + mask) (the scale folded into the GEMM), dropout in training,
// weights @ V, then out_proj.
// ---------------------------------------------------------------------------------------------

struct MultiheadAttentionOptions {
  double dropout = 0;  // on the attention weights, training only
  bool bias = true;
  bool batch_first = false;
  std::optional<int64_t> kdim = std::nullopt;  // default embed_dim
  std::optional<int64_t> vdim = std::nullopt;  // default embed_dim
  DType dtype = DType::Float32;
};

struct MultiheadAttentionCall {
  Tensor key_padding_mask = Tensor();  // [N, S], bool (true = ignore) or floating (added)
  bool need_weights = true;
  Tensor attn_mask = Tensor();  // [L, S] or [N*H, L, S], bool (true = may not attend) or floating (added)
  bool average_attn_weights = true;
  // PyTorch 2's hint: the attention is causal (query i sees keys j <= i). With no attn_mask the
  // causal mask is applied; with one, the caller vouches that it is the causal mask. Lets the
  // fused kernel run without comparing a device mask with the causal one (a device sync).
  bool is_causal = false;
};

struct AttentionOutput {
  Tensor output = Tensor();
  Tensor weights = Tensor();  // undefined unless need_weights
};

class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, MultiheadAttentionOptions o = {});
  AttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                          const MultiheadAttentionCall& call = {});
  // forward, then the forward hooks (which see the output)
  AttentionOutput operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                             const MultiheadAttentionCall& call = {});
  std::string type_name() const override { return "MultiheadAttention"; }
  void reset_parameters();
  bool same_embed_dim() const { return kdim == embed_dim && vdim == embed_dim; }

  int64_t embed_dim, num_heads, head_dim, kdim, vdim;
  double dropout;
  bool batch_first;
  Tensor in_proj_weight;                               // [3E, E] or undefined
  Tensor q_proj_weight, k_proj_weight, v_proj_weight;  // or undefined
  Tensor in_proj_bias;                                 // [3E] or undefined
  std::shared_ptr<Linear> out_proj;
};

// ---------------------------------------------------------------------------------------------
// RelativeMultiheadAttention: self-attention with learned relative-position logits, as in
// "Music Transformer" (Huang et al. 2018, section 3.4), computed with the paper's skewing
// procedure so the relative logits need O(L*D) extra memory per head (Q E_r^T is [L, R])
// rather than the O(L^2*D) of gathering an embedding per (query, key) pair.
//
//   logits = (Q K^T + S_rel) / sqrt(hd),  S_rel[i][j] = q_i . E_r[distance j - i]
//   weights = dropout(softmax(logits + masks)),  output = out_proj(weights V)
//
// Relative distances (key position minus query position), for a sequence of length
// L <= max_len:
//   causal = true (the paper's decoder; the default): distances -(max_len-1) .. 0, E_r is
//     [max_len, hd] with row r <-> distance r - (max_len-1) (the last row is "self"); the
//     sequence uses the last L rows. Future keys are masked (causal mask), so every distance
//     needed exists.
//   causal = false (an encoder attending both ways): distances -(max_len-1) .. max_len-1, E_r
//     is [2*max_len-1, hd], row r <-> distance r - (max_len-1); the sequence uses rows
//     max_len-L .. max_len+L-2.
// Longer sequences are an error (no clipping of distances). E_r is one table shared by every
// head (share_heads, the default) or one per head ([H, R, hd]: state key
// "relative_embedding" either way); it is initialised N(0, 1) like torch.randn/Embedding.
// The projections are MultiheadAttention's (in_proj_weight, in_proj_bias, out_proj.*).
//
// skew = false replaces the skewing by relative_logits_naive (the O(L^2*D) gather by the
// definition): the same function, kept as the reference for the tests.
// ---------------------------------------------------------------------------------------------

struct RelativeMultiheadAttentionOptions {
  double dropout = 0;  // on the attention weights, training only
  bool causal = true;
  bool bias = true;
  bool batch_first = false;
  bool share_heads = true;  // one E_r for all heads (else one per head)
  bool skew = true;         // false: the naive O(L^2*D) reference computation
  DType dtype = DType::Float32;
};

struct RelativeAttentionCall {
  Tensor key_padding_mask = Tensor();  // [N, L], bool (true = ignore) or floating (added)
  bool need_weights = false;
  bool average_attn_weights = true;
};

class RelativeMultiheadAttention : public Module {
 public:
  RelativeMultiheadAttention(int64_t d_model, int64_t num_heads, int64_t max_len,
                             RelativeMultiheadAttentionOptions o = {});
  // x: [L, N, E] ([N, L, E] with batch_first, [L, E] unbatched)
  AttentionOutput forward(const Tensor& x, const RelativeAttentionCall& call = {});
  AttentionOutput operator()(const Tensor& x, const RelativeAttentionCall& call = {});
  std::string type_name() const override { return "RelativeMultiheadAttention"; }
  std::string extra_repr() const override;
  void reset_parameters();
  // The rows of relative_embedding a sequence of length L uses ([R, hd] or [H, R, hd]).
  Tensor relative_embeddings_for(int64_t L) const;

  int64_t embed_dim, num_heads, head_dim, max_len;
  double dropout;
  bool causal, batch_first, share_heads, skew;
  Tensor in_proj_weight;      // [3E, E]
  Tensor in_proj_bias;        // [3E] or undefined
  Tensor relative_embedding;  // [R, hd] or [H, R, hd]; R = max_len (causal) or 2*max_len-1
  std::shared_ptr<Linear> out_proj;
};

// ---------------------------------------------------------------------------------------------
// PositionalEncoding: x + PE[position], then dropout, with the fixed table of Vaswani et al.
//   PE[pos, 2i] = sin(pos / 10000^(2i/d_model)),  PE[pos, 2i+1] = cos(pos / 10000^(2i/d_model))
// (computed in double, then stored in the module's dtype; odd d_model is allowed).
// The table is the persistent buffer "pe", laid out as the two usual PyTorch versions lay it
// out so their state_dicts load: [1, max_len, d_model] with batch_first (input [N, L, E]), and
// [max_len, 1, d_model] otherwise (input [L, N, E], the PyTorch tutorial's). Unbatched [L, E]
// works with either. L may not exceed max_len.
// ---------------------------------------------------------------------------------------------

struct PositionalEncodingOptions {
  double dropout = 0.1;
  bool batch_first = false;
  DType dtype = DType::Float32;
};

class PositionalEncoding : public UnaryModule {
 public:
  explicit PositionalEncoding(int64_t d_model, int64_t max_len = 5000, PositionalEncodingOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "PositionalEncoding"; }
  std::string extra_repr() const override;
  // The table as [max_len, d_model] (a view of the buffer).
  Tensor table() const;

  int64_t d_model, max_len;
  double dropout;
  bool batch_first;
  Tensor pe;
};

}  // namespace fm::nn
