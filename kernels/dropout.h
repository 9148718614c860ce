#pragma once
// Inverted dropout on raw memory (no autograd: autograd/dropout.cpp).
#include <cstdint>
#include <utility>

#include "tensor/tensor.h"

namespace fm::kernels {

// Element i (row-major over x's shape) is kept when uniform_float(lane i%4 of Philox block
// base + i/4 of `seed`) < 1 - p, the rule of fm::bernoulli. Returns {y, mask}: mask (x's dtype,
// contiguous) is 1/(1-p) where kept and 0 elsewhere, and y = x * mask. Needs 0 <= p < 1.
std::pair<Tensor, Tensor> dropout(const Tensor& x, double p, uint64_t seed, uint64_t base);

}  // namespace fm::kernels
