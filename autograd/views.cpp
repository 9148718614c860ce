#include "autograd/views.h"

#include <numeric>

#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "kernels/elementwise.h"
#include "kernels/shape.h"
#include "tensor/factory.h"

namespace fm {

using autograd::record;
using autograd::tensor_list;

namespace {

Shape infer_shape(Shape shape, int64_t numel, const char* op, const Tensor& x) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      FM_CHECK(infer < 0, op, ": only one dimension can be -1 in ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      FM_CHECK(shape[i] >= 0, op, ": invalid size ", shape[i], " in ", shape_str(shape));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    FM_CHECK(known != 0 && numel % known == 0, op, ": shape ", shape_str(shape),
             " is invalid for ", x.describe());
    shape[infer] = numel / known;
  }
  FM_CHECK(shape_numel(shape) == numel, op, ": shape ", shape_str(shape), " is invalid for ",
           x.describe(), " (", numel, " elements)");
  return shape;
}

// Strides for viewing x at `shape` without a copy, if possible (PyTorch's computeStride).
bool view_strides(const Tensor& x, const Shape& shape, Shape& out) {
  const Shape& os = x.sizes();
  const Shape& ot = x.strides();
  out.assign(shape.size(), 0);
  if (x.numel() == 0) {
    out = contiguous_strides(shape);
    return true;
  }
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = ot.empty() ? 1 : ot.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t td = static_cast<int64_t>(os.size()) - 1; td >= 0; --td) {
    tensor_numel *= os[td];
    if (td == 0 || (os[td - 1] != 1 && ot[td - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (td > 0) {
        chunk_base_stride = ot[td - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) {
    // remaining size-1 dims
    while (view_d >= 0) {
      if (shape[view_d] != 1) return false;
      out[view_d] = 1;
      --view_d;
    }
  }
  return true;
}

// Gradient of a strided view: a zero tensor of the base's shape with g written where the view
// looked. Differentiable (its gradient is the same view of the incoming gradient).
Tensor view_scatter(const Tensor& g, const Shape& base_sizes, const Shape& strides, int64_t offset) {
  Tensor out = zeros(base_sizes, {.dtype = g.dtype(), .device = g.device()});
  copy_into(make_view(out, g.sizes(), strides, offset), g);
  record("ViewScatterBackward", {g}, {out}, [strides, offset, gs = g.sizes()](const tensor_list& gg) {
    Tensor c = contiguous(gg[0]);
    return tensor_list{contiguous(make_view(c, gs, strides, offset))};
  });
  return out;
}

// Records a view op whose gradient scatters back. The view's geometry is given twice: its
// real strides over x's storage (already in y), and `cstrides`/`coffset`, the same view taken of
// a contiguous tensor of x's shape, where the gradient is assembled. So views of
// non-contiguous tensors are true views and still get exact gradients.
Tensor finish_view(const char* name, const Tensor& x, Tensor y, Shape cstrides, int64_t coffset) {
  if (!autograd::grad_enabled() || !x.requires_grad()) return y;
  record(name, {x}, {y}, [xs = x.sizes(), cstrides = std::move(cstrides), coffset](const tensor_list& g) {
    return tensor_list{view_scatter(g[0], xs, cstrides, coffset)};
  });
  return y;
}

}  // namespace

Tensor view(const Tensor& x, Shape shape) {
  shape = infer_shape(std::move(shape), x.numel(), "view", x);
  Shape st;
  FM_CHECK(view_strides(x, shape, st), "view: ", x.describe(), " with strides ",
           shape_str(x.strides()), " cannot be viewed as ", shape_str(shape),
           " without a copy; use reshape()");
  Tensor y = make_view(x, shape, st, x.storage_offset());
  const Shape xs = x.sizes();
  record("ViewBackward", {x}, {y}, [xs](const tensor_list& g) { return tensor_list{reshape(g[0], xs)}; });
  return y;
}

Tensor reshape(const Tensor& x, Shape shape) {
  shape = infer_shape(std::move(shape), x.numel(), "reshape", x);
  Shape st;
  if (view_strides(x, shape, st)) return view(x, shape);
  return view(contiguous(x), shape);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  const int64_t s = wrap_dim(start_dim, x.dim(), "flatten"), e = wrap_dim(end_dim, x.dim(), "flatten");
  FM_CHECK(s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape shape;
  for (int64_t d = 0; d < s; ++d) shape.push_back(x.size(d));
  int64_t m = 1;
  for (int64_t d = s; d <= e; ++d) m *= x.size(d);
  shape.push_back(m);
  for (int64_t d = e + 1; d < x.dim(); ++d) shape.push_back(x.size(d));
  return reshape(x, shape);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t nd = x.dim();
  FM_CHECK(static_cast<int64_t>(dims.size()) == nd, "permute: got ", dims.size(),
           " dims for ", x.describe());
  std::vector<int64_t> p(nd), inv(nd);
  std::vector<bool> seen(nd, false);
  Shape sz(nd), st(nd);
  for (int64_t i = 0; i < nd; ++i) {
    p[i] = wrap_dim(dims[i], nd, "permute");
    FM_CHECK(!seen[p[i]], "permute: dimension ", dims[i], " repeats in the permutation");
    seen[p[i]] = true;
    sz[i] = x.size(p[i]);
    st[i] = x.stride(p[i]);
    inv[p[i]] = i;
  }
  Tensor y = make_view(x, sz, st, x.storage_offset());
  record("PermuteBackward", {x}, {y}, [inv](const tensor_list& g) { return tensor_list{permute(g[0], inv)}; });
  return y;
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  const int64_t nd = x.dim();
  if (nd == 0) return view(x, {});
  std::vector<int64_t> p(nd);
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[wrap_dim(d0, nd, "transpose")], p[wrap_dim(d1, nd, "transpose")]);
  return permute(x, p);
}

Tensor t(const Tensor& x) {
  FM_CHECK(x.dim() <= 2, "t: expects a tensor of at most 2 dimensions, got ", x.describe());
  return x.dim() < 2 ? x : transpose(x, 0, 1);
}

Tensor movedim(const Tensor& x, int64_t source, int64_t destination) {
  const int64_t nd = x.dim();
  const int64_t s = wrap_dim(source, nd, "movedim"), d = wrap_dim(destination, nd, "movedim");
  std::vector<int64_t> order;
  for (int64_t i = 0; i < nd; ++i)
    if (i != s) order.push_back(i);
  order.insert(order.begin() + d, s);
  return permute(x, order);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  FM_CHECK(x.dim() > 0, "slice: cannot slice a 0-dim tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "slice");
  FM_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t n = x.size(d);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape sz = x.sizes(), st = x.strides(), cst = contiguous_strides(x.sizes());
  sz[d] = (end - start + step - 1) / step;
  st[d] *= step;
  const int64_t coffset = start * cst[d];
  cst[d] *= step;
  Tensor y = make_view(x, sz, st, x.storage_offset() + start * x.stride(d));
  return finish_view("SliceBackward", x, y, cst, coffset);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  const int64_t d = wrap_dim(dim, x.dim(), "narrow");
  if (start < 0) start += x.size(d);
  FM_CHECK(start >= 0 && length >= 0 && start + length <= x.size(d), "narrow: start ", start,
           " and length ", length, " are out of range for dimension ", dim, " of ", x.describe());
  return slice(x, d, start, start + length, 1);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  const int64_t d = wrap_dim(dim, x.dim(), "select");
  const int64_t n = x.size(d);
  FM_CHECK(index >= -n && index < n, "select: index ", index, " is out of range for dimension ",
           dim, " of ", x.describe());
  if (index < 0) index += n;
  return squeeze(narrow(x, d, index, 1), d);
}

Tensor expand(const Tensor& x, Shape sizes) {
  const int64_t nd = static_cast<int64_t>(sizes.size());
  FM_CHECK(nd >= x.dim(), "expand: cannot expand ", x.describe(), " to fewer dimensions ",
           shape_str(sizes));
  Shape st(nd, 0);
  const int64_t off = nd - x.dim();
  for (int64_t i = 0; i < nd; ++i) {
    if (i < off) {
      FM_CHECK(sizes[i] >= 0, "expand: size -1 is not allowed for a new leading dimension");
      continue;
    }
    const int64_t xs = x.size(i - off);
    if (sizes[i] == -1) sizes[i] = xs;
    FM_CHECK(xs == sizes[i] || xs == 1, "expand: the size of dimension ", i - off, " of ",
             x.describe(), " (", xs, ") must match the expanded size ", sizes[i], " or be 1");
    st[i] = xs == sizes[i] ? x.stride(i - off) : 0;
  }
  Tensor y = make_view(x, sizes, st, x.storage_offset());
  const Shape xs = x.sizes();
  record("ExpandBackward", {x}, {y}, [xs](const tensor_list& g) { return tensor_list{sum_to(g[0], xs)}; });
  return y;
}

Tensor expand_as(const Tensor& x, const Tensor& other) { return expand(x, other.sizes()); }

Tensor squeeze(const Tensor& x) {
  Shape s;
  for (int64_t v : x.sizes())
    if (v != 1) s.push_back(v);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  if (x.dim() == 0) return view(x, {});
  const int64_t d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.size(d) != 1) return view(x, x.sizes());
  Shape s = x.sizes(), st = x.strides();
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  Tensor y = make_view(x, s, st, x.storage_offset());
  const Shape xs = x.sizes();
  record("SqueezeBackward", {x}, {y}, [xs](const tensor_list& g) { return tensor_list{reshape(g[0], xs)}; });
  return y;
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape s = x.sizes(), st = x.strides();
  const int64_t new_stride = d < x.dim() ? x.stride(d) * x.size(d) : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, new_stride);
  Tensor y = make_view(x, s, st, x.storage_offset());
  record("UnsqueezeBackward", {x}, {y}, [d](const tensor_list& g) { return tensor_list{squeeze(g[0], d)}; });
  return y;
}

Tensor unfold(const Tensor& x, int64_t dim, int64_t size, int64_t step) {
  const int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), "unfold");
  const int64_t n = x.dim() == 0 ? 1 : x.size(d);
  FM_CHECK(size >= 0 && size <= n, "unfold: window size ", size, " exceeds dimension ", dim,
           " of ", x.describe());
  FM_CHECK(step > 0, "unfold: step must be positive, got ", step);
  Shape s = x.sizes(), st = x.strides();
  const int64_t windows = (n - size) / step + 1;
  const int64_t dstride = x.dim() == 0 ? 1 : x.stride(d);
  if (x.dim() == 0) {
    s = {windows};
    st = {step};
  } else {
    s[d] = windows;
    st[d] = dstride * step;
  }
  s.push_back(size);
  st.push_back(dstride);
  Tensor y = make_view(x, s, st, x.storage_offset());
  if (!autograd::grad_enabled() || !x.requires_grad()) return y;
  const Shape xs = x.sizes();
  record("UnfoldBackward", {x}, {y}, [xs, d, size, step](const tensor_list& g) {
    return tensor_list{unfold_backward(g[0], xs, d, size, step)};
  });
  return y;
}

Tensor unfold_backward(const Tensor& grad, const Shape& input_sizes, int64_t dim, int64_t size, int64_t step) {
  const int64_t nd = static_cast<int64_t>(input_sizes.size());
  const int64_t d = nd == 0 ? 0 : wrap_dim(dim, nd, "unfold_backward");
  const int64_t n = nd == 0 ? 1 : input_sizes[d];
  FM_CHECK(size >= 0 && size <= n && step > 0, "unfold_backward: window size ", size, " and step ", step,
           " do not fit dimension ", dim, " of size ", n, " of ", shape_str(input_sizes));
  Shape expected = input_sizes;
  if (nd == 0) expected = {1};
  expected[d] = (n - size) / step + 1;
  expected.push_back(size);
  FM_CHECK(grad.sizes() == expected, "unfold_backward: expected a gradient of shape ", shape_str(expected),
           " (input ", shape_str(input_sizes), ".unfold(", dim, ", ", size, ", ", step, ")), got ",
           grad.describe());
  Tensor out = kernels::unfold_backward(grad, input_sizes, d, size, step);
  record("UnfoldBackwardBackward", {grad}, {out},
         [d, size, step](const tensor_list& g) { return tensor_list{unfold(g[0], d, size, step)}; });
  return out;
}

Tensor diagonal(const Tensor& x, int64_t offset, int64_t dim1, int64_t dim2) {
  const int64_t d1 = wrap_dim(dim1, x.dim(), "diagonal"), d2 = wrap_dim(dim2, x.dim(), "diagonal");
  FM_CHECK(d1 != d2, "diagonal: dim1 and dim2 must differ");
  const int64_t len = offset >= 0 ? std::max<int64_t>(0, std::min(x.size(d1), x.size(d2) - offset))
                                   : std::max<int64_t>(0, std::min(x.size(d1) + offset, x.size(d2)));
  // the same geometry over x's strides (the view) and over contiguous strides (the gradient)
  auto geometry = [&](const Shape& strides, Shape& st) {
    st.clear();
    for (int64_t i = 0; i < x.dim(); ++i)
      if (i != d1 && i != d2) st.push_back(strides[i]);
    st.push_back(strides[d1] + strides[d2]);
    const int64_t start = offset >= 0 ? offset * strides[d2] : -offset * strides[d1];
    return len ? start : 0;
  };
  Shape s;
  for (int64_t i = 0; i < x.dim(); ++i)
    if (i != d1 && i != d2) s.push_back(x.size(i));
  s.push_back(len);
  Shape st, cst;
  const int64_t start = geometry(x.strides(), st);
  const int64_t cstart = geometry(contiguous_strides(x.sizes()), cst);
  Tensor y = make_view(x, s, st, x.storage_offset() + start);
  return finish_view("DiagonalBackward", x, y, cst, cstart);
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return clone(x);
}

Tensor clone(const Tensor& x) {
  Tensor y = contiguous_raw(x, /*force=*/true);
  record("CloneBackward", {x}, {y}, [](const tensor_list& g) { return tensor_list{g[0]}; });
  return y;
}

Tensor to(const Tensor& x, DType dtype, Device device) {
  if (x.dtype() == dtype && x.device() == device) return x;
  Tensor y = to_raw(x, dtype, device);
  if (is_floating(dtype)) {
    const DType xd = x.dtype();
    const Device xdev = x.device();
    record("ToBackward", {x}, {y}, [xd, xdev](const tensor_list& g) { return tensor_list{to(g[0], xd, xdev)}; });
  }
  return y;
}
Tensor to(const Tensor& x, DType dtype) { return to(x, dtype, x.device()); }
Tensor to(const Tensor& x, Device device) { return to(x, x.dtype(), device); }

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.sizes() == shape) return x;
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  FM_CHECK(lead >= 0, "sum_to: cannot sum ", x.describe(), " to the larger shape ", shape_str(shape));
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && x.size(d) != 1)) dims.push_back(d);
  Tensor r = dims.empty() ? x : sum(x, dims, /*keepdim=*/true);
  return reshape(r, shape);
}

}  // namespace fm
