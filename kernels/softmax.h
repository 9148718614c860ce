#pragma once
#include "tensor/tensor.h"

namespace fm::kernels {

// Numerically stable softmax / log_softmax along `dim` (max subtracted per slice).
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// Fused gradients: softmax: y * (g - sum(g * y)); log_softmax: g - exp(y) * sum(g).
Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t dim);
Tensor log_softmax_backward(const Tensor& g, const Tensor& y, int64_t dim);

}  // namespace fm::kernels
