// Tensor-level CUDA softmax (kernels/cuda/softmax.cu): inputs made contiguous on the device,
// seen as [outer, D, inner].
#ifdef FERMATA_WITH_CUDA
#include "kernels/cuda/common.h"

namespace fm::kernels::cuda {

namespace {
struct Rows {
  int64_t outer = 1, D = 1, inner = 1;
};
Rows rows_of(const Tensor& x, int64_t dim) {
  Rows r;
  if (x.dim() == 0) return r;
  for (int64_t i = 0; i < dim; ++i) r.outer *= x.size(i);
  r.D = x.size(dim);
  for (int64_t i = dim + 1; i < x.dim(); ++i) r.inner *= x.size(i);
  return r;
}
}  // namespace

Tensor softmax(const Tensor& x0, int64_t dim, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  const int dev = same_cuda_device(op, {&x0});
  FM_CHECK(is_floating(x0.dtype()), op, ": expected a floating-point tensor, got ", x0.describe());
  const int64_t d = x0.dim() == 0 ? 0 : wrap_dim(dim, x0.dim(), op);
  const Tensor x = contiguous_raw(x0);
  Tensor y = empty(x.sizes(), {.dtype = x.dtype(), .device = x.device()});
  if (x.numel() == 0) return y;
  const Rows r = rows_of(x, d);
  CudaDeviceGuard guard(dev);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    launch_softmax<T>(log, static_cast<T*>(y.raw_data()), static_cast<const T*>(x.raw_data()), r.outer, r.D, r.inner,
                      variant(), cuda_current_stream(dev));
  });
  return y;
}

Tensor softmax_backward(const Tensor& g0, const Tensor& y0, int64_t dim, bool log) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  const int dev = same_cuda_device(op, {&g0, &y0});
  FM_CHECK(g0.sizes() == y0.sizes(), op, ": gradient ", g0.describe(), " and output ", y0.describe(),
           " differ in shape");
  FM_CHECK(is_floating(y0.dtype()), op, ": expected a floating-point output, got ", y0.describe());
  const int64_t d = y0.dim() == 0 ? 0 : wrap_dim(dim, y0.dim(), op);
  const Tensor g = contiguous_raw(to_raw(g0, y0.dtype(), y0.device())), y = contiguous_raw(y0);
  Tensor out = empty(y.sizes(), {.dtype = y.dtype(), .device = y.device()});
  if (y.numel() == 0) return out;
  const Rows r = rows_of(y, d);
  CudaDeviceGuard guard(dev);
  dispatch_floating(y.dtype(), op, [&]<class T>() {
    launch_softmax_backward<T>(log, static_cast<T*>(out.raw_data()), static_cast<const T*>(g.raw_data()),
                               static_cast<const T*>(y.raw_data()), r.outer, r.D, r.inner, variant(),
                               cuda_current_stream(dev));
  });
  return out;
}

}  // namespace fm::kernels::cuda
#endif
