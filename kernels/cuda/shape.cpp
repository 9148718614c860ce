// Tensor-level CUDA shape kernels (kernels/cuda/shape.cu): the CPU's output shapes and checks
// (kernels/cpu/shape.cpp), and the output -> input maps of flip, roll, pad and cat built on the
// host, with the dims that map one to one merged where both sides are contiguous across them.
#ifdef FERMATA_WITH_CUDA
#include <algorithm>

#include "kernels/cuda/common.h"
#include "kernels/index.h"
#include "kernels/shape.h"

namespace fm::kernels::cuda {

namespace {

// One dim of a ShapeMap before merging.
struct DimMap {
  int64_t size = 1, out_stride = 0, in_stride = 0, shift = 0, in_size = 1;
  bool wrap = false;
  // every output coordinate maps to the same input coordinate, all inside the input
  bool plain() const { return shift == 0 && !wrap && in_size >= size; }
};

// Drops plain dims of size 1, merges plain neighbours that are one run in both tensors.
ShapeMap make_map(const std::vector<DimMap>& dims, int64_t in_base, const char* op) {
  std::vector<DimMap> m;
  for (const DimMap& d : dims) {
    if (d.size == 1 && d.plain()) continue;
    if (!m.empty() && d.plain() && m.back().plain() && m.back().out_stride == d.out_stride * d.size &&
        m.back().in_stride == d.in_stride * d.size) {
      DimMap& b = m.back();
      b.size *= d.size;
      b.in_size = b.size;
      b.out_stride = d.out_stride;
      b.in_stride = d.in_stride;
      continue;
    }
    m.push_back(d);
  }
  FM_CHECK(static_cast<int>(m.size()) <= cuda_geom::kMaxDims, op, ": the CUDA kernels index at most ",
           cuda_geom::kMaxDims, " dims after merging contiguous ones; this layout needs ", m.size());
  ShapeMap g;
  g.ndim = static_cast<int>(m.size());
  g.in_base = in_base;
  for (int d = 0; d < g.ndim; ++d) {
    g.size[d] = m[d].size;
    g.out_stride[d] = m[d].out_stride;
    g.in_stride[d] = m[d].in_stride;
    g.shift[d] = m[d].shift;
    g.in_size[d] = m[d].in_size;
    if (m[d].wrap) g.wrap |= 1u << d;
  }
  return g;
}

// Identity dims of x written into out (same shape; any strides of either).
std::vector<DimMap> identity_dims(const Tensor& out, const Tensor& x) {
  std::vector<DimMap> dims(static_cast<size_t>(x.dim()));
  for (int64_t d = 0; d < x.dim(); ++d)
    dims[d] = {.size = x.size(d), .out_stride = out.stride(d), .in_stride = x.stride(d), .in_size = x.size(d)};
  return dims;
}

// Runs the map from x into out (n output elements, out's data at `at` elements past its start).
void run_map(const char* op, const Tensor& out, int64_t at, const Tensor& x, const ShapeMap& m, int64_t n,
             double fill, int dev) {
  CudaDeviceGuard guard(dev);
  dispatch_all(out.dtype(), op, [&]<class T>() {
    launch_shape_map<T>(ptr<T>(out) + at, ptr<const T>(x), m, n, static_cast<T>(fill), variant(),
                        cuda_current_stream(dev));
  });
}

}  // namespace

Tensor cat(const std::vector<Tensor>& ts, int64_t dim, DType dtype) {
  const char* op = "cat";
  FM_CHECK(!ts.empty(), "cat: expected a non-empty list of tensors");
  // the shape comes from the first tensor that is not an empty 1-D [0] tensor (as on the CPU)
  const Tensor* ref = &ts[0];
  for (const Tensor& t : ts)
    if (!(t.dim() == 1 && t.size(0) == 0)) {
      ref = &t;
      break;
    }
  const int dev = same_cuda_device(op, {ref});
  for (const Tensor& t : ts) same_cuda_device(op, {&t, ref});
  FM_CHECK(dim >= 0 && dim < ref->dim(), op, ": dimension ", dim, " is out of range for ", ref->describe());
  auto skipped = [&](const Tensor& t) { return t.dim() == 1 && t.size(0) == 0 && ref->dim() != 1; };
  Shape out_shape = ref->sizes();
  int64_t total = 0;
  for (const Tensor& t : ts) {
    if (skipped(t)) continue;
    FM_CHECK(t.dim() == ref->dim(), op, ": tensor ", t.describe(), " does not match ", ref->describe());
    total += t.size(dim);
  }
  out_shape[dim] = total;
  Tensor out = empty(out_shape, {.dtype = dtype, .device = ref->device()});
  if (out.numel() == 0) return out;
  struct Part {
    Tensor t;
    int64_t off;
  };
  std::vector<Part> parts;
  bool one_launch = variant() == Variant::V2;
  int64_t off = 0, max_numel = 0;
  for (const Tensor& t : ts) {
    if (skipped(t)) continue;
    const int64_t n = t.size(dim);
    if (n > 0 && t.numel() > 0) {
      parts.push_back({t, off});
      one_launch = one_launch && t.dtype() == dtype && t.is_contiguous();
      max_numel = std::max(max_numel, t.numel());
    }
    off += n;
  }
  one_launch = one_launch && parts.size() <= 65535;
  CudaDeviceGuard guard(dev);
  const cudaStream_t s = cuda_current_stream(dev);
  if (one_launch) {
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < dim; ++d) outer *= out_shape[d];
    for (int64_t d = dim + 1; d < out.dim(); ++d) inner *= out_shape[d];
    std::vector<int64_t> host;
    for (const Part& p : parts) {
      const auto bits = static_cast<int64_t>(reinterpret_cast<uintptr_t>(p.t.raw_data()));
      host.insert(host.end(), {bits, p.t.size(dim), p.off});
    }
    Tensor table = empty({static_cast<int64_t>(host.size())}, {.dtype = DType::Int64, .device = out.device()});
    // pageable source: the call returns once the data is staged, so `host` may go
    cuda_copy_async(table.raw_data(), host.data(), host.size() * sizeof(int64_t), s);
    dispatch_all(dtype, op, [&]<class T>() {
      launch_cat<T>(ptr<T>(out), ptr<const int64_t>(table), static_cast<int64_t>(parts.size()), max_numel, outer,
                    total, inner, s);
    });
    return out;
  }
  for (const Part& p : parts) {
    const Tensor src = p.t.dtype() == dtype ? p.t : to_raw(p.t, dtype, p.t.device());
    const ShapeMap m = make_map(identity_dims(out, src), 0, op);
    run_map(op, out, p.off * out.stride(dim), src, m, src.numel(), 0, dev);
  }
  return out;
}

Tensor flip(const Tensor& x, const std::vector<bool>& flip) {
  const char* op = "flip";
  const int dev = same_cuda_device(op, {&x});
  FM_CHECK(static_cast<int64_t>(flip.size()) == x.dim(), op, ": expected one flag per dimension of ", x.describe(),
           ", got ", flip.size());
  Tensor out = empty(x.sizes(), {.dtype = x.dtype(), .device = x.device()});
  if (x.numel() == 0) return out;
  std::vector<DimMap> dims = identity_dims(out, x);
  int64_t base = 0;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (flip[d]) {
      base += (x.size(d) - 1) * x.stride(d);
      dims[d].in_stride = -x.stride(d);
    }
  run_map(op, out, 0, x, make_map(dims, base, op), x.numel(), 0, dev);
  return out;
}

Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims) {
  const char* op = "roll";
  const int dev = same_cuda_device(op, {&x});
  FM_CHECK(dims.empty() || shifts.size() == dims.size(), op, ": got ", shifts.size(), " shifts but ", dims.size(),
           " dims for ", x.describe());
  Tensor out = empty(x.sizes(), {.dtype = x.dtype(), .device = x.device()});
  if (x.numel() == 0) return out;
  std::vector<DimMap> m = identity_dims(out, x);
  // out[(c + s) mod n] = x[c], so x's coordinate is c - s wrapped; rolls of one dim add up
  for (size_t k = 0; k < dims.size(); ++k) {
    const int64_t d = dims[k];
    FM_CHECK(d >= 0 && d < x.dim(), op, ": dimension ", d, " is out of range for ", x.describe());
    const int64_t n = x.size(d);
    m[d].shift = (m[d].shift + ((shifts[k] % n) + n) % n) % n;
  }
  for (DimMap& d : m) d.wrap = d.shift != 0;
  run_map(op, out, 0, x, make_map(m, 0, op), x.numel(), 0, dev);
  return out;
}

Tensor pad_constant(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& pads, double value) {
  const char* op = "pad";
  const int dev = same_cuda_device(op, {&x});
  FM_CHECK(static_cast<int64_t>(pads.size()) == x.dim(), op, ": expected one (before, after) pair per dimension of ",
           x.describe(), ", got ", pads.size());
  Shape out_shape = x.sizes();
  for (int64_t d = 0; d < x.dim(); ++d) {
    out_shape[d] += pads[d].first + pads[d].second;
    FM_CHECK(out_shape[d] >= 0, op, ": padding (", pads[d].first, ", ", pads[d].second, ") makes dimension ", d,
             " of ", x.describe(), " negative in size");
  }
  Tensor out = empty(out_shape, {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() == 0) return out;
  std::vector<DimMap> dims(static_cast<size_t>(x.dim()));
  for (int64_t d = 0; d < x.dim(); ++d)
    dims[d] = {.size = out_shape[d], .out_stride = out.stride(d), .in_stride = x.stride(d), .shift = pads[d].first,
               .in_size = x.size(d)};
  run_map(op, out, 0, x, make_map(dims, 0, op), out.numel(), value, dev);
  return out;
}

Tensor tril_triu(const Tensor& x0, int64_t diagonal, bool lower) {
  const char* op = lower ? "tril" : "triu";
  const int dev = same_cuda_device(op, {&x0});
  FM_CHECK(x0.dim() >= 2, op, ": expected a tensor of at least 2 dimensions, got ", x0.describe());
  const Tensor x = contiguous_raw(x0);
  Tensor out = empty(x.sizes(), {.dtype = x.dtype(), .device = x.device()});
  if (x.numel() == 0) return out;
  CudaDeviceGuard guard(dev);
  dispatch_all(x.dtype(), op, [&]<class T>() {
    launch_tril_triu<T>(ptr<T>(out), ptr<const T>(x), x.numel(), x.size(-2), x.size(-1), diagonal, lower,
                        cuda_current_stream(dev));
  });
  return out;
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  const char* op = "one_hot";
  const int dev = same_cuda_device(op, {&indices});
  FM_CHECK(indices.dtype() == DType::Int64, op, ": indices must be int64, got ", indices.describe());
  const Tensor idx = contiguous_raw(indices);
  const int64_t n = idx.numel();
  if (num_classes < 0) {
    FM_CHECK(n > 0, "one_hot: cannot infer the number of classes from an empty tensor ", indices.describe(),
             "; pass num_classes");
    num_classes = index_min_max(op, idx).second + 1;
  }
  cuda::check_index_range(op, idx, num_classes, -1,
                          "indices " + indices.describe() + ", num_classes " + std::to_string(num_classes));
  Shape out_shape = indices.sizes();
  out_shape.push_back(num_classes);
  Tensor out = empty(out_shape, {.dtype = DType::Int64, .device = indices.device()});
  if (out.numel() == 0) return out;
  CudaDeviceGuard guard(dev);
  launch_one_hot(ptr<int64_t>(out), ptr<const int64_t>(idx), n, num_classes, cuda_current_stream(dev));
  return out;
}

Tensor unfold_backward(const Tensor& grad, const Shape& input_sizes, int64_t dim, int64_t size, int64_t step) {
  const char* op = "unfold_backward";
  const int dev = same_cuda_device(op, {&grad});
  FM_CHECK(is_floating(grad.dtype()), op, ": expected a float32 or float64 gradient, got ", grad.describe());
  const int64_t nd = static_cast<int64_t>(input_sizes.size());
  FM_CHECK((nd == 0 && dim == 0) || (dim >= 0 && dim < nd), op, ": dimension ", dim, " is out of range for ",
           shape_str(input_sizes));
  // input as [outer, n, inner], grad as [outer, windows, inner, size]; a 0-dim input is one
  // element seen as [1, 1, 1]
  const int64_t n = nd == 0 ? 1 : input_sizes[dim];
  FM_CHECK(size >= 0 && size <= n && step > 0, op, ": window size ", size, " and step ", step,
           " do not fit dimension ", dim, " of size ", n, " of ", shape_str(input_sizes));
  Shape expected = nd == 0 ? Shape{1} : input_sizes;
  const int64_t windows = (n - size) / step + 1;
  expected[dim] = windows;
  expected.push_back(size);
  FM_CHECK(grad.sizes() == expected, op, ": expected a gradient of shape ", shape_str(expected), " (input ",
           shape_str(input_sizes), ".unfold(", dim, ", ", size, ", ", step, ")), got ", grad.describe());
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < dim; ++i) outer *= input_sizes[i];
  for (int64_t i = dim + 1; i < nd; ++i) inner *= input_sizes[i];
  Tensor out = empty(input_sizes, {.dtype = grad.dtype(), .device = grad.device()});
  if (out.numel() == 0) return out;
  const Tensor g = contiguous_raw(grad);
  CudaDeviceGuard guard(dev);
  dispatch_floating(grad.dtype(), op, [&]<class T>() {
    launch_unfold_backward<T>(ptr<T>(out), ptr<const T>(g), outer, n, inner, windows, size, step, variant(),
                              cuda_current_stream(dev));
  });
  return out;
}

}  // namespace fm::kernels::cuda
#endif
