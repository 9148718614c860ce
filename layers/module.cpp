#include "layers/module.h"

#include <algorithm>
#include <sstream>

#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "autograd/views.h"

namespace fm::nn {

void replace_data(const Tensor& dst, const Tensor& src) {
  TensorImpl* d = dst.impl();
  const TensorImpl* s = src.impl();
  d->storage = s->storage;
  d->sizes = s->sizes;
  d->strides = s->strides;
  d->offset = s->offset;
  d->dtype = s->dtype;
  d->is_view = false;
}

void Module::check_new_name(const std::string& name) const {
  FM_CHECK(!name.empty() && name.find('.') == std::string::npos, type_name(),
           ": invalid name '", name, "' (names must be non-empty and contain no '.')");
  auto taken = [&](const std::string& n) {
    for (const auto& p : params_) if (p.first == n) return true;
    for (const auto& b : buffers_) if (b.name == n) return true;
    for (const auto& c : children_) if (c.first == n) return true;
    return false;
  };
  FM_CHECK(!taken(name), type_name(), ": the name '", name, "' is already registered");
}

Tensor& Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_new_name(name);
  if (t.defined()) {
    t = t.detach();  // a parameter is a leaf
    if (requires_grad) t.requires_grad_(true);
  }
  params_.emplace_back(name, t);
  return params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor t, bool persistent) {
  check_new_name(name);
  buffers_.push_back({name, t.defined() ? t.detach() : t, persistent});
  return buffers_.back().tensor;
}

Tensor& Module::parameter_slot(const std::string& name) {
  for (auto& p : params_)
    if (p.first == name) return p.second;
  fail(type_name(), ": no parameter named '", name, "'");
}

void Module::collect(const std::string& prefix, bool recurse, bool params,
                     std::vector<std::pair<std::string, Tensor>>& out, bool persistent_only) const {
  if (params) {
    for (const auto& [n, t] : params_)
      if (t.defined()) out.emplace_back(prefix + n, t);
  } else {
    for (const auto& b : buffers_)
      if (b.tensor.defined() && (b.persistent || !persistent_only)) out.emplace_back(prefix + b.name, b.tensor);
  }
  if (!recurse) return;
  for (const auto& [n, c] : children_)
    if (c) c->collect(prefix + n + ".", true, params, out, persistent_only);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", recurse, true, out, false);
  // a parameter shared by two submodules appears once, under its first name (as in PyTorch)
  std::vector<std::pair<std::string, Tensor>> unique;
  for (auto& p : out) {
    bool seen = false;
    for (auto& u : unique) seen = seen || u.second.is_same(p.second);
    if (!seen) unique.push_back(p);
  }
  return unique;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& p : named_parameters(recurse)) out.push_back(p.second);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", recurse, false, out, false);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& p : named_buffers(recurse)) out.push_back(p.second);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [n, c] : children_) {
    if (!c) continue;
    for (auto& [sub, m] : c->named_modules()) out.emplace_back(sub.empty() ? n : n + "." + sub, m);
  }
  return out;
}

Module& Module::child(const std::string& name) const {
  for (const auto& [n, c] : children_)
    if (n == name && c) return *c;
  fail(type_name(), ": no submodule named '", name, "'");
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::vector<std::pair<std::string, Tensor>> all;
  collect("", true, true, all, true);
  collect("", true, false, all, true);
  std::map<std::string, Tensor> out;
  for (auto& [n, t] : all) out.emplace(n, t.detach());
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  std::vector<std::pair<std::string, Tensor>> own;
  collect("", true, true, own, true);
  collect("", true, false, own, true);
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [n, t] : own) {
    auto it = state.find(n);
    if (it == state.end()) missing.push_back(n);
    else if (it->second.sizes() != t.sizes())
      mismatched.push_back(n + " (checkpoint " + shape_str(it->second.sizes()) + ", model " + shape_str(t.sizes()) + ")");
  }
  for (const auto& [n, t] : state) {
    bool found = false;
    for (const auto& o : own) found = found || o.first == n;
    if (!found) unexpected.push_back(n);
  }
  if (!mismatched.empty() || (strict && (!missing.empty() || !unexpected.empty()))) {
    std::ostringstream os;
    os << "load_state_dict: the state does not match " << type_name() << ":";
    auto list = [&](const char* what, const std::vector<std::string>& v) {
      if (v.empty()) return;
      os << "\n  " << what << ":";
      for (const auto& s : v) os << " " << s << ";";
    };
    list("missing keys", missing);
    list("unexpected keys", unexpected);
    list("size mismatch", mismatched);
    throw Error(os.str());
  }
  NoGradGuard ng;
  for (auto& [n, t] : own) {
    auto it = state.find(n);
    if (it == state.end()) continue;
    Tensor dst = t;
    copy_into(dst, to_raw(it->second, t.dtype(), t.device()));
    dst.bump_version();
  }
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_)
    if (c) c->train(on);
}

void Module::apply_to_tensors(const std::function<Tensor(const Tensor&)>& f) {
  for (auto& [n, t] : params_)
    if (t.defined()) {
      replace_data(t, f(t.detach()));
      if (t.grad().defined()) t.set_grad(f(t.grad()));
    }
  for (auto& b : buffers_)
    if (b.tensor.defined()) replace_data(b.tensor, f(b.tensor));
  for (auto& [n, c] : children_)
    if (c) c->apply_to_tensors(f);
}

void Module::to(Device device) {
  apply_to_tensors([device](const Tensor& t) { return to_raw(t, t.dtype(), device); });
}

void Module::to(DType dtype) {
  // only floating tensors change dtype (integer buffers such as counters keep theirs)
  apply_to_tensors([dtype](const Tensor& t) { return t.is_floating_point() ? to_raw(t, dtype, t.device()) : t; });
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.set_grad(Tensor());
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

int Module::register_forward_hook(ForwardHook hook) {
  hooks_.emplace_back(next_hook_, std::move(hook));
  return next_hook_++;
}

void Module::remove_forward_hook(int handle) {
  hooks_.erase(std::remove_if(hooks_.begin(), hooks_.end(), [handle](const auto& h) { return h.first == handle; }),
               hooks_.end());
}

Tensor Module::run_forward_hooks(const Tensor& output) const {
  for (const auto& [id, h] : hooks_) h(*this, output);
  return output;
}

std::string Module::to_string() const {
  std::ostringstream os;
  os << type_name() << "(" << extra_repr();
  if (!children_.empty()) {
    os << "\n";
    for (const auto& [n, c] : children_) {
      if (!c) continue;
      std::string sub = c->to_string();
      std::string indented;
      for (char ch : sub) indented += ch == '\n' ? std::string("\n  ") : std::string(1, ch);
      os << "  (" << n << "): " << indented << "\n";
    }
  }
  os << ")";
  return os.str();
}

}  // namespace fm::nn
