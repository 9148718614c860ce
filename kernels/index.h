#pragma once
// Indexing kernels: select/gather rows or elements by int64 indices, and scatter or accumulate
// them back. No autograd here (autograd/index.cpp). Every index is bounds-checked before any
// memory is touched; the error names the op, the offending value, the size and the shapes.
// Shapes are checked by the callers (autograd/index.cpp); these assume them valid.
#include <string>

#include "tensor/tensor.h"

namespace fm::kernels {

// Throws, naming `op`, when a value of the int64 tensor `index` lies outside [0, size), where
// `size` is the size of dimension `dim`; `context` describes the tensors involved.
void check_index_range(const char* op, const Tensor& index, int64_t size, int64_t dim,
                       const std::string& context);

// out = x with dimension `dim` replaced by x[..., index[k], ...] for each k (index 1-D).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// out[p] = x[p with coordinate dim replaced by index[p]], out.shape = index.shape.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// In place on `out`: out[p with dim replaced by index[p]] = src[p] (or += when accumulate), for
// every position p of index. Duplicate targets: the last write wins / all are summed, in index
// order along dim (deterministic).
void scatter_(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, bool accumulate);
void scatter_value_(const Tensor& out, int64_t dim, const Tensor& index, double value);
// In place on `out`: out[..., index[k], ...] += alpha * src[..., k, ...] (index 1-D).
void index_add_(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, double alpha);

}  // namespace fm::kernels
