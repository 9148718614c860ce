#pragma once
// Kernels behind the shape ops of autograd/shape.h: concatenation, flips, rolls, constant
// padding, triangular masks and one-hot encoding. No autograd here; the callers check shapes
// and dims, these check what only they can see (index values).
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace fm::kernels {

// Concatenates `ts` (same shape except along dim, already checked) along `dim` into a new
// contiguous tensor of dtype `dtype` (inputs of another dtype are converted).
Tensor cat(const std::vector<Tensor>& ts, int64_t dim, DType dtype);
// A contiguous copy of x reversed along every dim d with flip[d].
Tensor flip(const Tensor& x, const std::vector<bool>& flip);
// A contiguous copy of x rolled by shifts[k] along dims[k] (dims wrapped, shifts any sign).
Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims);
// x padded along every dim d by pads[d] = (before, after) elements of `value`; negative pads
// crop. Every resulting size must be non-negative (checked by the caller).
Tensor pad_constant(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& pads, double value);
// Lower (tril) or upper (triu) triangle of the last two dims; the rest is zero.
Tensor tril_triu(const Tensor& x, int64_t diagonal, bool lower);
// int64 tensor of shape indices.sizes() + [num_classes]; num_classes < 0 infers max + 1.
Tensor one_hot(const Tensor& indices, int64_t num_classes);
// The gradient of x.unfold(dim, size, step) (PyTorch's unfold_backward): a contiguous tensor
// of shape input_sizes where grad[..., w, ..., k] (w along dim, k the trailing window index)
// is added at position w * step + k of dim. Overlapping windows sum, gaps stay zero. grad
// has unfold's output shape (checked by the caller); float32 or float64.
Tensor unfold_backward(const Tensor& grad, const Shape& input_sizes, int64_t dim, int64_t size, int64_t step);

}  // namespace fm::kernels
