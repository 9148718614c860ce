#pragma once
// Fused cross-entropy over rows: x [N, C] contiguous logits, class indices t [N] (already
// validated, ignored entries mapped to any valid class) and per-row weights wt [N] (0 for
// ignored rows). No autograd here (layers/loss.cpp).
#include <utility>

#include "tensor/tensor.h"

namespace fm::kernels {

// loss[i] = wt[i] * (logsumexp(x[i, :]) - x[i, t[i]]); also returns lse [N] for the backward.
std::pair<Tensor, Tensor> cross_entropy_rows(const Tensor& x, const Tensor& t, const Tensor& wt);

// grad[i, c] = g[i] * wt[i] * (exp(x[i, c] - lse[i]) - (c == t[i])).
Tensor cross_entropy_rows_backward(const Tensor& g, const Tensor& x, const Tensor& t, const Tensor& wt,
                                   const Tensor& lse);

}  // namespace fm::kernels
