#pragma once
// Differentiable matrix products (OpenBLAS on the CPU).
#include <optional>

#include "tensor/tensor.h"

namespace fm {

Tensor mm(const Tensor& a, const Tensor& b);   // [m,k] @ [k,n]
Tensor bmm(const Tensor& a, const Tensor& b);  // [B,m,k] @ [B,k,n]
// NumPy/PyTorch matmul: 1-D operands are promoted and squeezed, batch dims broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
// beta * bias + alpha * (a @ b); bias broadcasts to [m, n].
Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, double beta = 1, double alpha = 1);
// x[..., in] @ weight[out, in]^T + bias[out] (torch.nn.functional.linear)
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
Tensor dot(const Tensor& a, const Tensor& b);
Tensor outer(const Tensor& a, const Tensor& b);

}  // namespace fm
