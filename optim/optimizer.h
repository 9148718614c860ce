#pragma once
// Optimizers with PyTorch 1.13's update rules and defaults: SGD, Adam, AdamW, RMSprop.
// Each step is one fused pass per parameter (kernels/optim.h). State (moments, step counts)
// can be exported and restored for checkpoints.
#include <map>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace fm::optim {

class Optimizer {
 public:
  Optimizer(std::vector<Tensor> params, double lr, const char* name);
  virtual ~Optimizer() = default;
  // Applies one update to every parameter that has a gradient.
  virtual void step() = 0;
  // set_to_none (PyTorch 2's default) drops the gradients; otherwise they are zeroed in place.
  void zero_grad(bool set_to_none = true);

  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  // The first-moment coefficient one-cycle schedules vary (momentum for SGD/RMSprop, beta1 for Adam).
  virtual double momentum() const { return 0; }
  virtual void set_momentum(double) {}
  const std::vector<Tensor>& params() const { return params_; }
  // The rate when the first scheduler was attached (PyTorch's 'initial_lr'): every scheduler
  // on this optimizer starts from it, so chained schedulers agree on the base rate.
  double initial_lr() {
    if (initial_lr_ < 0) initial_lr_ = lr_;
    return initial_lr_;
  }
  int64_t steps_taken() const { return steps_; }

  // "<index>.<buffer>" -> tensor for every state buffer, plus "lr" and "step" as 0-dim tensors.
  std::map<std::string, Tensor> state_dict() const;
  // Restores state saved by state_dict from an optimizer over parameters of the same shapes.
  void load_state_dict(const std::map<std::string, Tensor>& state);

 protected:
  // Named state buffers of parameter i, created zero-filled like the parameter on first use.
  Tensor& buffer(size_t i, const std::string& name);
  bool has_buffer(size_t i, const std::string& name) const;

  std::vector<Tensor> params_;
  double lr_;
  int64_t steps_ = 0;
  std::vector<int64_t> param_steps_;  // per-parameter step counts (Adam's bias correction)
  const char* name_;
  double initial_lr_ = -1;

 private:
  std::vector<std::map<std::string, Tensor>> state_;
};

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions o);
  void step() override;
  double momentum() const override { return o_.momentum; }
  void set_momentum(double m) override { o_.momentum = m; }
  SGDOptions options() const { return o_; }

 private:
  SGDOptions o_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // Adam: L2 added to the gradient; AdamW: decoupled decay
  bool amsgrad = false;
  bool maximize = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions o = {});
  void step() override;
  double momentum() const override { return o_.beta1; }
  void set_momentum(double m) override { o_.beta1 = m; }

 protected:
  Adam(std::vector<Tensor> params, AdamOptions o, bool decoupled, const char* name);
  AdamOptions o_;
  bool decoupled_;
};

// AdamW: PyTorch's default weight_decay is 1e-2.
class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamOptions o = {.weight_decay = 1e-2});
};

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions o = {});
  void step() override;
  double momentum() const override { return o_.momentum; }
  void set_momentum(double m) override { o_.momentum = m; }

 private:
  RMSpropOptions o_;
};

// Scales all gradients so their joint norm is at most max_norm; returns the norm before
// clipping. With error_if_nonfinite, a NaN/inf norm throws and no gradient is changed.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2,
                       bool error_if_nonfinite = false);
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace fm::optim
