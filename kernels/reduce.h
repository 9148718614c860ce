#pragma once
// Reductions over any set of dimensions. No autograd here (autograd/reduce.cpp).
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace fm::kernels {

enum class ReduceOp { Sum, Max, Min, Prod };

// Normalises `dims` (negative, empty = all) into a sorted, de-duplicated mask of length ndim.
std::vector<bool> reduction_mask(const std::vector<int64_t>& dims, int64_t ndim, const char* op);
// The shape after reducing the masked dims, with or without keeping them as size 1.
Shape reduced_shape(const Shape& in, const std::vector<bool>& mask, bool keepdim);

// Sum/Max/Min/Prod over the masked dims. Float sums accumulate in double.
Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<bool>& mask, bool keepdim);
// Max or Min over one dim: values and int64 indices (the first index of the extreme value;
// NaN counts as the extreme, as in PyTorch).
std::pair<Tensor, Tensor> reduce_with_index(ReduceOp op, const Tensor& x, int64_t dim, bool keepdim);

}  // namespace fm::kernels
