#pragma once
// Differentiable views and conversions. Views share storage with their input (and its version
// counter); their gradients are the inverse geometry.
#include <vector>

#include "tensor/tensor.h"

namespace fm {

// -1 in `shape` is inferred. view() requires a compatible layout; reshape() copies if needed.
Tensor view(const Tensor& x, Shape shape);
Tensor reshape(const Tensor& x, Shape shape);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor t(const Tensor& x);  // 2-D transpose
Tensor movedim(const Tensor& x, int64_t source, int64_t destination);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// Python's x[start:end:step] along dim; negative start/end count from the end and clamp.
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor expand(const Tensor& x, Shape sizes);  // -1 keeps a size
Tensor expand_as(const Tensor& x, const Tensor& other);
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
// Sliding windows of `size` every `step` along dim, as a new last dimension (PyTorch's unfold).
Tensor unfold(const Tensor& x, int64_t dim, int64_t size, int64_t step);
// unfold's gradient (PyTorch's unfold_backward): overlap-adds grad, shaped like
// x.unfold(dim, size, step) for an x of shape input_sizes, into a tensor of shape input_sizes
// in one pass. Differentiable: its own gradient is unfold again.
Tensor unfold_backward(const Tensor& grad, const Shape& input_sizes, int64_t dim, int64_t size, int64_t step);
Tensor diagonal(const Tensor& x, int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1);

Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
Tensor to(const Tensor& x, DType dtype);
Tensor to(const Tensor& x, Device device);
Tensor to(const Tensor& x, DType dtype, Device device);

// Sums a broadcast gradient back down to `shape` (the inverse of expand).
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace fm
