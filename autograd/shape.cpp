// Differentiable shape ops: forward through kernels/shape.h (or through views and index ops),
// gradient beside it, written with differentiable ops so second derivatives come for free.
#include "autograd/shape.h"

#include <algorithm>
#include <sstream>

#include "autograd/index.h"
#include "autograd/node.h"
#include "autograd/views.h"
#include "kernels/shape.h"
#include "tensor/factory.h"

namespace fm {

using autograd::record;
using autograd::tensor_list;

namespace {

std::string describe_list(const std::vector<Tensor>& ts) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < ts.size(); ++i) os << (i ? ", " : "") << ts[i].describe();
  return os.str() + "]";
}

std::string list_str(const std::vector<int64_t>& v) { return shape_str(v); }

bool is_legacy_empty(const Tensor& t) { return t.dim() == 1 && t.size(0) == 0; }

// Splits x along d into views of the given sizes; one node whose gradient concatenates the
// pieces' gradients (absent ones arrive as zeros).
std::vector<Tensor> split_views(const Tensor& x, const std::vector<int64_t>& sizes, int64_t d) {
  std::vector<Tensor> out;
  int64_t off = 0;
  for (int64_t n : sizes) {
    Shape sz = x.sizes();
    sz[d] = n;
    out.push_back(make_view(x, sz, x.strides(), x.storage_offset() + (n > 0 ? off * x.stride(d) : 0)));
    off += n;
  }
  record("SplitBackward", {x}, out, [d](const tensor_list& g) { return tensor_list{cat(g, d)}; });
  return out;
}

}  // namespace

// ---------------- joining and splitting ----------------

Tensor cat(const std::vector<Tensor>& ts, int64_t dim) {
  FM_CHECK(!ts.empty(), "cat: expected a non-empty list of tensors");
  const Tensor* ref = nullptr;
  DType dt = ts[0].dtype();
  for (const Tensor& t : ts) {
    FM_CHECK(t.defined(), "cat: got an undefined tensor in ", describe_list(ts));
    FM_CHECK(t.dim() > 0, "cat: zero-dimensional tensor ", t.describe(),
             " cannot be concatenated; unsqueeze it or use stack()");
    dt = promote_types(dt, t.dtype());
    if (!ref && !is_legacy_empty(t)) ref = &t;
  }
  if (!ref) ref = &ts[0];
  const int64_t d = wrap_dim(dim, ref->dim(), "cat");
  for (size_t i = 0; i < ts.size(); ++i) {
    const Tensor& t = ts[i];
    FM_CHECK(t.device() == ref->device(), "cat: all tensors must be on the same device; tensor ", i,
             " is ", t.describe(), " but tensor 0 is ", ref->describe());
    if (is_legacy_empty(t) && ref->dim() != 1) continue;
    bool ok = t.dim() == ref->dim();
    for (int64_t k = 0; ok && k < t.dim(); ++k)
      if (k != d && t.size(k) != ref->size(k)) ok = false;
    FM_CHECK(ok, "cat: tensor ", i, " ", t.describe(), " does not match ", ref->describe(),
             " in any dimension but ", dim, " (tensors: ", describe_list(ts), ")");
  }
  Tensor y = kernels::cat(ts, d, dt);
  if (is_floating(dt) && autograd::grad_enabled() && autograd::any_requires_grad(ts)) {
    std::vector<int64_t> lens;
    for (const Tensor& t : ts) lens.push_back(is_legacy_empty(t) && ref->dim() != 1 ? -1 : t.size(d));
    record("CatBackward", ts, {y}, [lens, d](const tensor_list& g) {
      tensor_list out;
      int64_t off = 0;
      for (int64_t n : lens) {
        if (n < 0) {
          out.push_back(Tensor());
          continue;
        }
        out.push_back(narrow(g[0], d, off, n));
        off += n;
      }
      return out;
    });
  }
  return y;
}

Tensor stack(const std::vector<Tensor>& ts, int64_t dim) {
  FM_CHECK(!ts.empty(), "stack: expected a non-empty list of tensors");
  const int64_t d = wrap_dim(dim, ts[0].dim() + 1, "stack");
  std::vector<Tensor> us;
  for (size_t i = 0; i < ts.size(); ++i) {
    FM_CHECK(ts[i].sizes() == ts[0].sizes(), "stack: all tensors must have the same shape; tensor ",
             i, " is ", ts[i].describe(), " but tensor 0 is ", ts[0].describe());
    us.push_back(unsqueeze(ts[i], d));
  }
  return cat(us, d);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  FM_CHECK(x.dim() > 0, "split: cannot split a zero-dimensional tensor ", x.describe());
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  const int64_t n = x.size(d);
  FM_CHECK(split_size > 0 || (split_size == 0 && n == 0), "split: split_size must be positive, got ",
           split_size, " for dimension ", dim, " of ", x.describe());
  std::vector<int64_t> sizes;
  if (n == 0) sizes.push_back(0);
  for (int64_t off = 0; off < n; off += split_size) sizes.push_back(std::min(split_size, n - off));
  return split_views(x, sizes, d);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& split_sizes, int64_t dim) {
  FM_CHECK(x.dim() > 0, "split: cannot split a zero-dimensional tensor ", x.describe());
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : split_sizes) {
    FM_CHECK(s >= 0, "split: sizes must be non-negative, got ", list_str(split_sizes));
    total += s;
  }
  FM_CHECK(total == x.size(d), "split: sizes ", list_str(split_sizes), " sum to ", total,
           " but dimension ", dim, " of ", x.describe(), " has size ", x.size(d));
  return split_views(x, split_sizes, d);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  FM_CHECK(chunks > 0, "chunk: the number of chunks must be positive, got ", chunks);
  FM_CHECK(x.dim() > 0, "chunk: cannot chunk a zero-dimensional tensor ", x.describe());
  const int64_t n = x.size(wrap_dim(dim, x.dim(), "chunk"));
  return split(x, (n + chunks - 1) / chunks, dim);
}

// ---------------- reordering ----------------

Tensor flip(const Tensor& x, const std::vector<int64_t>& dims) {
  std::vector<bool> mask(x.dim(), false);
  std::vector<int64_t> wrapped;
  for (int64_t v : dims) {
    const int64_t d = wrap_dim(v, x.dim(), "flip");
    if (x.dim() == 0) continue;
    FM_CHECK(!mask[d], "flip: dimension ", v, " appears more than once in dims ", list_str(dims),
             " for ", x.describe());
    mask[d] = true;
    wrapped.push_back(d);
  }
  Tensor y = kernels::flip(x, mask);
  if (x.is_floating_point())
    record("FlipBackward", {x}, {y}, [wrapped](const tensor_list& g) { return tensor_list{flip(g[0], wrapped)}; });
  return y;
}

Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims) {
  if (dims.empty()) {
    FM_CHECK(shifts.size() == 1, "roll: without dims, expected exactly one shift (the tensor is "
             "rolled flattened), got ", list_str(shifts), " for ", x.describe());
    return reshape(roll(reshape(x, {-1}), shifts, {0}), x.sizes());
  }
  FM_CHECK(shifts.size() == dims.size(), "roll: got ", shifts.size(), " shifts ", list_str(shifts),
           " but ", dims.size(), " dims ", list_str(dims), " for ", x.describe());
  FM_CHECK(x.dim() > 0, "roll: cannot roll a zero-dimensional tensor along a dim: ", x.describe());
  std::vector<int64_t> wrapped;
  for (int64_t v : dims) wrapped.push_back(wrap_dim(v, x.dim(), "roll"));
  Tensor y = kernels::roll(x, shifts, wrapped);
  if (x.is_floating_point())
    record("RollBackward", {x}, {y}, [shifts, wrapped](const tensor_list& g) {
      std::vector<int64_t> back;
      for (int64_t s : shifts) back.push_back(-s);
      return tensor_list{roll(g[0], back, wrapped)};
    });
  return y;
}

Tensor roll(const Tensor& x, int64_t shift, int64_t dim) {
  return roll(x, std::vector<int64_t>{shift}, std::vector<int64_t>{dim});
}

// ---------------- padding and tiling ----------------

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode, double value) {
  FM_CHECK(pads.size() % 2 == 0, "pad: pads must hold (left, right) pairs, got ", pads.size(),
           " values ", list_str(pads));
  const int64_t npad = static_cast<int64_t>(pads.size()) / 2;
  FM_CHECK(npad <= x.dim(), "pad: ", list_str(pads), " pads ", npad, " dimensions but ",
           x.describe(), " has only ", x.dim());
  FM_CHECK(mode == "constant" || mode == "reflect" || mode == "replicate", "pad: unknown mode '",
           mode, "' (expected 'constant', 'reflect' or 'replicate')");
  // per-dim (before, after), dims counted from the last
  std::vector<std::pair<int64_t, int64_t>> per_dim(x.dim(), {0, 0});
  for (int64_t k = 0; k < npad; ++k) per_dim[x.dim() - 1 - k] = {pads[2 * k], pads[2 * k + 1]};

  if (mode == "constant") {
    for (int64_t d = 0; d < x.dim(); ++d)
      FM_CHECK(x.size(d) + per_dim[d].first + per_dim[d].second >= 0, "pad: padding ", list_str(pads),
               " makes dimension ", d, " of ", x.describe(), " negative in size");
    Tensor y = kernels::pad_constant(x, per_dim, value);
    if (x.is_floating_point())
      record("PadBackward", {x}, {y}, [pads](const tensor_list& g) {
        // the inverse crop (and zero-fill where the forward cropped)
        std::vector<int64_t> back;
        for (int64_t p : pads) back.push_back(-p);
        return tensor_list{pad(g[0], back, "constant", 0.0)};
      });
    return y;
  }
  // reflect / replicate: along each padded dim, an index_select with the mirrored or clamped
  // source positions (its gradient accumulates the repeated positions through index_add)
  const bool reflect = mode == "reflect";
  Tensor y = x;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const auto [before, after] = per_dim[d];
    if (before == 0 && after == 0) continue;
    const int64_t n = x.size(d);
    FM_CHECK(before >= 0 && after >= 0, "pad: ", mode, " padding must be non-negative, got ",
             list_str(pads), " for ", x.describe());
    if (reflect)
      FM_CHECK(before < n && after < n, "pad: reflect padding (", before, ", ", after,
               ") must be smaller than the size ", n, " of dimension ", d, " of ", x.describe());
    else
      FM_CHECK(n > 0, "pad: replicate padding needs a non-empty dimension ", d, " of ", x.describe());
    const int64_t m = n + before + after;
    Tensor idx = empty({m}, {.dtype = DType::Int64});
    int64_t* ip = idx.data_ptr<int64_t>();
    for (int64_t j = 0; j < m; ++j) {
      int64_t i = j - before;
      if (reflect) {
        if (i < 0) i = -i;
        if (i >= n) i = 2 * (n - 1) - i;
      } else {
        i = std::clamp<int64_t>(i, 0, n - 1);
      }
      ip[j] = i;
    }
    y = index_select(y, d, to_raw(idx, DType::Int64, x.device()));
  }
  return y.is_same(x) ? clone(x) : y;
}

Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  const int64_t R = static_cast<int64_t>(repeats.size());
  FM_CHECK(R >= x.dim(), "repeat: the number of repeats ", list_str(repeats),
           " cannot be smaller than the number of dimensions of ", x.describe());
  for (int64_t r : repeats)
    FM_CHECK(r >= 0, "repeat: repeats must be non-negative, got ", list_str(repeats));
  // x as [1, s0, 1, s1, ...], expanded to [r0, s0, r1, s1, ...], copied, merged pairwise; the
  // gradient sums over the r dims (ExpandBackward)
  Shape padded(R - x.dim(), 1);
  for (int64_t v : x.sizes()) padded.push_back(v);
  Shape inter, expanded, out;
  for (int64_t d = 0; d < R; ++d) {
    inter.insert(inter.end(), {1, padded[d]});
    expanded.insert(expanded.end(), {repeats[d], padded[d]});
    out.push_back(repeats[d] * padded[d]);
  }
  return reshape(contiguous(expand(reshape(x, inter), expanded)), out);
}

Tensor tril(const Tensor& x, int64_t diagonal) {
  FM_CHECK(x.dim() >= 2, "tril: expected a tensor of at least 2 dimensions, got ", x.describe());
  Tensor y = kernels::tril_triu(x, diagonal, true);
  if (x.is_floating_point())
    record("TrilBackward", {x}, {y}, [diagonal](const tensor_list& g) { return tensor_list{tril(g[0], diagonal)}; });
  return y;
}

Tensor triu(const Tensor& x, int64_t diagonal) {
  FM_CHECK(x.dim() >= 2, "triu: expected a tensor of at least 2 dimensions, got ", x.describe());
  Tensor y = kernels::tril_triu(x, diagonal, false);
  if (x.is_floating_point())
    record("TriuBackward", {x}, {y}, [diagonal](const tensor_list& g) { return tensor_list{triu(g[0], diagonal)}; });
  return y;
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  FM_CHECK(indices.dtype() == DType::Int64, "one_hot: indices must be int64, got ", indices.describe());
  FM_CHECK(num_classes >= -1, "one_hot: num_classes must be -1 (infer) or non-negative, got ", num_classes);
  return kernels::one_hot(indices, num_classes);
}

}  // namespace fm
