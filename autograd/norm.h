#pragma once
// Batch normalisation and layer normalisation, as torch.nn.functional.batch_norm/layer_norm.
// Forward and backward run on fused kernels (kernels/norm.h); when the gradient itself must
// be differentiable (create_graph), the backward is recorded as the same formula in
// differentiable ops, so second derivatives work.
#include "tensor/tensor.h"

namespace fm {

// x: [N, C], [N, C, L] or [N, C, H, W] (any [N, C, *]); running_mean/running_var, weight, bias:
// [C] or undefined.
// training (or no running statistics): normalises with the batch statistics over every dim but
//   C (biased variance), and, when running statistics are given, updates them in place:
//   running_mean = (1 - momentum) * running_mean + momentum * mean,
//   running_var  = (1 - momentum) * running_var  + momentum * unbiased variance.
// eval: normalises with running_mean/running_var (which must then be given).
// y = (x - mean) / sqrt(var + eps) * weight + bias. Gradients flow to x, weight and bias.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), bool training = false,
                  double momentum = 0.1, double eps = 1e-5);

// Normalises over the trailing dims given by normalized_shape (they must equal x's last
// dims); weight and bias have normalized_shape (or are undefined). Biased variance.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

}  // namespace fm
