// Differentiable indexing ops: forward through kernels/index.h, gradient beside it, written
// with differentiable ops (gather <-> scatter_add, index_select <-> index_add) so second
// derivatives come for free.
#include "autograd/index.h"

#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "kernels/index.h"
#include "tensor/factory.h"

namespace fm {

using autograd::record;
using autograd::save;
using autograd::tensor_list;

namespace {

std::string ctx(const Tensor& x, const Tensor& index) {
  return "self " + x.describe() + ", index " + index.describe();
}
std::string ctx(const Tensor& x, const Tensor& index, const char* src_name, const Tensor& src) {
  return ctx(x, index) + ", " + src_name + " " + src.describe();
}

void check_index_dtype(const char* op, const Tensor& index) {
  FM_CHECK(index.defined() && index.dtype() == DType::Int64, op, ": index must be an int64 tensor, got ",
           index.describe());
}

void check_has_dims(const char* op, const Tensor& x) {
  FM_CHECK(x.dim() > 0, op, ": expected a tensor with at least one dimension, got ", x.describe());
}

// gather/scatter shape rules: index has x's (and src's) number of dims, and is no larger than
// src anywhere and than x outside dim.
void check_scatter_shapes(const char* op, const Tensor& x, int64_t d, const Tensor& index, const Tensor* src) {
  const std::string c = src ? ctx(x, index, "src", *src) : ctx(x, index);
  FM_CHECK(index.dim() == x.dim(), op, ": index must have as many dimensions as self (", c, ")");
  if (src) FM_CHECK(src->dim() == x.dim(), op, ": src must have as many dimensions as self (", c, ")");
  for (int64_t k = 0; k < x.dim(); ++k) {
    FM_CHECK(k == d || index.size(k) <= x.size(k), op, ": index size ", index.size(k),
             " exceeds self size ", x.size(k), " in dimension ", k, " (expected index.size(k) <= "
             "self.size(k) for every k != dim ", d, "; ", c, ")");
    if (src)
      FM_CHECK(index.size(k) <= src->size(k), op, ": index size ", index.size(k), " exceeds src size ",
               src->size(k), " in dimension ", k, " (", c, ")");
  }
  if (src)
    FM_CHECK(src->dtype() == x.dtype(), op, ": src dtype ", src->dtype(), " must match self dtype ",
             x.dtype(), " (", c, ")");
}

// Zero-pads t at the end of each dim up to `shape` (the gradient of src elements scatter never read).
Tensor pad_to(const Tensor& t, const Shape& shape) {
  if (t.sizes() == shape) return t;
  std::vector<int64_t> pads;
  for (int64_t d = t.dim() - 1; d >= 0; --d) pads.insert(pads.end(), {0, shape[d] - t.size(d)});
  return pad(t, pads, "constant", 0.0);
}

Tensor zeros_of(const Shape& s, const Tensor& like) {
  return zeros(s, {.dtype = like.dtype(), .device = like.device()});
}

// scatter / scatter_add with a tensor src.
Tensor scatter_impl(const char* op, const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                    bool accumulate) {
  check_has_dims(op, x);
  check_index_dtype(op, index);
  const int64_t d = wrap_dim(dim, x.dim(), op);
  check_scatter_shapes(op, x, d, index, &src);
  kernels::check_index_range(op, index, x.size(d), d, ctx(x, index, "src", src));
  Tensor y = contiguous_raw(x, /*force=*/true);
  kernels::scatter_(y, d, index, src, accumulate);
  if (x.is_floating_point())
    record(accumulate ? "ScatterAddBackward" : "ScatterBackward", {x, src}, {y},
           [si = save(index), d, ss = src.sizes(), accumulate](const tensor_list& g) {
             const Tensor idx = si.unpack();
             const Tensor gx = accumulate ? g[0] : scatter(g[0], d, idx, 0.0);
             return tensor_list{gx, pad_to(gather(g[0], d, idx), ss)};
           });
  return y;
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_has_dims("index_select", x);
  check_index_dtype("index_select", index);
  FM_CHECK(index.dim() <= 1, "index_select: index must be 1-D or 0-D, got ", index.describe(),
           " (self ", x.describe(), ")");
  const int64_t d = wrap_dim(dim, x.dim(), "index_select");
  kernels::check_index_range("index_select", index, x.size(d), d, ctx(x, index));
  Tensor y = kernels::index_select(x, d, index);
  if (x.is_floating_point())
    record("IndexSelectBackward", {x}, {y}, [si = save(index), d, xs = x.sizes()](const tensor_list& g) {
      return tensor_list{index_add(zeros_of(xs, g[0]), d, si.unpack(), g[0])};
    });
  return y;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check_has_dims("gather", x);
  check_index_dtype("gather", index);
  const int64_t d = wrap_dim(dim, x.dim(), "gather");
  check_scatter_shapes("gather", x, d, index, nullptr);
  kernels::check_index_range("gather", index, x.size(d), d, ctx(x, index));
  Tensor y = kernels::gather(x, d, index);
  if (x.is_floating_point())
    record("GatherBackward", {x}, {y}, [si = save(index), d, xs = x.sizes()](const tensor_list& g) {
      return tensor_list{scatter_add(zeros_of(xs, g[0]), d, si.unpack(), g[0])};
    });
  return y;
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_impl("scatter", x, dim, index, src, false);
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_impl("scatter_add", x, dim, index, src, true);
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, double value) {
  check_has_dims("scatter", x);
  check_index_dtype("scatter", index);
  const int64_t d = wrap_dim(dim, x.dim(), "scatter");
  check_scatter_shapes("scatter", x, d, index, nullptr);
  kernels::check_index_range("scatter", index, x.size(d), d, ctx(x, index));
  Tensor y = contiguous_raw(x, /*force=*/true);
  kernels::scatter_value_(y, d, index, value);
  if (x.is_floating_point())
    record("ScatterBackward", {x}, {y}, [si = save(index), d](const tensor_list& g) {
      return tensor_list{scatter(g[0], d, si.unpack(), 0.0)};
    });
  return y;
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, double alpha) {
  check_has_dims("index_add", x);
  check_index_dtype("index_add", index);
  const std::string c = ctx(x, index, "source", source);
  FM_CHECK(index.dim() <= 1, "index_add: index must be 1-D or 0-D (", c, ")");
  const int64_t d = wrap_dim(dim, x.dim(), "index_add");
  FM_CHECK(source.dtype() == x.dtype(), "index_add: source dtype ", source.dtype(),
           " must match self dtype ", x.dtype(), " (", c, ")");
  bool ok = source.dim() == x.dim() && source.size(d) == index.numel();
  for (int64_t k = 0; ok && k < x.dim(); ++k)
    if (k != d && source.size(k) != x.size(k)) ok = false;
  FM_CHECK(ok, "index_add: source must have self's shape with dimension ", d,
           " of size index.numel() = ", index.numel(), " (", c, ")");
  kernels::check_index_range("index_add", index, x.size(d), d, c);
  Tensor y = contiguous_raw(x, /*force=*/true);
  kernels::index_add_(y, d, index, source, alpha);
  if (x.is_floating_point())
    record("IndexAddBackward", {x, source}, {y}, [si = save(index), d, alpha](const tensor_list& g) {
      Tensor gs = index_select(g[0], d, si.unpack());
      return tensor_list{g[0], alpha == 1 ? gs : mul(gs, alpha)};
    });
  return y;
}

Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx) {
  FM_CHECK(weight.dim() == 2, "embedding: weight must be 2-D [num_embeddings, embedding_dim], got ",
           weight.describe());
  check_index_dtype("embedding", indices);
  const int64_t V = weight.size(0), D = weight.size(1);
  FM_CHECK(padding_idx < V, "embedding: padding_idx ", padding_idx, " must be smaller than the ",
           V, " rows of weight ", weight.describe());
  const Tensor flat = contiguous_raw(indices).detach();
  Tensor flat1 = make_view(flat, {flat.numel()}, {1}, flat.storage_offset());
  kernels::check_index_range("embedding", flat1, V, 0,
                             "weight " + weight.describe() + ", indices " + indices.describe());
  Tensor y = kernels::index_select(weight, 0, flat1);
  // [K, D] -> indices.shape + [D]; y is fresh and contiguous, so only its geometry changes
  Shape out_shape = indices.sizes();
  out_shape.push_back(D);
  y.impl()->sizes = out_shape;
  y.impl()->strides = contiguous_strides(out_shape);
  if (weight.is_floating_point())
    record("EmbeddingBackward", {weight}, {y},
           [si = save(flat1), V, D, padding_idx](const tensor_list& g) {
             const Tensor idx = si.unpack();
             Tensor g2 = reshape(g[0], {-1, D});
             if (padding_idx >= 0) g2 = masked_fill(g2, unsqueeze(eq(idx, static_cast<double>(padding_idx)), 1), 0.0);
             // repeated indices accumulate in index_add
             return tensor_list{index_add(zeros({V, D}, {.dtype = g2.dtype(), .device = g2.device()}), 0, idx, g2)};
           });
  return y;
}

}  // namespace fm
