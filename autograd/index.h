#pragma once
// Differentiable indexing ops with int64 indices (PyTorch's semantics). Every index value is
// bounds-checked; an error names the op, the value, the size of the indexed dim and the shapes.
// These ops need x to have at least one dimension.
#include "tensor/tensor.h"

namespace fm {

// x with dimension dim replaced by x[..., index[k], ...] for each k; index is 1-D (or 0-D).
// Gradient: index_add into zeros.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// out[i][j][k] = x[i][index[i][j][k]][k] (for dim = 1); index has x's number of dims and is no
// larger than x in the other dims. Gradient: scatter_add into zeros.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// A copy of x with out[i][index[i][j][k]][k] = src[i][j][k] (dim = 1) for every position of
// index (src may be larger than index; its extra elements are unused). With repeated targets
// the last one along dim wins. src must have x's dtype.
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, double value);
// As scatter, but repeated targets are summed into x. Gradient for src: gather.
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// A copy of x with x[..., index[k], ...] += alpha * source[..., k, ...]; index is 1-D (or 0-D),
// source has x's shape except source.size(dim) == index.numel(). Repeated indices accumulate.
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, double alpha = 1);
// torch.nn.functional.embedding: rows of the 2-D weight [num_embeddings, dim] picked by the int64
// indices (any shape), giving indices.shape + [dim]. The row padding_idx receives no gradient;
// a negative padding_idx (the default) means none (unlike PyTorch, where -1 is the last row).
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx = -1);

}  // namespace fm
