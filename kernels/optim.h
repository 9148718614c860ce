#pragma once
// Fused optimizer updates: one pass over a parameter, its gradient and its state, in the
// exact order of PyTorch 1.13's single-tensor implementations (so trajectories agree).
// All tensors contiguous, same dtype and device.
#include "tensor/tensor.h"

namespace fm::kernels {

struct AdamHyper {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;        // after increment (1 on the first update)
  bool amsgrad;
  bool decoupled;      // AdamW: param *= 1 - lr * weight_decay before the update
  bool maximize;
};
// max_exp_avg_sq is only touched when amsgrad.
void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
               const Tensor& max_exp_avg_sq, const AdamHyper& h);

struct SgdHyper {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
  bool first;  // the momentum buffer is initialised from this step's d_p
};
void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdHyper& h);

struct RmspropHyper {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
};
void rmsprop_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                  const Tensor& momentum_buffer, const RmspropHyper& h);

}  // namespace fm::kernels
