#pragma once
// Fused normalisation kernels: batch norm over x seen as [N, C, S] (S = the product of the
// spatial dims, 1 for [N, C]) and layer norm over x seen as [M, D] (D = the product of the
// normalised dims). No autograd here (autograd/norm.cpp). Statistics are taken in one pass
// per channel / row (sums of x - shift and its square, shifted by the first element so the
// variance keeps its precision when the mean is large against the spread), accumulated in
// double, with the work split across OpenMP threads.
#include <tuple>
#include <utility>

#include "tensor/tensor.h"

namespace fm::kernels {

// Per channel c of x [N, C, *]: the mean and the biased variance, shape [C], x's dtype.
std::pair<Tensor, Tensor> batch_norm_stats(const Tensor& x);

// y = (x - mean[c]) * invstd[c] * weight[c] + bias[c]; weight and bias may be undefined
// (then 1 and 0). mean, invstd, weight, bias are [C].
Tensor batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                        const Tensor& bias);

// Gradients of batch_norm_apply, given the upstream gradient g (x's shape). training: mean and
// invstd are the batch statistics of x (so they depend on x); otherwise constants (eval mode,
// running statistics). Returns (grad_x, grad_weight, grad_bias); each is computed only when its
// flag is set (undefined otherwise). grad_weight/grad_bias are [C].
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& mean,
                                                       const Tensor& invstd, const Tensor& weight,
                                                       bool training, bool need_x, bool need_weight,
                                                       bool need_bias);

// Layer norm over the last `normalized_dims` dims of x: returns (y, mean [M], rstd [M]) where
// M is the product of the leading dims; weight and bias (the normalised shape, or undefined).
std::tuple<Tensor, Tensor, Tensor> layer_norm(const Tensor& x, int64_t normalized_dims, const Tensor& weight,
                                              const Tensor& bias, double eps);

// (grad_x, grad_weight, grad_bias) of layer_norm given the saved mean and rstd.
std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& mean,
                                                       const Tensor& rstd, const Tensor& weight,
                                                       int64_t normalized_dims, bool need_x, bool need_weight,
                                                       bool need_bias);

}  // namespace fm::kernels
