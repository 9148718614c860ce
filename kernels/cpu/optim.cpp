// Each update is one parallel loop over the elements; the arithmetic mirrors PyTorch 1.13's
// torch/optim/{adam,adamw,sgd,rmsprop}.py step by step, in the parameter's precision.
#include <cmath>

#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "kernels/optim.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

namespace {

void check_same(const char* op, const Tensor& p, std::initializer_list<const Tensor*> others) {
  require_cpu(op, {&p});
  FM_CHECK(p.is_contiguous() && is_floating(p.dtype()), op, ": parameter ", p.describe(),
           " must be a contiguous floating-point tensor");
  for (const Tensor* t : others) {
    if (!t->defined()) continue;
    require_cpu(op, {t});
    FM_CHECK(t->sizes() == p.sizes() && t->dtype() == p.dtype() && t->is_contiguous(), op, ": ",
             t->describe(), " does not match the parameter ", p.describe());
  }
}

template <class T>
T* ptr(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

}  // namespace

void adam_step(const Tensor& param, const Tensor& grad0, const Tensor& m, const Tensor& v, const Tensor& vmax,
               const AdamHyper& h) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&param, &grad0, &m, &v, &vmax}), cuda::adam_step(param, grad0, m, v, vmax, h));
  const Tensor grad = contiguous_raw(to_raw(grad0, param.dtype(), param.device()));
  check_same("adam", param, {&grad, &m, &v, &vmax});
  FM_CHECK(!h.amsgrad || vmax.defined(), "adam: amsgrad needs the max_exp_avg_sq state");
  const int64_t n = param.numel();
  dispatch_floating(param.dtype(), "adam", [&]<class T>() {
    T* p = ptr<T>(param);
    const T* g = ptr<T>(grad);
    T* ea = ptr<T>(m);
    T* eas = ptr<T>(v);
    T* mx = h.amsgrad ? ptr<T>(vmax) : nullptr;
    const T lr = static_cast<T>(h.lr), b1 = static_cast<T>(h.beta1), b2 = static_cast<T>(h.beta2);
    const T eps = static_cast<T>(h.eps), wd = static_cast<T>(h.weight_decay);
    // scalars computed in double as Python does, then used in the tensor's precision
    const double bc1 = 1 - std::pow(h.beta1, static_cast<double>(h.step));
    const double bc2 = 1 - std::pow(h.beta2, static_cast<double>(h.step));
    const T step_size = static_cast<T>(h.lr / bc1);
    const T bc2_sqrt = static_cast<T>(std::sqrt(bc2));
    const T decay = static_cast<T>(1 - h.lr * h.weight_decay);
    // 1 - beta is formed in double and rounded once, as PyTorch's Python scalars are
    const T omb1 = static_cast<T>(1 - h.beta1), omb2 = static_cast<T>(1 - h.beta2);
    const bool decoupled = h.decoupled, amsgrad = h.amsgrad, maximize = h.maximize;
    (void)lr;
#pragma omp parallel for if (n >= kParallelGrain) schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      T gi = maximize ? -g[i] : g[i];
      if (decoupled) p[i] *= decay;
      else if (wd != 0) gi = gi + wd * p[i];
      ea[i] = ea[i] * b1 + omb1 * gi;
      eas[i] = eas[i] * b2 + omb2 * gi * gi;
      T denom;
      if (amsgrad) {
        mx[i] = std::max(mx[i], eas[i]);
        denom = std::sqrt(mx[i]) / bc2_sqrt + eps;
      } else {
        denom = std::sqrt(eas[i]) / bc2_sqrt + eps;
      }
      p[i] += -step_size * (ea[i] / denom);
    }
  });
}

void sgd_step(const Tensor& param, const Tensor& grad0, const Tensor& buf, const SgdHyper& h) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&param, &grad0, &buf}), cuda::sgd_step(param, grad0, buf, h));
  const Tensor grad = contiguous_raw(to_raw(grad0, param.dtype(), param.device()));
  check_same("sgd", param, {&grad, &buf});
  FM_CHECK(h.momentum == 0 || buf.defined(), "sgd: momentum needs a momentum buffer");
  const int64_t n = param.numel();
  dispatch_floating(param.dtype(), "sgd", [&]<class T>() {
    T* p = ptr<T>(param);
    const T* g = ptr<T>(grad);
    T* b = ptr<T>(buf);
    const T lr = static_cast<T>(h.lr), mom = static_cast<T>(h.momentum);
    const T damp = static_cast<T>(1 - h.dampening), wd = static_cast<T>(h.weight_decay);
    const bool first = h.first, nesterov = h.nesterov, maximize = h.maximize, use_mom = h.momentum != 0;
#pragma omp parallel for if (n >= kParallelGrain) schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      T d = maximize ? -g[i] : g[i];
      if (wd != 0) d = d + wd * p[i];
      if (use_mom) {
        b[i] = first ? d : b[i] * mom + damp * d;
        d = nesterov ? d + mom * b[i] : b[i];
      }
      p[i] += -lr * d;
    }
  });
}

void rmsprop_step(const Tensor& param, const Tensor& grad0, const Tensor& sq, const Tensor& gavg,
                  const Tensor& buf, const RmspropHyper& h) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&param, &grad0, &sq, &gavg, &buf}),
                   cuda::rmsprop_step(param, grad0, sq, gavg, buf, h));
  const Tensor grad = contiguous_raw(to_raw(grad0, param.dtype(), param.device()));
  check_same("rmsprop", param, {&grad, &sq, &gavg, &buf});
  const int64_t n = param.numel();
  dispatch_floating(param.dtype(), "rmsprop", [&]<class T>() {
    T* p = ptr<T>(param);
    const T* g = ptr<T>(grad);
    T* s = ptr<T>(sq);
    T* ga = ptr<T>(gavg);
    T* b = ptr<T>(buf);
    const T lr = static_cast<T>(h.lr), alpha = static_cast<T>(h.alpha), eps = static_cast<T>(h.eps);
    const T wd = static_cast<T>(h.weight_decay), mom = static_cast<T>(h.momentum);
    const T oma = static_cast<T>(1 - h.alpha);
    const bool centered = h.centered, maximize = h.maximize;
#pragma omp parallel for if (n >= kParallelGrain) schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      T gi = maximize ? -g[i] : g[i];
      if (wd != 0) gi = gi + wd * p[i];
      s[i] = s[i] * alpha + oma * gi * gi;
      T avg;
      if (centered) {
        ga[i] = ga[i] * alpha + oma * gi;
        avg = std::sqrt(s[i] - ga[i] * ga[i]) + eps;
      } else {
        avg = std::sqrt(s[i]) + eps;
      }
      if (mom > 0) {
        b[i] = b[i] * mom + gi / avg;
        p[i] += -lr * b[i];
      } else {
        p[i] += -lr * (gi / avg);
      }
    }
  });
}

}  // namespace fm::kernels
