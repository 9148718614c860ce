// Tensor-level CUDA real FFTs (kernels/cuda/fft.cu) behind audio/fft.h for CUDA tensors.
#ifdef FERMATA_WITH_CUDA
#include "kernels/cuda/common.h"
#include "kernels/elementwise.h"

namespace fm::kernels::cuda {

Tensor rfft(const Tensor& x0) {
  const int dev = same_cuda_device("rfft", {&x0});
  FM_CHECK(x0.dim() >= 1 && x0.sizes().back() >= 1, "rfft: expected a signal along the last dim, got ",
           x0.describe());
  FM_CHECK(is_floating(x0.dtype()), "rfft: expected a floating-point signal, got ", x0.describe());
  const Tensor x = contiguous_raw(x0);
  const int64_t n = x.sizes().back(), batch = x.numel() / n;
  Shape os = x.sizes();
  os.back() = n / 2 + 1;
  os.push_back(2);
  Tensor y = empty(os, {.dtype = x.dtype(), .device = x.device()});
  CudaDeviceGuard guard(dev);
  dispatch_floating(x.dtype(), "rfft", [&]<class T>() {
    launch_rfft<T>(static_cast<T*>(y.raw_data()), static_cast<const T*>(x.raw_data()), batch, n, variant(),
                   cuda_current_stream(dev));
  });
  return y;
}

Tensor c2r(const Tensor& z0, int64_t n) {
  const int dev = same_cuda_device("c2r", {&z0});
  FM_CHECK(n >= 1 && z0.dim() >= 2 && z0.sizes().back() == 2 && z0.size(-2) == n / 2 + 1, "c2r: expected [..., ",
           n / 2 + 1, ", 2] for n = ", n, ", got ", z0.describe());
  FM_CHECK(is_floating(z0.dtype()), "c2r: expected a floating-point spectrum, got ", z0.describe());
  const Tensor z = contiguous_raw(z0);
  const int64_t batch = z.numel() / ((n / 2 + 1) * 2);
  Shape os(z.sizes().begin(), z.sizes().end() - 1);
  os.back() = n;
  Tensor y = empty(os, {.dtype = z.dtype(), .device = z.device()});
  CudaDeviceGuard guard(dev);
  dispatch_floating(z.dtype(), "c2r", [&]<class T>() {
    launch_c2r<T>(static_cast<T*>(y.raw_data()), static_cast<const T*>(z.raw_data()), batch, n, variant(),
                  cuda_current_stream(dev));
  });
  return y;
}

}  // namespace fm::kernels::cuda
#endif
