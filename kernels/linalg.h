#pragma once
// Matrix products on raw tensors (no autograd): OpenBLAS sgemm/dgemm on the CPU. Transposed
// operands (a column-major view such as x.t()) are passed to BLAS as transposed, not copied.
#include "tensor/tensor.h"

namespace fm::kernels {

// out[m, n] = beta * out + alpha * a[m, k] @ b[k, n]; out must be contiguous.
void mm_into(const Tensor& out, const Tensor& a, const Tensor& b, double alpha = 1, double beta = 0);
Tensor mm(const Tensor& a, const Tensor& b);
// a[B, m, k] @ b[B, k, n]
Tensor bmm(const Tensor& a, const Tensor& b);

}  // namespace fm::kernels
