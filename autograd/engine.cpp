#include "autograd/engine.h"

#include <unordered_map>
#include <unordered_set>

#include "autograd/elementwise.h"
#include "autograd/views.h"
#include "tensor/factory.h"

namespace fm::autograd {

namespace {
thread_local bool g_grad_enabled = true;
thread_local Node* g_current_node = nullptr;
const std::string kNoNode = "(no backward running)";

struct CurrentNodeScope {
  explicit CurrentNodeScope(Node* n) : prev(g_current_node) { g_current_node = n; }
  ~CurrentNodeScope() { g_current_node = prev; }
  Node* prev;
};
}  // namespace

bool grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool on) { g_grad_enabled = on; }
const std::string& current_backward_node() { return g_current_node ? g_current_node->name : kNoNode; }

// ---------------- saved tensors ----------------

SavedTensor::SavedTensor(const Tensor& t, bool is_output, uint32_t output_nr)
    : version_(t.defined() ? t.version() : 0), is_output_(is_output), output_nr_(output_nr) {
  if (!t.defined()) return;
  requires_grad_ = t.requires_grad();
  data_ = is_output ? t.detach() : t;
}

Tensor SavedTensor::unpack() const {
  if (!data_.defined()) return data_;
  FM_CHECK(data_.version() == version_, "autograd: one of the tensors needed by ",
           current_backward_node(), " to compute gradients (", data_.describe(),
           ") has been modified by an in-place operation: it is at version ", data_.version(),
           " but was saved at version ", version_,
           ". Compute on a clone, or make the in-place change after backward.");
  // (an output is saved before record() marks it as requiring grad, so that flag is not consulted)
  if (!is_output_ || g_current_node == nullptr || !is_floating(data_.dtype())) return data_;
  // Reconnect the output to the node that made it (the one running now).
  auto impl = std::make_shared<TensorImpl>(*data_.impl());
  impl->requires_grad = true;
  impl->grad_fn = g_current_node->shared_from_this();
  impl->output_nr = output_nr_;
  return Tensor(impl);
}

// ---------------- nodes ----------------

tensor_list Node::apply(const tensor_list& grad_outputs) {
  FM_CHECK(!released && fn, "autograd: trying to backward through ", name,
           " a second time, or after its saved tensors were freed. Pass retain_graph=true to the "
           "first backward if you need to backward through the graph twice.");
  return fn(grad_outputs);
}

tensor_list AccumulateGrad::apply(const tensor_list& grad_outputs) {
  const Tensor& g = grad_outputs[0];
  if (!g.defined()) return {};
  Tensor cur(leaf->grad);
  if (grad_enabled()) {
    // create_graph: the accumulated gradient stays differentiable
    leaf->grad = (cur.defined() ? add(cur, g) : g).impl_ptr();
  } else if (!cur.defined()) {
    // own a fresh contiguous buffer: the incoming gradient may alias other leaves' gradients
    leaf->grad = contiguous_raw(g.detach(), /*force=*/true).impl_ptr();
  } else if (cur.requires_grad()) {
    leaf->grad = add(cur.detach(), g).impl_ptr();
  } else {
    add_(cur, g);
  }
  return {};
}

bool any_requires_grad(const tensor_list& inputs) {
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) return {impl->grad_fn, impl->output_nr};
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl->grad_accumulator = acc;
  }
  return {acc, 0};
}

std::shared_ptr<Node> record(const char* name, const tensor_list& inputs, const tensor_list& outputs,
                             BackwardFn fn) {
  if (!grad_enabled() || !any_requires_grad(inputs)) return nullptr;
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const Tensor& t : inputs) edges.push_back(gradient_edge(t));
  auto node = std::make_shared<Node>(name, std::move(edges), static_cast<uint32_t>(outputs.size()));
  node->fn = std::move(fn);
  for (const Tensor& t : inputs)
    node->inputs.push_back(t.defined() ? Node::Meta{t.sizes(), t.dtype(), t.device()}
                                       : Node::Meta{{}, DType::Float32, Device::cpu()});
  for (uint32_t i = 0; i < outputs.size(); ++i) {
    const Tensor& o = outputs[i];
    node->outputs.push_back({o.sizes(), o.dtype(), o.device()});
    if (!is_floating(o.dtype())) continue;  // indices and masks carry no gradient
    TensorImpl* impl = o.impl();
    impl->requires_grad = true;
    impl->grad_fn = node;
    impl->output_nr = i;
  }
  return node;
}

// ---------------- the engine ----------------

namespace {

struct GraphTask {
  bool create_graph = false;
  bool retain_graph = false;
  // autograd::grad: capture gradients arriving at these edges instead of accumulating
  std::vector<Edge> capture;
  tensor_list captured;
  bool accumulate = true;
};

void accumulate_into(tensor_list& buf, uint32_t slot, const Tensor& g) {
  if (!g.defined()) return;
  if (!buf[slot].defined()) buf[slot] = g;
  else buf[slot] = add(buf[slot], g);
}

void run(GraphTask& task, const std::vector<Edge>& roots, const tensor_list& root_grads) {
  // dependencies: number of edges into each node reachable from the roots
  std::unordered_map<Node*, int> deps;
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack;
  for (const Edge& e : roots)
    if (e.node && seen.insert(e.node.get()).second) stack.push_back(e.node.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.node) continue;
      ++deps[e.node.get()];
      if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
    }
  }

  std::unordered_map<Node*, tensor_list> buffers;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep;
  auto buffer_of = [&](const std::shared_ptr<Node>& n) -> tensor_list& {
    auto it = buffers.find(n.get());
    if (it == buffers.end()) {
      keep[n.get()] = n;
      it = buffers.emplace(n.get(), tensor_list(n->num_outputs)).first;
    }
    return it->second;
  };
  std::vector<std::shared_ptr<Node>> ready;
  for (size_t i = 0; i < roots.size(); ++i) {
    if (!roots[i].node) continue;
    accumulate_into(buffer_of(roots[i].node), roots[i].input_nr, root_grads[i]);
  }
  for (const Edge& e : roots)
    if (e.node && deps[e.node.get()] == 0 &&
        std::find(ready.begin(), ready.end(), e.node) == ready.end())
      ready.push_back(e.node);

  bool prev_mode = g_grad_enabled;
  g_grad_enabled = task.create_graph;
  struct Restore {
    bool v;
    ~Restore() { g_grad_enabled = v; }
  } restore{prev_mode};

  while (!ready.empty()) {
    std::shared_ptr<Node> node = ready.back();
    ready.pop_back();
    tensor_list grads = std::move(buffer_of(node));
    buffers.erase(node.get());

    // captures for autograd::grad
    bool is_captured_leaf = false;
    for (size_t i = 0; i < task.capture.size(); ++i) {
      if (task.capture[i].node != node) continue;
      const Tensor& g = grads[task.capture[i].input_nr];
      if (g.defined()) task.captured[i] = task.captured[i].defined() ? add(task.captured[i], g) : g;
      if (dynamic_cast<AccumulateGrad*>(node.get())) is_captured_leaf = true;
    }
    // retain_grad() on non-leaf outputs
    for (size_t i = 0; i < node->retained.size(); ++i) {
      auto impl = node->retained[i].lock();
      if (!impl || !grads[i].defined() || !task.accumulate) continue;
      Tensor g = task.create_graph ? grads[i] : contiguous_raw(grads[i].detach(), true);
      impl->grad = impl->grad ? add(Tensor(impl->grad), g).impl_ptr() : g.impl_ptr();
    }

    const bool is_leaf_acc = dynamic_cast<AccumulateGrad*>(node.get()) != nullptr;
    tensor_list outs;
    if (is_leaf_acc) {
      if (task.accumulate && !is_captured_leaf) {
        CurrentNodeScope scope(node.get());
        node->apply(grads);
      }
    } else {
      // absent output gradients become zeros, so each formula sees every gradient
      for (uint32_t i = 0; i < node->num_outputs; ++i)
        if (!grads[i].defined() && is_floating(node->outputs[i].dtype))
          grads[i] = zeros(node->outputs[i].sizes,
                           {.dtype = node->outputs[i].dtype, .device = node->outputs[i].device});
      CurrentNodeScope scope(node.get());
      outs = node->apply(grads);
      if (!task.retain_graph) node->release();
      FM_CHECK(outs.size() == node->next_edges.size(), "autograd: ", node->name, " returned ",
               outs.size(), " gradients for ", node->next_edges.size(), " inputs");
    }

    for (size_t i = 0; i < outs.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.node) continue;
      Tensor g = outs[i];
      if (g.defined()) {
        const Node::Meta& m = node->inputs[i];
        FM_CHECK(g.sizes() == m.sizes, "autograd: ", node->name, " produced a gradient of shape ",
                 shape_str(g.sizes()), " for its input ", i, " of shape ", shape_str(m.sizes));
        if (g.dtype() != m.dtype) g = to(g, m.dtype);
      }
      accumulate_into(buffer_of(e.node), e.input_nr, g);
      if (--deps[e.node.get()] == 0) ready.push_back(e.node);
    }
  }
}

std::vector<Edge> root_edges(const tensor_list& roots, const char* op) {
  std::vector<Edge> edges;
  for (size_t i = 0; i < roots.size(); ++i) {
    FM_CHECK(roots[i].defined() && roots[i].requires_grad(), op, ": element ", i,
             " of the outputs does not require grad and has no grad_fn (",
             roots[i].describe(), ")");
    edges.push_back(gradient_edge(roots[i]));
  }
  return edges;
}

tensor_list root_grads_for(const tensor_list& roots, const tensor_list& given, const char* op) {
  FM_CHECK(given.empty() || given.size() == roots.size(), op, ": got ", given.size(),
           " gradients for ", roots.size(), " outputs");
  tensor_list out;
  for (size_t i = 0; i < roots.size(); ++i) {
    if (!given.empty() && given[i].defined()) {
      FM_CHECK(given[i].sizes() == roots[i].sizes(), op, ": gradient ", given[i].describe(),
               " does not match output ", roots[i].describe());
      out.push_back(given[i]);
    } else {
      FM_CHECK(roots[i].numel() == 1, op, ": a gradient can be created implicitly only for "
               "outputs with one element; output ", i, " is ", roots[i].describe(),
               " (pass a gradient)");
      out.push_back(ones_like(roots[i]));
    }
  }
  return out;
}

}  // namespace

void backward(const tensor_list& roots, const tensor_list& grad_roots, bool retain_graph,
              bool create_graph) {
  GraphTask task;
  task.create_graph = create_graph;
  task.retain_graph = retain_graph || create_graph;
  run(task, root_edges(roots, "backward"), root_grads_for(roots, grad_roots, "backward"));
}

tensor_list grad(const tensor_list& outputs, const tensor_list& inputs, const tensor_list& grad_outputs,
                 bool retain_graph, bool create_graph, bool allow_unused) {
  GraphTask task;
  task.create_graph = create_graph;
  task.retain_graph = retain_graph || create_graph;
  task.accumulate = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    FM_CHECK(inputs[i].defined() && inputs[i].requires_grad(), "autograd::grad: input ", i,
             " does not require grad (", inputs[i].describe(), ")");
    task.capture.push_back(gradient_edge(inputs[i]));
  }
  task.captured.resize(inputs.size());
  run(task, root_edges(outputs, "autograd::grad"), root_grads_for(outputs, grad_outputs, "autograd::grad"));
  for (size_t i = 0; i < inputs.size(); ++i)
    FM_CHECK(allow_unused || task.captured[i].defined(), "autograd::grad: input ", i,
             " was not used in computing the outputs (pass allow_unused=true to get an undefined "
             "gradient)");
  return task.captured;
}

}  // namespace fm::autograd

namespace fm {

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  autograd::backward({*this}, gradient.defined() ? autograd::tensor_list{gradient} : autograd::tensor_list{},
                     retain_graph, create_graph);
}

void Tensor::retain_grad() const {
  TensorImpl* t = impl();
  FM_CHECK(t && t->requires_grad, "retain_grad: called on a tensor that does not require grad");
  if (!t->grad_fn) return;  // leaves keep their gradient anyway
  t->retains_grad = true;
  auto& r = t->grad_fn->retained;
  if (r.size() <= t->output_nr) r.resize(t->output_nr + 1);
  r[t->output_nr] = impl_ptr();
}

}  // namespace fm
