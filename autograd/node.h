#pragma once
// The dynamic graph: each op output that needs a gradient points at a Node; a Node holds the
// backward function (with the tensors it saved) and one Edge per differentiable input.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace fm::autograd {

using tensor_list = std::vector<Tensor>;

struct Node;

struct Edge {
  std::shared_ptr<Node> node;  // null: that input needs no gradient
  uint32_t input_nr = 0;       // which of node's outputs' gradient this edge feeds
  bool valid() const { return node != nullptr; }
};

// Gradient function: receives one gradient per output of the op (undefined where an output
// got no gradient) and returns one gradient per input (undefined where none is needed).
using BackwardFn = std::function<tensor_list(const tensor_list& grad_outputs)>;

struct Node : std::enable_shared_from_this<Node> {
  Node(std::string name, std::vector<Edge> next, uint32_t num_outputs)
      : name(std::move(name)), next_edges(std::move(next)), num_outputs(num_outputs) {}
  virtual ~Node() = default;

  // Gradients for this node's inputs, given gradients of its outputs.
  virtual tensor_list apply(const tensor_list& grad_outputs);
  // Drops saved tensors after a backward pass without retain_graph.
  virtual void release() { fn = nullptr; released = true; }

  std::string name;
  std::vector<Edge> next_edges;
  uint32_t num_outputs;
  BackwardFn fn;
  bool released = false;
  // Outputs' metadata, so an absent gradient can be materialised as zeros, and inputs'
  // metadata, so a gradient of the wrong shape or dtype is caught at the node that made it.
  struct Meta {
    Shape sizes;
    DType dtype;
    Device device;
  };
  std::vector<Meta> outputs;
  std::vector<Meta> inputs;
  // Non-leaf outputs that asked for retain_grad(), by output number.
  std::vector<std::weak_ptr<TensorImpl>> retained;
};

// The node at a leaf that requires grad: accumulates into tensor.grad.
struct AccumulateGrad final : Node {
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf)
      : Node("AccumulateGrad", {}, 1), leaf(std::move(leaf)) {}
  tensor_list apply(const tensor_list& grad_outputs) override;
  void release() override {}
  std::shared_ptr<TensorImpl> leaf;
};

// ----- grad mode -----
bool grad_enabled();
void set_grad_enabled(bool on);

struct NoGradGuard {
  NoGradGuard() : prev_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

struct EnableGradGuard {
  EnableGradGuard() : prev_(grad_enabled()) { set_grad_enabled(true); }
  ~EnableGradGuard() { set_grad_enabled(prev_); }

 private:
  bool prev_;
};

// ----- saved tensors -----
// A tensor kept for backward. Remembers the storage version at save time: if the tensor is
// modified in place before backward, unpack() throws naming the op. Outputs of the op itself
// are kept without their grad_fn (a strong reference would be a cycle) and get it back on
// unpack, so second derivatives through them still work.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& t, bool is_output, uint32_t output_nr = 0);
  Tensor unpack() const;
  bool defined() const { return data_.defined(); }

 private:
  Tensor data_;
  uint64_t version_ = 0;
  bool is_output_ = false;
  bool requires_grad_ = false;
  uint32_t output_nr_ = 0;
};

inline SavedTensor save(const Tensor& t) { return SavedTensor(t, false); }
// An output of the op being recorded; on unpack it is reconnected to the node running backward.
inline SavedTensor save_output(const Tensor& t, uint32_t output_nr = 0) {
  return SavedTensor(t, true, output_nr);
}

// The edge through which a gradient reaches `t` (its grad_fn, or its leaf accumulator).
Edge gradient_edge(const Tensor& t);

bool any_requires_grad(const tensor_list& inputs);

// Connects `outputs` to `inputs` through a new node running `fn`, if grad mode is on and any
// input requires grad. Returns the node (null when nothing was recorded).
std::shared_ptr<Node> record(const char* name, const tensor_list& inputs, const tensor_list& outputs,
                             BackwardFn fn);

// The name of the node whose backward is running on this thread (for error messages).
const std::string& current_backward_node();

}  // namespace fm::autograd

namespace fm {
using autograd::EnableGradGuard;
using autograd::NoGradGuard;
}  // namespace fm
