// Tensor-level CUDA fused NT-Xent (kernels/cuda/contrastive.cu): z on one CUDA device, made
// contiguous; the backward's lse, inverse norms and upstream gradient are moved there (and to
// z's dtype) when they come from elsewhere. Workspaces: the normalised rows (M * D of z's dtype),
// per-row losses (M doubles) and the backward's accumulator (M * D doubles).
#ifdef FERMATA_WITH_CUDA
#include "kernels/contrastive.h"
#include "kernels/cuda/common.h"

namespace fm::kernels::cuda {

namespace {

void check_z(const char* op, const Tensor& z, double temperature) {
  FM_CHECK(z.is_floating_point() && z.dim() == 2 && z.size(0) >= 2 && z.size(0) % 2 == 0, op,
           ": fused kernel expects floating-point z [2N, D] with N >= 1, got ", z.describe());
  FM_CHECK(temperature > 0, op, ": temperature must be positive, got ", temperature);
}

}  // namespace

std::tuple<Tensor, Tensor, Tensor> nt_xent_forward(const Tensor& z0, double temperature) {
  const char* op = "nt_xent_loss";
  const int dev = same_cuda_device(op, {&z0});
  check_z(op, z0, temperature);
  const Tensor z = contiguous_raw(z0);
  const int64_t M = z.size(0), D = z.size(1);
  const Device d = z.device();
  Tensor loss = empty({}, {.dtype = z.dtype(), .device = d});
  Tensor lse = empty({M}, {.dtype = z.dtype(), .device = d}), inv = empty({M}, {.dtype = z.dtype(), .device = d});
  Tensor u = empty({M, D}, {.dtype = z.dtype(), .device = d});
  Tensor row_loss = empty({M}, {.dtype = DType::Float64, .device = d});
  CudaDeviceGuard guard(dev);
  dispatch_floating(z.dtype(), op, [&]<class T>() {
    launch_nt_xent<T>(ptr<T>(loss), ptr<T>(lse), ptr<T>(inv), ptr<const T>(z), ptr<T>(u), ptr<double>(row_loss), M,
                      D, temperature, variant(), cuda_current_stream(dev));
  });
  return {loss, lse, inv};
}

Tensor nt_xent_backward(const Tensor& z0, const Tensor& lse0, const Tensor& inv0, double temperature,
                        const Tensor& g0) {
  const char* op = "nt_xent_backward";
  const int dev = same_cuda_device(op, {&z0});
  check_z(op, z0, temperature);
  const int64_t M = z0.size(0), D = z0.size(1);
  FM_CHECK(lse0.numel() == M && inv0.numel() == M && g0.numel() == 1, op, ": expected lse and inverse norms of ", M,
           " elements and a one-element gradient for z ", z0.describe(), ", got ", lse0.describe(), ", ",
           inv0.describe(), " and ", g0.describe());
  const DType dt = z0.dtype();
  const Device d = z0.device();
  const Tensor z = contiguous_raw(z0);
  const Tensor lse = contiguous_raw(to_raw(lse0, dt, d)), inv = contiguous_raw(to_raw(inv0, dt, d));
  const Tensor g = contiguous_raw(to_raw(g0, dt, d));
  Tensor out = empty({M, D}, {.dtype = dt, .device = d});
  if (out.numel() == 0) return out;
  Tensor u = empty({M, D}, {.dtype = dt, .device = d});
  Tensor acc = empty({M, D}, {.dtype = DType::Float64, .device = d});
  CudaDeviceGuard guard(dev);
  dispatch_floating(dt, op, [&]<class T>() {
    launch_nt_xent_backward<T>(ptr<T>(out), ptr<const T>(z), ptr<const T>(lse), ptr<const T>(inv), ptr<const T>(g),
                               ptr<T>(u), ptr<double>(acc), M, D, temperature, variant(), cuda_current_stream(dev));
  });
  return out;
}

}  // namespace fm::kernels::cuda
#endif
