#pragma once
// The backward engine: walks the graph from the roots in dependency order (a node runs once
// all gradients flowing into it have arrived) and accumulates into leaves' .grad.
#include "autograd/node.h"

namespace fm::autograd {

// loss.backward(): accumulates d(roots)/d(leaf) into every leaf's .grad.
void backward(const tensor_list& roots, const tensor_list& grad_roots = {},
              bool retain_graph = false, bool create_graph = false);

// torch.autograd.grad: returns d(outputs)/d(inputs) without touching any .grad.
// retain_graph defaults to create_graph. An input the outputs do not depend on gets an
// undefined tensor if allow_unused, else an error.
tensor_list grad(const tensor_list& outputs, const tensor_list& inputs,
                 const tensor_list& grad_outputs = {}, bool retain_graph = false,
                 bool create_graph = false, bool allow_unused = false);

}  // namespace fm::autograd
