#pragma once
// gradcheck: compares the analytic gradient (autograd) with central finite differences, in
// float64, for every input element and every output element. gradgradcheck does the same for
// the gradient itself (second derivatives through create_graph).
#include <functional>
#include <string>

#include "autograd/node.h"

namespace fm::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // the first mismatch: which input, which element, both values
  explicit operator bool() const { return ok; }
};

using TestFn = std::function<tensor_list(const tensor_list&)>;

// `inputs` must be float64; those with requires_grad are checked. Inputs may be views or
// non-contiguous: perturbations go through their strides.
GradcheckResult gradcheck(const TestFn& fn, const tensor_list& inputs, GradcheckOptions opt = {});
GradcheckResult gradgradcheck(const TestFn& fn, const tensor_list& inputs, GradcheckOptions opt = {});

}  // namespace fm::autograd
