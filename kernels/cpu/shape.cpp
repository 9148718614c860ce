// CPU shape kernels. Most are copies between strided views (copy_into runs the strided loop:
// OpenMP, coalesced dims, memcpy when both sides are contiguous); the triangle and one-hot
// kernels are row loops of their own.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "kernels/index.h"
#include "kernels/shape.h"
#include "tensor/factory.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

namespace {

// x[..., start:start+length, ...] along d, as a raw view (no autograd).
Tensor raw_narrow(const Tensor& x, int64_t d, int64_t start, int64_t length) {
  Shape sz = x.sizes();
  sz[d] = length;
  return make_view(x, sz, x.strides(), x.storage_offset() + (length > 0 ? start * x.stride(d) : 0));
}

}  // namespace

Tensor cat(const std::vector<Tensor>& ts, int64_t dim, DType dtype) {
  FM_CHECK(!ts.empty(), "cat: expected a non-empty list of tensors");
  FM_CUDA_DISPATCH(std::any_of(ts.begin(), ts.end(), [](const Tensor& t) { return cuda::any_cuda({&t}); }),
                   cuda::cat(ts, dim, dtype));
  // the shape comes from the first tensor that is not an empty 1-D [0] tensor (PyTorch skips
  // those in cat, for code that starts from torch.tensor([]) and appends)
  const Tensor* ref = &ts[0];
  for (const Tensor& t : ts)
    if (!(t.dim() == 1 && t.size(0) == 0)) {
      ref = &t;
      break;
    }
  Shape out_shape = ref->sizes();
  int64_t total = 0;
  for (const Tensor& t : ts) {
    require_cpu("cat", {&t});
    if (t.dim() == 1 && t.size(0) == 0 && ref->dim() != 1) continue;
    total += t.size(dim);
  }
  out_shape[dim] = total;
  Tensor out = empty(out_shape, {.dtype = dtype, .device = ref->device()});
  int64_t off = 0;
  for (const Tensor& t : ts) {
    if (t.dim() == 1 && t.size(0) == 0 && ref->dim() != 1) continue;
    const int64_t n = t.size(dim);
    if (n > 0 && t.numel() > 0) copy_into(raw_narrow(out, dim, off, n), t);
    off += n;
  }
  return out;
}

Tensor flip(const Tensor& x, const std::vector<bool>& flip) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x}), cuda::flip(x, flip));
  require_cpu("flip", {&x});
  Shape st = x.strides();
  int64_t offset = x.storage_offset();
  if (x.numel() > 0)
    for (int64_t d = 0; d < x.dim(); ++d)
      if (flip[d]) {
        offset += (x.size(d) - 1) * st[d];
        st[d] = -st[d];
      }
  // a view walking x backwards along the flipped dims; copying it is the flip
  return contiguous_raw(make_view(x, x.sizes(), st, offset), /*force=*/true);
}

Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x}), cuda::roll(x, shifts, dims));
  require_cpu("roll", {&x});
  Tensor cur = x;
  for (size_t k = 0; k < dims.size(); ++k) {
    const int64_t d = dims[k], n = cur.size(d);
    Tensor out = empty(cur.sizes(), {.dtype = cur.dtype(), .device = cur.device()});
    const int64_t s = n == 0 ? 0 : ((shifts[k] % n) + n) % n;
    if (s == 0) {
      copy_into(out, cur);
    } else {
      copy_into(raw_narrow(out, d, s, n - s), raw_narrow(cur, d, 0, n - s));
      copy_into(raw_narrow(out, d, 0, s), raw_narrow(cur, d, n - s, s));
    }
    cur = out;
  }
  return dims.empty() ? contiguous_raw(x, true) : cur;
}

Tensor pad_constant(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& pads, double value) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x}), cuda::pad_constant(x, pads, value));
  require_cpu("pad", {&x});
  Shape out_shape = x.sizes();
  for (int64_t d = 0; d < x.dim(); ++d) out_shape[d] += pads[d].first + pads[d].second;
  Tensor out = empty(out_shape, {.dtype = x.dtype(), .device = x.device()});
  fill(out, value);
  // the part of x that survives cropping, and where it lands in out
  Tensor src = x, dst = out;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const int64_t before = pads[d].first, after = pads[d].second;
    const int64_t start = std::max<int64_t>(0, -before);
    const int64_t len = x.size(d) - start - std::max<int64_t>(0, -after);
    if (len <= 0) return out;
    src = raw_narrow(src, d, start, len);
    dst = raw_narrow(dst, d, std::max<int64_t>(0, before), len);
  }
  copy_into(dst, src);
  return out;
}

Tensor tril_triu(const Tensor& x, int64_t diagonal, bool lower) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x}), cuda::tril_triu(x, diagonal, lower));
  require_cpu(lower ? "tril" : "triu", {&x});
  const Tensor xc = contiguous_raw(x);
  Tensor out = empty(x.sizes(), {.dtype = x.dtype(), .device = x.device()});
  const int64_t R = x.size(-2), C = x.size(-1);
  const int64_t rows = R == 0 ? 0 : x.numel() / C;
  if (x.numel() == 0) return out;
  dispatch_all(x.dtype(), lower ? "tril" : "triu", [&]<class T>() {
    const T* src = xc.data_ptr<T>();
    T* dst = out.data_ptr<T>();
#pragma omp parallel for schedule(static) if (x.numel() > kParallelGrain)
    for (int64_t row = 0; row < rows; ++row) {
      const int64_t r = row % R;
      // lower keeps columns [0, r + diagonal + 1); upper keeps [r + diagonal, C)
      const int64_t edge = std::clamp<int64_t>(lower ? r + diagonal + 1 : r + diagonal, 0, C);
      const T* s = src + row * C;
      T* o = dst + row * C;
      if (lower) {
        std::copy(s, s + edge, o);
        std::fill(o + edge, o + C, T(0));
      } else {
        std::fill(o, o + edge, T(0));
        std::copy(s + edge, s + C, o + edge);
      }
    }
  });
  return out;
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&indices}), cuda::one_hot(indices, num_classes));
  require_cpu("one_hot", {&indices});
  const Tensor idx = contiguous_raw(indices);
  const int64_t n = idx.numel();
  const int64_t* ip = idx.data_ptr<int64_t>();
  if (num_classes < 0) {
    FM_CHECK(n > 0, "one_hot: cannot infer the number of classes from an empty tensor ",
             indices.describe(), "; pass num_classes");
    int64_t mx = ip[0];
#pragma omp parallel for reduction(max : mx) if (n > kParallelGrain)
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, ip[i]);
    num_classes = mx + 1;
  }
  check_index_range("one_hot", idx, num_classes, -1,
                    "indices " + indices.describe() + ", num_classes " + std::to_string(num_classes));
  Shape out_shape = indices.sizes();
  out_shape.push_back(num_classes);
  Tensor out = empty(out_shape, {.dtype = DType::Int64, .device = indices.device()});
  int64_t* op = out.data_ptr<int64_t>();
  if (out.numel() > 0) std::memset(op, 0, static_cast<size_t>(out.numel()) * sizeof(int64_t));
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) op[i * num_classes + ip[i]] = 1;
  return out;
}

Tensor unfold_backward(const Tensor& grad, const Shape& input_sizes, int64_t dim, int64_t size, int64_t step) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&grad}), cuda::unfold_backward(grad, input_sizes, dim, size, step));
  require_cpu("unfold_backward", {&grad});
  Tensor out = zeros(input_sizes, {.dtype = grad.dtype(), .device = grad.device()});
  if (grad.numel() == 0) return out;
  const Tensor g = contiguous_raw(grad);
  // input as [outer, n, inner], grad as [outer, windows, inner, size]; a 0-dim input is one
  // element seen as [1, 1, 1]
  const int64_t nd = static_cast<int64_t>(input_sizes.size());
  const int64_t n = nd == 0 ? 1 : input_sizes[dim];
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < dim; ++i) outer *= input_sizes[i];
  for (int64_t i = dim + 1; i < nd; ++i) inner *= input_sizes[i];
  const int64_t windows = g.sizes()[nd == 0 ? 0 : dim];
  const int64_t lines = outer * inner;
  dispatch_floating(grad.dtype(), "unfold_backward", [&]<class T>() {
    const T* src = g.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    // one output line (o, :, i) per iteration: the windows that overlap on it are summed by
    // one thread, so there are no races and no per-window temporaries
#pragma omp parallel for schedule(static) if (g.numel() > kParallelGrain && lines > 1)
    for (int64_t p = 0; p < lines; ++p) {
      const int64_t o = p / inner, i = p % inner;
      T* line = dst + o * n * inner + i;
      for (int64_t w = 0; w < windows; ++w) {
        const T* win = src + ((o * windows + w) * inner + i) * size;
        T* at = line + w * step * inner;
        if (inner == 1)
          for (int64_t k = 0; k < size; ++k) at[k] += win[k];
        else
          for (int64_t k = 0; k < size; ++k) at[k * inner] += win[k];
      }
    }
  });
  return out;
}

}  // namespace fm::kernels
