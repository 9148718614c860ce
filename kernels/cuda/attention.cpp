// Tensor-level CUDA fused attention (kernels/cuda/attention.cu): inputs made contiguous on the
// device; the backward's [B, L] row-dot workspace is a fresh tensor.
#ifdef FERMATA_WITH_CUDA
#include "kernels/attention.h"
#include "kernels/cuda/common.h"

namespace fm::kernels::cuda {

std::pair<Tensor, Tensor> flash_attention_forward(const Tensor& q0, const Tensor& k0, const Tensor& v0, double scale,
                                                  bool causal, const Tensor& kpm0) {
  static constexpr const char* op = "flash_attention_forward";
  const int dev = kpm0.defined() ? same_cuda_device(op, {&q0, &k0, &v0, &kpm0}) : same_cuda_device(op, {&q0, &k0, &v0});
  const AttentionDims s = check_attention(q0, k0, v0, kpm0, op);
  const Tensor q = contiguous_raw(q0), k = contiguous_raw(k0), v = contiguous_raw(v0);
  const Tensor kpm = kpm0.defined() ? contiguous_raw(kpm0) : Tensor();
  Tensor out = empty({s.B, s.L, s.Ev}, {.dtype = q.dtype(), .device = q.device()});
  Tensor lse = empty({s.B, s.L}, {.dtype = q.dtype(), .device = q.device()});
  CudaDeviceGuard guard(dev);
  dispatch_floating(q.dtype(), op, [&]<class T>() {
    launch_flash_attention_forward<T>(static_cast<T*>(out.raw_data()), static_cast<T*>(lse.raw_data()),
                                      static_cast<const T*>(q.raw_data()), static_cast<const T*>(k.raw_data()),
                                      static_cast<const T*>(v.raw_data()),
                                      kpm.defined() ? static_cast<const bool*>(kpm.raw_data()) : nullptr, s.B, s.L,
                                      s.S, s.E, s.Ev, static_cast<T>(scale), causal, variant(),
                                      cuda_current_stream(dev));
  });
  return {out, lse};
}

std::tuple<Tensor, Tensor, Tensor> flash_attention_backward(const Tensor& q0, const Tensor& k0, const Tensor& v0,
                                                            const Tensor& out0, const Tensor& lse0,
                                                            const Tensor& dout0, double scale, bool causal,
                                                            const Tensor& kpm0) {
  static constexpr const char* op = "flash_attention_backward";
  const int dev = same_cuda_device(op, {&q0, &k0, &v0, &out0, &lse0, &dout0});
  if (kpm0.defined()) same_cuda_device(op, {&q0, &kpm0});
  const AttentionDims s = check_attention(q0, k0, v0, kpm0, op);
  FM_CHECK(out0.sizes() == (Shape{s.B, s.L, s.Ev}) && dout0.sizes() == out0.sizes() &&
               lse0.sizes() == (Shape{s.B, s.L}),
           op, ": out ", out0.describe(), ", dout ", dout0.describe(), " and lse ", lse0.describe(),
           " do not match q ", q0.describe(), " and v ", v0.describe());
  const DType dt = q0.dtype();
  const Tensor q = contiguous_raw(q0), k = contiguous_raw(k0), v = contiguous_raw(v0);
  const Tensor out = contiguous_raw(to_raw(out0, dt, out0.device()));
  const Tensor lse = contiguous_raw(to_raw(lse0, dt, lse0.device()));
  const Tensor dout = contiguous_raw(to_raw(dout0, dt, dout0.device()));
  const Tensor kpm = kpm0.defined() ? contiguous_raw(kpm0) : Tensor();
  const Options o{.dtype = dt, .device = q.device()};
  Tensor dq = empty(q.sizes(), o), dk = empty(k.sizes(), o), dv = empty(v.sizes(), o);
  Tensor rowdot = empty({s.B, s.L}, o);
  CudaDeviceGuard guard(dev);
  dispatch_floating(dt, op, [&]<class T>() {
    launch_flash_attention_backward<T>(
        static_cast<T*>(dq.raw_data()), static_cast<T*>(dk.raw_data()), static_cast<T*>(dv.raw_data()),
        static_cast<T*>(rowdot.raw_data()), static_cast<const T*>(q.raw_data()), static_cast<const T*>(k.raw_data()),
        static_cast<const T*>(v.raw_data()), kpm.defined() ? static_cast<const bool*>(kpm.raw_data()) : nullptr,
        static_cast<const T*>(out.raw_data()), static_cast<const T*>(lse.raw_data()),
        static_cast<const T*>(dout.raw_data()), s.B, s.L, s.S, s.E, s.Ev, static_cast<T>(scale), causal, variant(),
        cuda_current_stream(dev));
  });
  return {dq, dk, dv};
}

}  // namespace fm::kernels::cuda
#endif
