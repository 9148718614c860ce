#pragma once
// Differentiable shape ops: joining, splitting, flipping, rolling, padding, repeating and
// triangular masks (PyTorch's semantics). split/chunk return views that share storage with
// their input; every other op returns a new tensor.
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace fm {

// Joins tensors of equal shape (except along dim) along an existing dim. The result has the
// promoted dtype of the inputs. A 1-D tensor of size 0 is skipped, as in PyTorch.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Joins tensors of equal shape along a new dim.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Views of consecutive pieces along dim: of `split_size` each (the last may be smaller), or of
// the given sizes (which must sum to the size of dim). Note: split(x, {n}) with one braced value
// picks the split_size overload.
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& split_sizes, int64_t dim = 0);
// `chunks` views of ceil(size / chunks) along dim (fewer when the size runs out, as in PyTorch).
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
// Reverses the order of elements along each of dims.
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims);
// Rolls elements by shifts[k] along dims[k] (wrapping around). With no dims, the tensor is
// rolled as if flattened (shifts must then hold one value).
Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims = {});
Tensor roll(const Tensor& x, int64_t shift, int64_t dim);
// torch.nn.functional.pad: `pads` holds (left, right) pairs starting from the last dim:
// {l_last, r_last, l_second_last, r_second_last, ...}. mode "constant" fills with `value`
// (negative pads crop), "reflect" mirrors without repeating the edge (pads < size), and
// "replicate" repeats the edge value.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode = "constant",
           double value = 0);
// Tiles x repeats[d] times along each dim (repeats may have more entries than x has dims:
// x is then treated as having leading size-1 dims).
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats);
// Lower / upper triangle of the last two dims (elements with col - row <= diagonal, resp.
// >= diagonal); the rest is zero.
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);
// int64 one-hot encoding with a new last dim of num_classes (-1: max index + 1). No gradient.
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);

}  // namespace fm
