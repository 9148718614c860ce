#include "tensor/tensor.h"

#include <cmath>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "tensor/strided_loop.h"

namespace fm {

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t v : s) n *= v;
  return n;
}

Shape contiguous_strides(const Shape& sizes) {
  Shape st(sizes.size());
  int64_t acc = 1;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    st[d] = acc;
    acc *= std::max<int64_t>(sizes[d], 1);
  }
  return st;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  FM_CHECK(dim >= lo && dim <= hi, op, ": dimension ", dim, " is out of range for a tensor of ",
           ndim, " dimension(s) (expected a value in [", lo, ", ", hi, "])");
  return dim < 0 ? dim + std::max<int64_t>(ndim, 1) : dim;
}

int64_t Tensor::size(int64_t d) const { return sizes()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // no elements: any strides describe them (as in PyTorch)
  const auto& sz = sizes();
  const auto& st = strides();
  int64_t expect = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (sz[d] != 1 && st[d] != expect) return false;
    expect *= sz[d];
  }
  return true;
}

void* Tensor::raw_data() const {
  const TensorImpl& t = checked();
  if (!t.storage->data) return nullptr;
  return static_cast<char*>(t.storage->data) + t.offset * static_cast<int64_t>(element_size());
}

Tensor& Tensor::requires_grad_(bool on) {
  TensorImpl& t = const_cast<TensorImpl&>(checked());
  FM_CHECK(!on || is_floating(t.dtype), "requires_grad_: only floating-point tensors can require "
           "gradients, got ", describe());
  FM_CHECK(t.grad_fn == nullptr || on, "requires_grad_: cannot turn off requires_grad of a "
           "non-leaf tensor; use detach()");
  t.requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return Tensor(checked().grad); }

void Tensor::set_grad(const Tensor& g) const {
  TensorImpl& t = const_cast<TensorImpl&>(checked());
  if (g.defined())
    FM_CHECK(g.sizes() == t.sizes, "set_grad: gradient shape ", shape_str(g.sizes()),
             " does not match tensor shape ", shape_str(t.sizes));
  t.grad = g.impl_ptr();
}

Tensor Tensor::detach() const {
  const TensorImpl& t = checked();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage;
  impl->sizes = t.sizes;
  impl->strides = t.strides;
  impl->offset = t.offset;
  impl->dtype = t.dtype;
  return Tensor(impl);
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  std::ostringstream os;
  os << dtype() << shape_str(sizes()) << " on " << device();
  return os.str();
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = contiguous_raw(to_raw(*this, dtype_of<T>::value, Device::cpu()));
  const T* p = c.data_ptr<T>();
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<bool> Tensor::to_vector<bool>() const;

template <class T>
T Tensor::item() const {
  FM_CHECK(numel() == 1, "item: expected a tensor with one element, got ", describe());
  return to_vector<T>()[0];
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;
template bool Tensor::item<bool>() const;

// ---------------- raw construction ----------------

Tensor empty(const Shape& sizes, Options o) {
  for (int64_t s : sizes)
    FM_CHECK(s >= 0, "empty: negative dimension in shape ", shape_str(sizes));
  auto impl = std::make_shared<TensorImpl>();
  const int64_t n = shape_numel(sizes);
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(n) * element_size(o.dtype), o.device);
  impl->sizes = sizes;
  impl->strides = contiguous_strides(sizes);
  impl->dtype = o.dtype;
  Tensor t(impl);
  if (o.requires_grad) t.requires_grad_(true);
  return t;
}

Tensor make_view(const Tensor& base, Shape sizes, Shape strides, int64_t offset) {
  FM_CHECK(sizes.size() == strides.size(), "view: ", sizes.size(), " sizes but ", strides.size(),
           " strides");
  // bounds: the smallest and largest element addressed must lie inside the storage
  int64_t lo = offset, hi = offset;
  bool empty_view = false;
  for (size_t d = 0; d < sizes.size(); ++d) {
    FM_CHECK(sizes[d] >= 0, "view: negative size in ", shape_str(sizes));
    if (sizes[d] == 0) empty_view = true;
    const int64_t span = (sizes[d] - 1) * strides[d];
    if (span > 0) hi += span; else lo += span;
  }
  const int64_t cap =
      static_cast<int64_t>(base.impl()->storage->nbytes / base.element_size());
  FM_CHECK(empty_view || (lo >= 0 && hi < cap), "view: geometry sizes ", shape_str(sizes),
           " strides ", shape_str(strides), " offset ", offset, " reaches outside a storage of ",
           cap, " elements");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->sizes = std::move(sizes);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  impl->is_view = true;
  return Tensor(impl);
}

namespace {

template <class D, class S>
void convert_loop(const Tensor& dst, const Tensor& src) {
  for_each_strided<2>(dst.sizes(), {byte_ptr(dst), byte_ptr(src)}, byte_strides_of<2>({&dst, &src}),
                      [](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
                        if (s[0] == sizeof(D) && s[1] == sizeof(S)) {
                          D* d = reinterpret_cast<D*>(p[0]);
                          const S* x = reinterpret_cast<const S*>(p[1]);
                          for (int64_t i = 0; i < n; ++i) d[i] = static_cast<D>(x[i]);
                        } else {
                          for (int64_t i = 0; i < n; ++i)
                            *reinterpret_cast<D*>(p[0] + i * s[0]) =
                                static_cast<D>(*reinterpret_cast<const S*>(p[1] + i * s[1]));
                        }
                      });
}

// A copy whose layout is a transpose (after merging dims: the destination's rows are
// contiguous and the source's columns are) walks 32x32 tiles, so both sides stay in cache;
// the plain strided loop would read the source a cache line per element.
template <class T>
bool transpose_copy(const Tensor& dst, const Tensor& src) {
  const StridedLayout<2> L = coalesce<2>(dst.sizes(), byte_strides_of<2>({&dst, &src}));
  constexpr int64_t es = sizeof(T), B = 32;
  if (L.sizes.size() != 2 || L.strides[0][1] != es || L.strides[1][0] != es) return false;
  const int64_t rows = L.sizes[0], cols = L.sizes[1];
  if (rows * cols < 4096) return false;
  const int64_t ds = L.strides[0][0] / es, ss = L.strides[1][1] / es;
  T* d = static_cast<T*>(dst.raw_data());
  const T* x = static_cast<const T*>(src.raw_data());
  const int64_t row_blocks = (rows + B - 1) / B;
#pragma omp parallel for if (rows * cols >= kParallelGrain) schedule(static)
  for (int64_t rb = 0; rb < row_blocks; ++rb) {
    const int64_t r0 = rb * B, r1 = std::min(rows, r0 + B);
    for (int64_t c0 = 0; c0 < cols; c0 += B) {
      const int64_t c1 = std::min(cols, c0 + B);
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) d[r * ds + c] = x[r + c * ss];
    }
  }
  return true;
}

void copy_cpu(const Tensor& dst, const Tensor& src) {
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    std::memcpy(dst.raw_data(), src.raw_data(), dst.numel() * dst.element_size());
    return;
  }
  if (dst.dtype() == src.dtype()) {
    bool done = false;
    dispatch_all(dst.dtype(), "copy", [&]<class T>() { done = transpose_copy<T>(dst, src); });
    if (done) return;
  }
  FM_DISPATCH_ALL(dst.dtype(), "copy", [&] {
    using D = scalar_t;
    FM_DISPATCH_ALL(src.dtype(), "copy", [&] { convert_loop<D, scalar_t>(dst, src); });
  });
}

}  // namespace

// Defined in tensor/cuda_copy.cu: dst = src (any strides, any dtypes) on one CUDA device.
void cuda_copy_strided(const Tensor& dst, const Tensor& src);

void copy_into(const Tensor& dst, const Tensor& src) {
  FM_CHECK(dst.sizes() == src.sizes(), "copy_: destination ", dst.describe(), " and source ",
           src.describe(), " must have the same shape");
  if (dst.numel() == 0) return;
  if (dst.device().is_cpu() && src.device().is_cpu()) {
    copy_cpu(dst, src);
    return;
  }
#ifdef FERMATA_WITH_CUDA
  if (dst.device() == src.device()) {
    cuda_copy_strided(dst, src);
    return;
  }
#endif
  // Across devices: bring the source into dst's layout on its own device, then move bytes.
  Tensor s = src;
  if (s.dtype() != dst.dtype() || !s.is_contiguous()) {
    Tensor tmp = empty(s.sizes(), {.dtype = dst.dtype(), .device = s.device()});
    if (s.device().is_cpu()) {
      copy_cpu(tmp, s);
    } else {
#ifdef FERMATA_WITH_CUDA
      cuda_copy_strided(tmp, s);
#else
      fail("copy_: converting dtype or layout on ", s.device(), " needs the CUDA backend");
#endif
    }
    s = tmp;
  }
  if (dst.is_contiguous()) {
    copy_bytes(dst.raw_data(), dst.device(), s.raw_data(), s.device(), dst.numel() * dst.element_size());
  } else {
    Tensor tmp = empty(s.sizes(), {.dtype = dst.dtype(), .device = dst.device()});
    copy_bytes(tmp.raw_data(), tmp.device(), s.raw_data(), s.device(), tmp.numel() * tmp.element_size());
    if (dst.device().is_cpu()) {
      copy_cpu(dst, tmp);
    } else {
#ifdef FERMATA_WITH_CUDA
      cuda_copy_strided(dst, tmp);
#else
      fail("copy_: writing into a non-contiguous tensor on ", dst.device(), " needs the CUDA backend");
#endif
    }
  }
}

Tensor contiguous_raw(const Tensor& t, bool force) {
  if (t.is_contiguous() && !force) return t;
  Tensor out = empty(t.sizes(), {.dtype = t.dtype(), .device = t.device()});
  copy_into(out, t);
  return out;
}

Tensor to_raw(const Tensor& t, DType dtype, Device device) {
  if (t.dtype() == dtype && t.device() == device) return t;
  Tensor out = empty(t.sizes(), {.dtype = dtype, .device = device});
  copy_into(out, t);
  return out;
}

// ---------------- printing ----------------

namespace {

void print_rec(std::ostream& os, const std::vector<double>& v, const Shape& sz, size_t d,
               int64_t& pos, int indent, DType dt, int prec, bool sci) {
  if (d == sz.size()) {
    const double x = v[pos++];
    if (dt == DType::Bool) os << (x != 0 ? "True" : "False");
    else if (dt == DType::Int64) os << static_cast<int64_t>(x);
    else if (std::isnan(x)) os << "nan";
    else if (std::isinf(x)) os << (x > 0 ? "inf" : "-inf");
    else if (sci) os << std::scientific << std::setprecision(prec) << x;
    else os << std::fixed << std::setprecision(prec) << x;
    return;
  }
  os << "[";
  const int64_t n = sz[d];
  const bool elide = n > 6;
  for (int64_t i = 0; i < n; ++i) {
    if (elide && i == 3) {
      // skip the middle, advancing pos past it
      int64_t inner = 1;
      for (size_t k = d + 1; k < sz.size(); ++k) inner *= sz[k];
      pos += (n - 6) * inner;
      i = n - 3;
      os << (d + 1 == sz.size() ? "..., " : "...,\n" + std::string(indent + 1, ' '));
    }
    if (i > 0 && !(elide && i == n - 3)) {
      os << ",";
      if (d + 1 == sz.size()) os << " ";
      else os << std::string(sz.size() - d - 1, '\n') << std::string(indent + 1, ' ');
    }
    print_rec(os, v, sz, d + 1, pos, indent + 1, dt, prec, sci);
  }
  os << "]";
}

}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "tensor(undefined)";
  std::vector<double> v = to_vector<double>();
  bool sci = false;
  double mx = 0, mn = INFINITY;
  for (double x : v)
    if (std::isfinite(x) && x != 0) {
      mx = std::max(mx, std::abs(x));
      mn = std::min(mn, std::abs(x));
    }
  if (mx >= 1e8 || (mn < 1e-4 && mn > 0)) sci = true;
  std::ostringstream os;
  os << "tensor(";
  int64_t pos = 0;
  print_rec(os, v, sizes(), 0, pos, 7, dtype(), 4, sci);
  if (dtype() != DType::Float32) os << ", dtype=" << dtype();
  if (!device().is_cpu()) os << ", device='" << device() << "'";
  if (requires_grad()) os << (grad_fn() ? ", grad_fn" : ", requires_grad=True");
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda") return cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    try {
      size_t used = 0;
      const int i = std::stoi(s.substr(5), &used);
      if (used == s.size() - 5 && i >= 0) return cuda(i);
    } catch (const std::exception&) {
    }
  }
  fail("Device::parse: '", s, "' is not a device (expected cpu, cuda or cuda:N)");
}

}  // namespace fm
