#pragma once
// nn::Module: named parameters, buffers and submodules, with state_dict keys exactly as
// PyTorch names them ("conv1.0.weight", "bn.running_mean"), train/eval, to(device/dtype),
// zero_grad and forward hooks.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace fm::nn {

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The class name as PyTorch prints it ("Linear", "Conv2d").
  virtual std::string type_name() const = 0;
  // Extra text inside the parentheses when printed ("in_features=3, out_features=4").
  virtual std::string extra_repr() const { return ""; }
  std::string to_string() const;

  // ----- contents -----
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }
  // Every module below this one, with dotted names ("" is this module).
  std::vector<std::pair<std::string, Module*>> named_modules();
  // A direct child by name (throws if missing).
  Module& child(const std::string& name) const;

  // ----- state -----
  // Parameters and persistent buffers by their dotted PyTorch names.
  std::map<std::string, Tensor> state_dict() const;
  // Copies values in. strict: every key must match exactly, else an error listing the missing,
  // unexpected and mis-shaped keys (and nothing is changed). Values are converted to each
  // parameter's dtype and device.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves or converts every parameter and buffer in place (handles held elsewhere follow).
  void to(Device device);
  void to(DType dtype);
  void zero_grad();
  int64_t num_parameters() const;

  // ----- forward hooks -----
  using ForwardHook = std::function<void(const Module& module, const Tensor& output)>;
  int register_forward_hook(ForwardHook hook);
  void remove_forward_hook(int handle);

 protected:
  // Registration: names must be unique within the module and contain no '.'.
  Tensor& register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  Tensor& register_buffer(const std::string& name, Tensor t, bool persistent = true);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    check_new_name(name);
    children_.emplace_back(name, m);
    return m;
  }
  // Called by modules at the end of their forward.
  Tensor run_forward_hooks(const Tensor& output) const;
  // Reassigns a registered tensor (e.g. an optional bias turned off -> undefined).
  Tensor& parameter_slot(const std::string& name);

 private:
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, bool recurse, bool params,
               std::vector<std::pair<std::string, Tensor>>& out, bool persistent_only) const;
  void apply_to_tensors(const std::function<Tensor(const Tensor&)>& f);

  struct Buffer {
    std::string name;
    Tensor tensor;
    bool persistent;
  };
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<Buffer> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::vector<std::pair<int, ForwardHook>> hooks_;
  int next_hook_ = 0;
  bool training_ = true;
};

// A module with one tensor in and one out: what Sequential chains.
class UnaryModule : public Module {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return run_forward_hooks(forward(x)); }
};

// Replaces the data of `dst` (storage, geometry, dtype) with `src`'s, keeping dst's identity,
// so every handle to a parameter sees it moved or converted.
void replace_data(const Tensor& dst, const Tensor& src);

}  // namespace fm::nn
