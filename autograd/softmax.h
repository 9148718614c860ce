#pragma once
#include "tensor/tensor.h"

namespace fm {

// Numerically stable over any dim (the max is subtracted), differentiable twice.
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace fm
