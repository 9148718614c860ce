#pragma once
// Fused NT-Xent (SimCLR's normalised temperature-scaled cross-entropy) over z [2N, D], the two
// views stacked (row i's positive is i + N for i < N, i - N otherwise). No autograd here
// (layers/loss.cpp's nt_xent_loss records it). The [2N, 2N] similarity matrix is never stored:
// both directions recompute the similarities row by row (CPU) or tile by tile (CUDA).
#include <tuple>

#include "tensor/tensor.h"

namespace fm::kernels {

// With c_i = max(||z_i||, 1e-12), u_i = z_i / c_i, s_ij = u_i . u_j / temperature:
//   lse_i = log sum_{j != i} exp(s_ij),  loss = mean_i (lse_i - s_{i, pos(i)}).
// Returns (loss [] , lse [2N], inv_norms [2N] = 1 / c_i), all of z's dtype. z may be strided.
std::tuple<Tensor, Tensor, Tensor> nt_xent_forward(const Tensor& z, double temperature);

// dloss/dz [2N, D] for the upstream gradient grad_loss (a one-element tensor), from the
// forward's lse and inverse norms. With M = 2N, P_ij = exp(s_ij - lse_i) (j != i) and
// G_ij = (g / M) (P_ij - [j = pos(i)]) (the gradient w.r.t. s_ij), s being symmetric:
//   dL/du_k = (1 / tau) sum_j (G_kj + G_jk) u_j
//           = g / (M tau) * ( sum_{j != k} (P_kj + P_jk) u_j - 2 u_{pos(k)} )
// (row k's own softmax, and column k of every other row's; pos(pos(k)) = k), then through
// u = z / c:  dL/dz_k = (dL/du_k - u_k (u_k . dL/du_k)) / c_k  where ||z_k|| > 1e-12, and
// dL/du_k / c_k where the norm is clamped (the clamp has no gradient there). The row pass
// computes each s_kj once and uses it for both P_kj and P_jk, so no column pass and no atomics
// are needed.
Tensor nt_xent_backward(const Tensor& z, const Tensor& lse, const Tensor& inv_norms, double temperature,
                        const Tensor& grad_loss);

}  // namespace fm::kernels
