#pragma once
// fm::autograd::Function: a user-defined differentiable op with its own forward and backward,
// the entry point for new layers (PyTorch's torch.autograd.Function). See docs/ARCHITECTURE.md
// ("Writing your own op") for a worked example.
//
//   struct Cube : fm::autograd::Function<Cube> {
//     static tensor_list forward(FunctionCtx& ctx, const tensor_list& in) {
//       ctx.save_for_backward({in[0]});
//       return {fm::mul(fm::mul(in[0], in[0]), in[0])};
//     }
//     static tensor_list backward(FunctionCtx& ctx, const tensor_list& grad_out) {
//       Tensor x = ctx.saved()[0];
//       return {fm::mul(grad_out[0], fm::mul(fm::mul(x, x), 3.0))};
//     }
//   };
//   Tensor y = Cube::apply({x})[0];
//
// forward runs without recording a graph; backward may use any differentiable op (then
// second derivatives work), or raw kernels (then they do not).
#include <map>
#include <memory>
#include <string>

#include "autograd/node.h"

namespace fm::autograd {

class FunctionCtx {
 public:
  // Tensors backward needs: inputs or outputs of forward. Version-checked on use.
  void save_for_backward(const tensor_list& tensors) { to_save_ = tensors; }
  tensor_list saved() const;
  // Which inputs need a gradient (backward may skip the others and return undefined).
  bool needs_input_grad(size_t i) const { return i < needs_grad_.size() && needs_grad_[i]; }
  // Non-tensor state for backward.
  std::map<std::string, double> attrs;

 private:
  template <class>
  friend struct Function;
  void seal(const tensor_list& outputs);
  tensor_list to_save_;
  std::vector<SavedTensor> saved_;
  std::vector<bool> needs_grad_;
};

template <class Derived>
struct Function {
  static tensor_list apply(const tensor_list& inputs) {
    auto ctx = std::make_shared<FunctionCtx>();
    for (const Tensor& t : inputs) ctx->needs_grad_.push_back(t.defined() && t.requires_grad());
    tensor_list outputs;
    {
      NoGradGuard ng;
      outputs = Derived::forward(*ctx, inputs);
    }
    // outputs that alias an input are returned as fresh handles so their history is ours
    for (Tensor& o : outputs)
      for (const Tensor& in : inputs)
        if (o.is_same(in)) o = o.detach();
    ctx->seal(outputs);
    const size_t n_in = inputs.size();
    record(typeid(Derived).name(), inputs, outputs, [ctx, n_in](const tensor_list& grads) {
      tensor_list g = Derived::backward(*ctx, grads);
      FM_CHECK(g.size() == n_in, "autograd::Function ", typeid(Derived).name(), ": backward returned ",
               g.size(), " gradients for ", n_in, " inputs");
      return g;
    });
    return outputs;
  }
};

}  // namespace fm::autograd
