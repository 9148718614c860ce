// Tensor-level CUDA dropout (kernels/cuda/dropout.cu): the input made contiguous, so that
// element i is the i-th in row-major order, as the CPU numbers them.
#ifdef FERMATA_WITH_CUDA
#include "kernels/cuda/common.h"
#include "kernels/dropout.h"

namespace fm::kernels::cuda {

std::pair<Tensor, Tensor> dropout(const Tensor& x0, double p, uint64_t seed, uint64_t base) {
  const char* op = "dropout";
  const int dev = same_cuda_device(op, {&x0});
  FM_CHECK(p >= 0 && p < 1, op, ": kernel needs 0 <= p < 1, got ", p);
  FM_CHECK(is_floating(x0.dtype()), op, ": expected a float32 or float64 tensor, got ", x0.describe());
  const Tensor x = contiguous_raw(x0);
  Tensor y = empty(x.sizes(), {.dtype = x.dtype(), .device = x.device()});
  Tensor mask = empty(x.sizes(), {.dtype = x.dtype(), .device = x.device()});
  if (x.numel() == 0) return {y, mask};
  const double keep = 1.0 - p;
  CudaDeviceGuard guard(dev);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    launch_dropout<T>(static_cast<T*>(y.raw_data()), static_cast<T*>(mask.raw_data()),
                      static_cast<const T*>(x.raw_data()), x.numel(), seed, base, keep, static_cast<T>(1.0 / keep),
                      variant(), cuda_current_stream(dev));
  });
  return {y, mask};
}

}  // namespace fm::kernels::cuda
#endif
