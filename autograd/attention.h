#pragma once
// Differentiable building blocks of attention (used by layers/attention.h and
// layers/transformer.h):
//   batched_matmul  — a GEMM per batch matrix on strided views, so per-head views such as
//                     [N, H, L, hd] permuted out of a [L, N, E] projection need no copy;
//   dot_product_attention — softmax(scale * Q K^T + mask) V, with dropout on the weights;
//   scaled_dot_product_attention — the same, fused (FlashAttention), output only;
//   relative_logits / relative_logits_naive — Music Transformer's relative-position logits
//                     (Huang et al. 2018), by the "skewing" procedure and by a direct gather.
#include <optional>
#include <utility>

#include "tensor/philox.h"
#include "tensor/tensor.h"

namespace fm {

// alpha * a[..., m, k] @ b[..., k, n] -> [..., m, n] (contiguous). a and b have the same batch
// dims (any number, possibly none; a stride-0 batch dim from expand() is fine); no
// broadcasting beyond that. Each batch matrix is handed to BLAS through its strides: row- or
// column-major matrices (unit stride in one of the last two dims) are never copied, whatever
// the batch strides. Gradients use the same op, so it is twice differentiable.
Tensor batched_matmul(const Tensor& a, const Tensor& b, double alpha = 1);
// bias + alpha * a @ b (PyTorch's baddbmm with beta = 1, any batch dims): bias broadcasts to
// [..., m, n] and is copied into the result, onto which the GEMMs accumulate.
Tensor batched_addmm(const Tensor& bias, const Tensor& a, const Tensor& b, double alpha = 1);

struct DotProductAttentionOptions {
  // Broadcastable to [..., L, S]. bool: true = may NOT attend (nn.MultiheadAttention's
  // convention; note that PyTorch 2's F.scaled_dot_product_attention uses the opposite one);
  // floating: added to the scaled logits (-inf masks).
  Tensor mask = Tensor();
  double dropout = 0;      // on the attention weights, in training only
  bool training = true;
  std::optional<double> scale = std::nullopt;  // default 1/sqrt(E)
  Generator* gen = nullptr;     // dropout's generator (the default one when null)
};

// q [..., L, E], k [..., S, E], v [..., S, Ev] -> (output [..., L, Ev], weights [..., L, S]).
// weights = dropout(softmax(scale * q k^T + mask)), as PyTorch 1.13 computes them (the
// returned weights are those after dropout). A row whose keys are all masked gives NaN, as in
// PyTorch. The scale is folded into the GEMM (no extra pass).
std::pair<Tensor, Tensor> dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                                const DotProductAttentionOptions& o = {});

struct ScaledDotProductAttentionOptions {
  bool causal = false;  // query i sees keys j <= i (top-left aligned, as causal_mask(L, S))
  // bool, broadcastable to q's batch dims + [S] (e.g. [N, 1, S] for q [N, H, L, E]); true = this
  // key is ignored (nn.MultiheadAttention's key_padding_mask convention). Not differentiated.
  Tensor key_padding_mask = Tensor();
  std::optional<double> scale = std::nullopt;  // default 1/sqrt(E)
};

// Fused softmax(scale * q k^T + masks) v (kernels/attention.h: FlashAttention's online softmax,
// the [L, S] weights never stored, the backward recomputing them from each row's log-sum-exp).
// q [..., L, E], k [..., S, E], v [..., S, Ev] with the same batch dims (flattened to B) ->
// output [..., L, Ev]. Equals dot_product_attention's output without dropout, with the causal
// and/or key-padding bool masks. A row whose keys are all masked gives NaN (as PyTorch); its
// gradient contributions are zero (not NaN). First derivatives run the fused backward kernels;
// under create_graph the gradient is composed of differentiable ops (twice differentiable).
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const ScaledDotProductAttentionOptions& o = {});

// ----- Music Transformer relative attention (Huang et al. 2018, section 3.4) -----
// q: [..., L, D] queries; rel: the relative embeddings E_r for exactly the distances this
// length needs, [R, D] shared by every batch matrix, or [..., R, D] with q's batch dims (e.g.
// one table per head, broadcast over the batch with expand()):
//   causal:        R = L,      row r <-> distance r - (L - 1), i.e. -(L-1) .. 0
//   bidirectional: R = 2L - 1, row r <-> distance r - (L - 1), i.e. -(L-1) .. L-1
// (distance = key position - query position). Returns S_rel [..., L, L] with
//   S_rel[i][j] = alpha * q_i . E_r[(L - 1) + j - i]
// for every j <= i (causal) or every j (bidirectional). In the causal case the entries j > i
// hold unrelated values and must be masked (as the causal mask does anyway).
//
// relative_logits computes Q E_r^T ([..., L, R], O(L*R) per matrix) and "skews" it:
//   causal:        pad one zero column on the left -> [L, L+1], reshape to [L+1, L], drop the
//                  first row                                         -> [L, L]
//   bidirectional: pad one zero column on the left -> [L, 2L], reshape to [2L, L], drop the
//                  first row -> [2L-1, L], reshape to [L, 2L-1], keep the first L columns.
// Only the padded copy is materialised (the reshapes and slices are views), so the extra
// memory is O(L^2) per head instead of the O(L^2 * D) of gathering an embedding per pair.
Tensor relative_logits(const Tensor& q, const Tensor& rel, bool causal, double alpha = 1);
// The same by the definition: gathers E_r[(L-1) + j - i] for every pair (i, j) into an
// [L, L, D] tensor (O(L^2 * D) memory) and takes the dot products. Entries j > i of the causal
// case use distance 0 (they are masked). The reference the skewing is tested against.
Tensor relative_logits_naive(const Tensor& q, const Tensor& rel, bool causal, double alpha = 1);

// bool [L, S]: true where j > i + diagonal offset 0, i.e. the future keys a causal query may
// not see (PyTorch's generate_square_subsequent_mask as a bool mask).
Tensor causal_mask(int64_t L, int64_t S = -1, Device device = Device());

}  // namespace fm
