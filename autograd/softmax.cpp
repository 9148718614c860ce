// Forward and gradient through fused kernels; when a graph of the gradient itself is needed
// (create_graph), the gradient is recorded as the same formula in differentiable ops.
#include "autograd/softmax.h"

#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "kernels/softmax.h"

namespace fm {

using autograd::record;
using autograd::save_output;
using autograd::tensor_list;

namespace {
Tensor as_floating(const Tensor& x) { return x.is_floating_point() ? x : to_raw(x, DType::Float32, x.device()); }
}  // namespace

Tensor softmax(const Tensor& x0, int64_t dim) {
  const Tensor x = as_floating(x0);
  Tensor y = kernels::softmax(x, dim);
  record("SoftmaxBackward", {x}, {y}, [sy = save_output(y), dim](const tensor_list& g) {
    const Tensor yv = sy.unpack();
    if (!autograd::grad_enabled()) return tensor_list{kernels::softmax_backward(g[0], yv, dim)};
    const Tensor gy = mul(g[0], yv);
    return tensor_list{sub(gy, mul(yv, sum(gy, {dim}, true)))};
  });
  return y;
}

Tensor log_softmax(const Tensor& x0, int64_t dim) {
  const Tensor x = as_floating(x0);
  Tensor y = kernels::log_softmax(x, dim);
  record("LogSoftmaxBackward", {x}, {y}, [sy = save_output(y), dim](const tensor_list& g) {
    const Tensor yv = sy.unpack();
    if (!autograd::grad_enabled()) return tensor_list{kernels::log_softmax_backward(g[0], yv, dim)};
    return tensor_list{sub(g[0], mul(exp(yv), sum(g[0], {dim}, true)))};
  });
  return y;
}

}  // namespace fm
