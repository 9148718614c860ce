// Tensor-level CUDA optimizer steps (kernels/cuda/optim.cu): the checks and the scalars of
// kernels/cpu/optim.cpp (formed in double as Python does, then rounded once to the parameter's
// precision), the update in one kernel.
#ifdef FERMATA_WITH_CUDA
#include <cmath>

#include "kernels/cuda/common.h"
#include "kernels/optim.h"

namespace fm::kernels::cuda {

namespace {

// The gradient brought to the parameter's dtype and device (as on the CPU); every defined
// tensor on the parameter's CUDA device, contiguous, of its shape and dtype.
Tensor check_same(const char* op, const Tensor& p, const Tensor& grad0, std::initializer_list<const Tensor*> states) {
  FM_CHECK(p.device().is_cuda(), op, ": parameter ", p.describe(), " is not on a CUDA device, but its gradient or state is");
  FM_CHECK(p.is_contiguous() && is_floating(p.dtype()), op, ": parameter ", p.describe(),
           " must be a contiguous floating-point tensor");
  FM_CHECK(grad0.defined() && grad0.sizes() == p.sizes(), op, ": gradient ",
           grad0.defined() ? grad0.describe() : std::string("(undefined)"), " does not match the parameter ",
           p.describe());
  Tensor grad = contiguous_raw(to_raw(grad0, p.dtype(), p.device()));
  for (const Tensor* t : states) {
    if (!t->defined()) continue;
    same_cuda_device(op, {&p, t});
    FM_CHECK(t->sizes() == p.sizes() && t->dtype() == p.dtype() && t->is_contiguous(), op, ": ", t->describe(),
             " does not match the parameter ", p.describe());
  }
  return grad;
}

}  // namespace

void adam_step(const Tensor& param, const Tensor& grad0, const Tensor& m, const Tensor& v, const Tensor& vmax,
               const AdamHyper& h) {
  const char* op = "adam";
  const Tensor grad = check_same(op, param, grad0, {&m, &v, &vmax});
  FM_CHECK(m.defined() && v.defined(), op, ": needs the exp_avg and exp_avg_sq states");
  FM_CHECK(!h.amsgrad || vmax.defined(), op, ": amsgrad needs the max_exp_avg_sq state");
  const int dev = param.device().index;
  if (param.numel() == 0) return;
  CudaDeviceGuard guard(dev);
  dispatch_floating(param.dtype(), op, [&]<class T>() {
    const double bc1 = 1 - std::pow(h.beta1, static_cast<double>(h.step));
    const double bc2 = 1 - std::pow(h.beta2, static_cast<double>(h.step));
    AdamArgs<T> a{};
    a.step_size = static_cast<T>(h.lr / bc1);
    a.bc2_sqrt = static_cast<T>(std::sqrt(bc2));
    a.eps = static_cast<T>(h.eps);
    a.weight_decay = static_cast<T>(h.weight_decay);
    a.decay = static_cast<T>(1 - h.lr * h.weight_decay);
    a.beta1 = static_cast<T>(h.beta1);
    a.beta2 = static_cast<T>(h.beta2);
    a.one_minus_beta1 = static_cast<T>(1 - h.beta1);
    a.one_minus_beta2 = static_cast<T>(1 - h.beta2);
    a.decoupled = h.decoupled;
    a.amsgrad = h.amsgrad;
    a.maximize = h.maximize;
    launch_adam<T>(ptr<T>(param), ptr<T>(grad), ptr<T>(m), ptr<T>(v), ptr<T>(vmax), param.numel(), a, variant(),
                   cuda_current_stream(dev));
  });
}

void sgd_step(const Tensor& param, const Tensor& grad0, const Tensor& buf, const SgdHyper& h) {
  const char* op = "sgd";
  const Tensor grad = check_same(op, param, grad0, {&buf});
  FM_CHECK(h.momentum == 0 || buf.defined(), op, ": momentum needs a momentum buffer");
  const int dev = param.device().index;
  if (param.numel() == 0) return;
  CudaDeviceGuard guard(dev);
  dispatch_floating(param.dtype(), op, [&]<class T>() {
    SgdArgs<T> a{};
    a.lr = static_cast<T>(h.lr);
    a.momentum = static_cast<T>(h.momentum);
    a.one_minus_dampening = static_cast<T>(1 - h.dampening);
    a.weight_decay = static_cast<T>(h.weight_decay);
    a.first = h.first;
    a.nesterov = h.nesterov;
    a.maximize = h.maximize;
    a.use_momentum = h.momentum != 0;
    launch_sgd<T>(ptr<T>(param), ptr<T>(grad), ptr<T>(buf), param.numel(), a, variant(), cuda_current_stream(dev));
  });
}

void rmsprop_step(const Tensor& param, const Tensor& grad0, const Tensor& sq, const Tensor& gavg, const Tensor& buf,
                  const RmspropHyper& h) {
  const char* op = "rmsprop";
  const Tensor grad = check_same(op, param, grad0, {&sq, &gavg, &buf});
  FM_CHECK(sq.defined(), op, ": needs the square_avg state");
  FM_CHECK(!h.centered || gavg.defined(), op, ": centered needs the grad_avg state");
  const int dev = param.device().index;
  if (param.numel() == 0) return;
  CudaDeviceGuard guard(dev);
  dispatch_floating(param.dtype(), op, [&]<class T>() {
    RmspropArgs<T> a{};
    a.lr = static_cast<T>(h.lr);
    a.alpha = static_cast<T>(h.alpha);
    a.one_minus_alpha = static_cast<T>(1 - h.alpha);
    a.eps = static_cast<T>(h.eps);
    a.weight_decay = static_cast<T>(h.weight_decay);
    a.momentum = static_cast<T>(h.momentum);
    a.centered = h.centered;
    a.maximize = h.maximize;
    // the CPU tests the momentum in the parameter's precision
    a.use_momentum = a.momentum > T(0);
    FM_CHECK(!a.use_momentum || buf.defined(), op, ": momentum needs a momentum buffer");
    launch_rmsprop<T>(ptr<T>(param), ptr<T>(grad), ptr<T>(sq), ptr<T>(gavg), ptr<T>(buf), param.numel(), a,
                      variant(), cuda_current_stream(dev));
  });
}

}  // namespace fm::kernels::cuda
#endif
