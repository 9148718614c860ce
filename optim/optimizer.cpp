#include "optim/optimizer.h"

#include <cmath>

#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/views.h"
#include "kernels/optim.h"
#include "tensor/factory.h"

namespace fm::optim {

Optimizer::Optimizer(std::vector<Tensor> params, double lr, const char* name)
    : params_(std::move(params)), lr_(lr), param_steps_(params_.size(), 0), name_(name), state_(params_.size()) {
  FM_CHECK(lr >= 0, name, ": invalid learning rate ", lr);
  for (size_t i = 0; i < params_.size(); ++i) {
    FM_CHECK(params_[i].defined() && params_[i].is_floating_point(), name, ": parameter ", i,
             " must be a defined floating-point tensor, got ", params_[i].describe());
    FM_CHECK(params_[i].is_contiguous(), name, ": parameter ", i, " (", params_[i].describe(),
             ") must be contiguous");
    for (size_t j = 0; j < i; ++j)
      FM_CHECK(!params_[j].is_same(params_[i]), name, ": parameter ", i, " appears twice (also at ", j, ")");
  }
}

void Optimizer::zero_grad(bool set_to_none) {
  for (Tensor& p : params_) {
    if (set_to_none || !p.grad().defined()) {
      p.set_grad(Tensor());
    } else {
      NoGradGuard ng;
      Tensor g = p.grad();
      zero_(g);
    }
  }
}

Tensor& Optimizer::buffer(size_t i, const std::string& name) {
  auto& s = state_[i];
  auto it = s.find(name);
  if (it == s.end()) it = s.emplace(name, zeros_like(params_[i].detach())).first;
  return it->second;
}

bool Optimizer::has_buffer(size_t i, const std::string& name) const { return state_[i].count(name) > 0; }

std::map<std::string, Tensor> Optimizer::state_dict() const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < state_.size(); ++i) {
    for (const auto& [n, t] : state_[i]) out[std::to_string(i) + "." + n] = t;
    out[std::to_string(i) + ".step"] = scalar_tensor(static_cast<double>(param_steps_[i]), {.dtype = kInt64});
  }
  out["lr"] = scalar_tensor(lr_, {.dtype = kFloat64});
  out["step"] = scalar_tensor(static_cast<double>(steps_), {.dtype = kInt64});
  return out;
}

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& state) {
  FM_CHECK(state.count("lr") && state.count("step"), name_, ".load_state_dict: the state has no lr/step "
           "entries (not an optimizer state)");
  // validate everything before changing anything
  for (const auto& [k, t] : state) {
    if (k == "lr" || k == "step") continue;
    const size_t dot = k.find('.');
    FM_CHECK(dot != std::string::npos, name_, ".load_state_dict: unexpected key '", k, "'");
    size_t idx = 0;
    try {
      idx = std::stoul(k.substr(0, dot));
    } catch (const std::exception&) {
      fail(name_, ".load_state_dict: unexpected key '", k, "'");
    }
    FM_CHECK(idx < params_.size(), name_, ".load_state_dict: key '", k, "' refers to parameter ", idx,
             " but the optimizer has ", params_.size());
    if (k.substr(dot + 1) != "step")
      FM_CHECK(t.sizes() == params_[idx].sizes(), name_, ".load_state_dict: '", k, "' has shape ",
               shape_str(t.sizes()), " but parameter ", idx, " is ", params_[idx].describe());
  }
  lr_ = state.at("lr").item();
  steps_ = state.at("step").item<int64_t>();
  for (auto& s : state_) s.clear();
  for (const auto& [k, t] : state) {
    if (k == "lr" || k == "step") continue;
    const size_t dot = k.find('.');
    const size_t idx = std::stoul(k.substr(0, dot));
    const std::string name = k.substr(dot + 1);
    if (name == "step") param_steps_[idx] = t.item<int64_t>();
    else state_[idx][name] = contiguous_raw(to_raw(t, params_[idx].dtype(), params_[idx].device()), true);
  }
}

// ---------------- SGD ----------------

SGD::SGD(std::vector<Tensor> params, SGDOptions o) : Optimizer(std::move(params), o.lr, "SGD"), o_(o) {
  FM_CHECK(o.momentum >= 0 && o.weight_decay >= 0, "SGD: momentum and weight_decay must be non-negative");
  FM_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0), "SGD: nesterov momentum requires a "
           "momentum and zero dampening");
}

void SGD::step() {
  NoGradGuard ng;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    const bool first = o_.momentum != 0 && !has_buffer(i, "momentum_buffer");
    const Tensor buf = o_.momentum != 0 ? buffer(i, "momentum_buffer") : Tensor();
    kernels::sgd_step(params_[i], g, buf,
                      {lr_, o_.momentum, o_.dampening, o_.weight_decay, o_.nesterov, o_.maximize, first});
    params_[i].bump_version();
    ++param_steps_[i];
  }
  ++steps_;
}

// ---------------- Adam / AdamW ----------------

Adam::Adam(std::vector<Tensor> params, AdamOptions o) : Adam(std::move(params), o, false, "Adam") {}

Adam::Adam(std::vector<Tensor> params, AdamOptions o, bool decoupled, const char* name)
    : Optimizer(std::move(params), o.lr, name), o_(o), decoupled_(decoupled) {
  FM_CHECK(o.eps >= 0, name, ": invalid epsilon ", o.eps);
  FM_CHECK(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1, name, ": betas must be in [0, 1), got (",
           o.beta1, ", ", o.beta2, ")");
  FM_CHECK(o.weight_decay >= 0, name, ": invalid weight_decay ", o.weight_decay);
}

void Adam::step() {
  NoGradGuard ng;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    const int64_t step = ++param_steps_[i];
    kernels::adam_step(params_[i], g, buffer(i, "exp_avg"), buffer(i, "exp_avg_sq"),
                       o_.amsgrad ? buffer(i, "max_exp_avg_sq") : Tensor(),
                       {lr_, o_.beta1, o_.beta2, o_.eps, o_.weight_decay, step, o_.amsgrad, decoupled_, o_.maximize});
    params_[i].bump_version();
  }
  ++steps_;
}

AdamW::AdamW(std::vector<Tensor> params, AdamOptions o) : Adam(std::move(params), o, true, "AdamW") {}

// ---------------- RMSprop ----------------

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions o) : Optimizer(std::move(params), o.lr, "RMSprop"), o_(o) {
  FM_CHECK(o.alpha >= 0 && o.eps >= 0 && o.momentum >= 0 && o.weight_decay >= 0,
           "RMSprop: alpha, eps, momentum and weight_decay must be non-negative");
}

void RMSprop::step() {
  NoGradGuard ng;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    kernels::rmsprop_step(params_[i], g, buffer(i, "square_avg"), o_.centered ? buffer(i, "grad_avg") : Tensor(),
                          o_.momentum > 0 ? buffer(i, "momentum_buffer") : Tensor(),
                          {lr_, o_.alpha, o_.eps, o_.weight_decay, o_.momentum, o_.centered, o_.maximize});
    params_[i].bump_version();
    ++param_steps_[i];
  }
  ++steps_;
}

// ---------------- clipping ----------------

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type, bool error_if_nonfinite) {
  NoGradGuard ng;
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return 0.0;
  double total = 0;
  if (std::isinf(norm_type)) {
    for (const Tensor& g : grads) total = std::max(total, amax(abs(g)).item());
  } else {
    for (const Tensor& g : grads) total += std::pow(norm(to(g, kFloat64), norm_type).item(), norm_type);
    total = std::pow(total, 1.0 / norm_type);
  }
  FM_CHECK(!error_if_nonfinite || std::isfinite(total), "clip_grad_norm_: the total norm of order ", norm_type,
           " of the gradients is ", total, "; pass error_if_nonfinite=false to clip anyway");
  // PyTorch multiplies by the clamped coefficient always (no branch), so do we
  const double coef = std::min(max_norm / (total + 1e-6), 1.0);
  for (Tensor& g : grads) mul_(g, coef);
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  NoGradGuard ng;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (g.defined()) clamp_(g, -clip_value, clip_value);
  }
}

}  // namespace fm::optim
