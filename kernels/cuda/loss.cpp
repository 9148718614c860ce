// Tensor-level CUDA fused cross-entropy (kernels/cuda/loss.cu): the logits (and the gradient and
// lse of the backward) on one CUDA device, made contiguous; the class indices and row weights
// are moved there when they come from the host (layers/loss.cpp builds them on the CPU).
#ifdef FERMATA_WITH_CUDA
#include "kernels/cuda/common.h"
#include "kernels/loss.h"

namespace fm::kernels::cuda {

namespace {

void check_rows(const char* op, const Tensor& x, const Tensor& t, const Tensor& wt) {
  FM_CHECK(x.dim() == 2 && t.dim() == 1 && wt.dim() == 1 && t.size(0) == x.size(0) && wt.size(0) == x.size(0), op,
           ": fused kernel expects x [N, C], t [N], wt [N], got ", x.describe(), ", ", t.describe(), ", ",
           wt.describe());
  FM_CHECK(is_floating(x.dtype()), op, ": expected floating-point logits, got ", x.describe());
  FM_CHECK(t.dtype() == DType::Int64, op, ": class indices must be int64, got ", t.describe());
}

}  // namespace

std::pair<Tensor, Tensor> cross_entropy_rows(const Tensor& x0, const Tensor& t0, const Tensor& wt0) {
  const char* op = "cross_entropy";
  const int dev = same_cuda_device(op, {&x0});
  check_rows(op, x0, t0, wt0);
  const Tensor x = contiguous_raw(x0);
  const Tensor t = contiguous_raw(to_raw(t0, DType::Int64, x.device()));
  const Tensor wt = contiguous_raw(to_raw(wt0, x.dtype(), x.device()));
  const int64_t N = x.size(0), C = x.size(1);
  Tensor loss = empty({N}, {.dtype = x.dtype(), .device = x.device()});
  Tensor lse = empty({N}, {.dtype = x.dtype(), .device = x.device()});
  if (N == 0) return {loss, lse};
  CudaDeviceGuard guard(dev);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    launch_cross_entropy<T>(ptr<T>(loss), ptr<T>(lse), ptr<const T>(x), ptr<const int64_t>(t), ptr<const T>(wt), N, C,
                            variant(), cuda_current_stream(dev));
  });
  return {loss, lse};
}

Tensor cross_entropy_rows_backward(const Tensor& g0, const Tensor& x0, const Tensor& t0, const Tensor& wt0,
                                   const Tensor& lse0) {
  const char* op = "cross_entropy_backward";
  const int dev = same_cuda_device(op, {&x0});
  check_rows(op, x0, t0, wt0);
  const int64_t N = x0.size(0), C = x0.size(1);
  FM_CHECK(g0.numel() == N && lse0.numel() == N, op, ": expected a gradient and lse of ", N, " elements for x ",
           x0.describe(), ", got ", g0.describe(), " and ", lse0.describe());
  const DType dt = x0.dtype();
  const Device d = x0.device();
  const Tensor x = contiguous_raw(x0), t = contiguous_raw(to_raw(t0, DType::Int64, d));
  const Tensor g = contiguous_raw(to_raw(g0, dt, d)), wt = contiguous_raw(to_raw(wt0, dt, d));
  const Tensor lse = contiguous_raw(to_raw(lse0, dt, d));
  Tensor out = empty({N, C}, {.dtype = dt, .device = d});
  if (out.numel() == 0) return out;
  CudaDeviceGuard guard(dev);
  dispatch_floating(dt, op, [&]<class T>() {
    launch_cross_entropy_backward<T>(ptr<T>(out), ptr<const T>(g), ptr<const T>(x), ptr<const int64_t>(t),
                                     ptr<const T>(wt), ptr<const T>(lse), N, C, variant(), cuda_current_stream(dev));
  });
  return out;
}

}  // namespace fm::kernels::cuda
#endif
