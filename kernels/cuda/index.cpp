// Tensor-level CUDA indexing (kernels/cuda/index.cu): the argument checks of
// kernels/cpu/index.cpp, the geometry, and the range check of CUDA indices: a min/max
// reduction on the device whose two numbers reach the host before any kernel reads through
// an index. An index out of range is then looked up on a host copy by the CPU check, so the
// error is the CPU's, word for word.
#ifdef FERMATA_WITH_CUDA
#include "kernels/cuda/common.h"
#include "kernels/index.h"

namespace fm::kernels::cuda {

namespace {

struct Split3 {
  int64_t outer = 1, n = 1, inner = 1;
};

Split3 split_at(const Shape& s, int64_t dim) {
  Split3 r;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < dim) r.outer *= s[d];
    else if (d == dim) r.n = s[d];
    else r.inner *= s[d];
  }
  return r;
}

void check_int64(const char* op, const Tensor& index, const Tensor& x) {
  FM_CHECK(index.dtype() == DType::Int64, op, ": index must be an int64 tensor, got ", index.describe(), " (self ",
           x.describe(), ")");
}

void check_dim(const char* op, int64_t dim, const Tensor& x) {
  FM_CHECK(dim >= 0 && dim < x.dim(), op, ": dimension ", dim, " is out of range for ", x.describe());
}

}  // namespace

std::pair<int64_t, int64_t> index_min_max(const char* op, const Tensor& index0) {
  const int dev = same_cuda_device(op, {&index0});
  FM_CHECK(index0.dtype() == DType::Int64, op, ": indices must be int64, got ", index0.describe());
  FM_CHECK(index0.numel() > 0, op, ": no minimum or maximum of the empty indices ", index0.describe());
  const Tensor idx = contiguous_raw(index0);
  CudaDeviceGuard guard(dev);
  const cudaStream_t s = cuda_current_stream(dev);
  Tensor ws = empty({2 * kIndexMinMaxBlocks + 2}, {.dtype = DType::Int64, .device = idx.device()});
  int64_t* w = ptr<int64_t>(ws);
  launch_index_min_max(w + 2 * kIndexMinMaxBlocks, ptr<const int64_t>(idx), idx.numel(), w, s);
  int64_t host[2] = {0, 0};
  FM_CUDA_CHECK(cudaMemcpyAsync(host, w + 2 * kIndexMinMaxBlocks, sizeof host, cudaMemcpyDeviceToHost, s), op);
  FM_CUDA_CHECK(cudaStreamSynchronize(s), op);
  return {host[0], host[1]};
}

void check_index_range(const char* op, const Tensor& index, int64_t size, int64_t dim, const std::string& context) {
  FM_CHECK(index.dtype() == DType::Int64, op, ": indices must be int64, got ", index.describe(), " (", context, ")");
  if (index.numel() == 0) return;
  const auto [lo, hi] = index_min_max(op, index);
  if (lo >= 0 && hi < size) return;
  // rare: find the first offending position on the host and raise the CPU's error
  fm::kernels::check_index_range(op, to_raw(index, DType::Int64, Device::cpu()), size, dim, context);
  fail(op, ": index ", lo < 0 ? lo : hi, " is out of range; expected a value in [0, ", size, ") (", context, ")");
}

Tensor index_select(const Tensor& x0, int64_t dim, const Tensor& index0) {
  const char* op = "index_select";
  const int dev = same_cuda_device(op, {&x0, &index0});
  check_int64(op, index0, x0);
  check_dim(op, dim, x0);
  FM_CHECK(index0.dim() <= 1, op, ": index must be 1-D or 0-D, got ", index0.describe(), " (self ", x0.describe(),
           ")");
  const Tensor x = contiguous_raw(x0), idx = contiguous_raw(index0);
  const int64_t K = idx.numel();
  Shape out_shape = x.sizes();
  out_shape[dim] = K;
  Tensor out = empty(out_shape, {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() == 0) return out;
  const Split3 sp = split_at(x.sizes(), dim);
  CudaDeviceGuard guard(dev);
  dispatch_all(x.dtype(), op, [&]<class T>() {
    launch_index_select<T>(ptr<T>(out), ptr<const T>(x), ptr<const int64_t>(idx), sp.outer, sp.n, K, sp.inner,
                           variant(), cuda_current_stream(dev));
  });
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  const int dev = same_cuda_device(op, {&x, &index});
  check_int64(op, index, x);
  check_dim(op, dim, x);
  FM_CHECK(index.dim() == x.dim(), op, ": index ", index.describe(), " must have as many dimensions as self ",
           x.describe());
  Tensor out = empty(index.sizes(), {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() == 0) return out;
  Shape xs = x.strides();
  const int64_t xdim = xs[dim];  // elements per step of the index value
  xs[dim] = 0;
  const auto g = cuda_geom::make_geom<3>(index.sizes(), {out.strides(), index.strides(), xs}, op);
  CudaDeviceGuard guard(dev);
  dispatch_all(x.dtype(), op, [&]<class T>() {
    launch_gather<T>(ptr<T>(out), ptr<const int64_t>(index), ptr<const T>(x), g, out.numel(), xdim,
                     cuda_current_stream(dev));
  });
  return out;
}

void scatter_(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src0, bool accumulate) {
  const char* op = accumulate ? "scatter_add" : "scatter";
  const int dev = same_cuda_device(op, {&out, &index, &src0});
  check_int64(op, index, out);
  check_dim(op, dim, out);
  FM_CHECK(index.dim() == out.dim() && src0.dim() == out.dim(), op, ": self ", out.describe(), ", index ",
           index.describe(), " and src ", src0.describe(), " must have the same number of dimensions");
  if (index.numel() == 0) return;
  const Tensor src = src0.dtype() == out.dtype() ? src0 : to_raw(src0, out.dtype(), src0.device());
  // one line per coordinate of the index but dim; the kernels walk dim inside a line, in order
  Shape iter = index.sizes();
  const int64_t K = iter[dim];
  iter[dim] = 1;
  const int64_t lines = shape_numel(iter);
  const auto g = cuda_geom::make_geom<3>(iter, {out.strides(), index.strides(), src.strides()}, op);
  CudaDeviceGuard guard(dev);
  dispatch_all(out.dtype(), op, [&]<class T>() {
    launch_scatter<T>(accumulate, ptr<T>(out), ptr<const int64_t>(index), ptr<const T>(src), g, lines, K,
                      out.stride(dim), index.stride(dim), src.stride(dim), variant(), cuda_current_stream(dev));
  });
}

void scatter_value_(const Tensor& out, int64_t dim, const Tensor& index, double value) {
  same_cuda_device("scatter", {&out, &index});
  Tensor v = empty({}, {.dtype = out.dtype(), .device = out.device()});
  fill(v, value);
  cuda::scatter_(out, dim, index, make_view(v, index.sizes(), Shape(index.dim(), 0), 0), false);
}

void index_add_(const Tensor& out0, int64_t dim, const Tensor& index, const Tensor& src0, double alpha) {
  const char* op = "index_add";
  const int dev = same_cuda_device(op, {&out0, &index, &src0});
  check_int64(op, index, out0);
  check_dim(op, dim, out0);
  FM_CHECK(index.dim() <= 1, op, ": index must be 1-D or 0-D, got ", index.describe(), " (self ", out0.describe(),
           ")");
  if (!out0.is_contiguous()) {
    Tensor tmp = contiguous_raw(out0, true);
    cuda::index_add_(tmp, dim, index, src0, alpha);
    copy_into(out0, tmp);
    return;
  }
  const Tensor& out = out0;
  const Tensor src = contiguous_raw(to_raw(src0, out.dtype(), src0.device()));
  const Tensor idx = contiguous_raw(index);
  const int64_t K = idx.numel();
  const Split3 sp = split_at(out.sizes(), dim);
  Shape want = out.sizes();
  want[dim] = K;
  FM_CHECK(src.sizes() == want, op, ": source ", src0.describe(), " should have shape ", shape_str(want),
           " for self ", out.describe(), " and index ", index.describe());
  if (K == 0 || sp.outer == 0 || sp.inner == 0) return;
  CudaDeviceGuard guard(dev);
  const Variant v = variant();  // read once: the workspace depends on it
  const size_t bytes = index_add_workspace(sp.outer, sp.n, K, sp.inner, v);
  Tensor ws;
  if (bytes > 0)
    ws = empty({static_cast<int64_t>((bytes + 7) / 8)}, {.dtype = DType::Int64, .device = out.device()});
  dispatch_all(out.dtype(), op, [&]<class T>() {
    launch_index_add<T>(ptr<T>(out), ptr<const T>(src), ptr<const int64_t>(idx), sp.outer, sp.n, K, sp.inner,
                        static_cast<T>(alpha), bytes > 0 ? ws.raw_data() : nullptr, bytes, v,
                        cuda_current_stream(dev));
  });
}

}  // namespace fm::kernels::cuda
#endif
