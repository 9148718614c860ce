#pragma once
// Fused scaled dot-product attention (FlashAttention's method: Dao et al. 2022, FlashAttention-2
// 2023): the [L, S] probabilities are never stored. The forward keeps each query row's running
// maximum and sum of exponentials over the keys (the online softmax) and returns, beside the
// output, the row's log-sum-exp; the backward recomputes p = exp(scale q.k - lse) from it.
//
//   q [B, L, E], k [B, S, E], v [B, S, Ev]; key_padding_mask [B, S] bool (true = this key is
//   ignored, PyTorch's convention) or undefined; causal: query i sees keys j <= i (top-left
//   aligned, as causal_mask(L, S) / generate_square_subsequent_mask).
//   -> out [B, L, Ev], lse [B, L] (q's dtype) = log sum_j exp(scale q_i . k_j) over allowed j.
//
// A query whose keys are all masked gets NaN output (as PyTorch's softmax of -inf logits) and
// lse = -inf; in the backward such a row contributes nothing (dq row 0, nothing to dk/dv),
// where PyTorch's composition would spread NaN into dk/dv.
// float32 or float64; any strides (made contiguous). CPU: double accumulation, OpenMP over
// rows (the reference); CUDA: kernels/cuda/attention.cu (v1 per row, v2 tiled).
#include <tuple>
#include <utility>

#include "tensor/tensor.h"

namespace fm::kernels {

std::pair<Tensor, Tensor> flash_attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
                                                  bool causal, const Tensor& key_padding_mask);

// -> (dq, dk, dv), deterministic: dq by query row, dk/dv by key column (no atomics).
std::tuple<Tensor, Tensor, Tensor> flash_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                                            const Tensor& out, const Tensor& lse,
                                                            const Tensor& dout, double scale, bool causal,
                                                            const Tensor& key_padding_mask);

// Shape/dtype checks shared by the CPU and CUDA entry points; returns {B, L, S, E, Ev}.
struct AttentionDims {
  int64_t B, L, S, E, Ev;
};
AttentionDims check_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask,
                              const char* op);

}  // namespace fm::kernels
