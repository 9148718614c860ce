#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/views.h"
#include "tensor/factory.h"

namespace fm::autograd {

namespace {

// Address of flat (row-major) element i of a strided float64 tensor.
double* element(const Tensor& t, int64_t i) {
  double* base = static_cast<double*>(t.raw_data());
  int64_t off = 0;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    off += (i % t.size(d)) * t.stride(d);
    i /= t.size(d);
  }
  return base + off;
}

std::vector<double> flat_outputs(const TestFn& fn, const tensor_list& inputs) {
  NoGradGuard ng;
  std::vector<double> out;
  for (const Tensor& o : fn(inputs)) {
    if (!o.defined() || !o.is_floating_point()) continue;
    auto v = o.to_vector<double>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

}  // namespace

GradcheckResult gradcheck(const TestFn& fn, const tensor_list& inputs, GradcheckOptions opt) {
  for (size_t k = 0; k < inputs.size(); ++k)
    if (inputs[k].defined() && inputs[k].requires_grad())
      FM_CHECK(inputs[k].dtype() == DType::Float64 && inputs[k].device().is_cpu(),
               "gradcheck: input ", k, " must be a float64 CPU tensor, got ", inputs[k].describe());
  // analytic: one backward per output element
  tensor_list outs = fn(inputs);
  tensor_list diff_outs;
  for (const Tensor& o : outs)
    if (o.defined() && o.requires_grad()) diff_outs.push_back(o);
  tensor_list diff_inputs;
  std::vector<size_t> diff_index;
  for (size_t k = 0; k < inputs.size(); ++k)
    if (inputs[k].defined() && inputs[k].requires_grad()) {
      diff_inputs.push_back(inputs[k]);
      diff_index.push_back(k);
    }
  int64_t n_out = 0;
  for (const Tensor& o : outs)
    if (o.defined() && o.is_floating_point()) n_out += o.numel();
  if (diff_inputs.empty()) return {};
  // analytic[k][j][i] = d out_j / d input_k[i]
  std::vector<std::vector<std::vector<double>>> analytic(diff_inputs.size(),
      std::vector<std::vector<double>>(n_out));
  int64_t j = 0;
  for (const Tensor& o : outs) {
    if (!o.defined() || !o.is_floating_point()) continue;
    for (int64_t e = 0; e < o.numel(); ++e, ++j) {
      for (size_t k = 0; k < diff_inputs.size(); ++k)
        analytic[k][j].assign(diff_inputs[k].numel(), 0.0);
      if (!o.requires_grad()) continue;
      Tensor seed = zeros(o.sizes(), {.dtype = o.dtype()});
      seed.data_ptr<double>()[e] = 1.0;
      tensor_list gs = grad({o}, diff_inputs, {seed}, /*retain_graph=*/true, false, /*allow_unused=*/true);
      for (size_t k = 0; k < diff_inputs.size(); ++k)
        if (gs[k].defined()) analytic[k][j] = gs[k].to_vector<double>();
    }
  }
  // numeric: central differences
  for (size_t k = 0; k < diff_inputs.size(); ++k) {
    const Tensor& x = diff_inputs[k];
    for (int64_t i = 0; i < x.numel(); ++i) {
      double* p = element(x, i);
      const double orig = *p;
      *p = orig + opt.eps;
      const auto plus = flat_outputs(fn, inputs);
      *p = orig - opt.eps;
      const auto minus = flat_outputs(fn, inputs);
      *p = orig;
      for (int64_t jj = 0; jj < n_out; ++jj) {
        const double num = (plus[jj] - minus[jj]) / (2 * opt.eps);
        const double ana = analytic[k][jj][i];
        if (std::abs(num - ana) > opt.atol + opt.rtol * std::abs(num) || std::isnan(ana) != std::isnan(num)) {
          std::ostringstream os;
          os << "gradcheck: Jacobian mismatch for input " << diff_index[k] << " ("
             << x.describe() << "), element " << i << ", output element " << jj
             << ": numerical " << num << ", analytical " << ana;
          return {false, os.str()};
        }
      }
    }
  }
  return {};
}

GradcheckResult gradgradcheck(const TestFn& fn, const tensor_list& inputs, GradcheckOptions opt) {
  // random gradients for the outputs become extra inputs of the gradient function
  tensor_list outs = fn(inputs);
  tensor_list all = inputs;
  Generator gen(1234);
  std::vector<size_t> out_slots;
  for (const Tensor& o : outs) {
    if (!o.defined() || !o.requires_grad()) continue;
    Tensor v = randn(o.sizes(), {.dtype = DType::Float64}, &gen);
    v.requires_grad_(true);
    out_slots.push_back(all.size());
    all.push_back(v);
  }
  const size_t n_in = inputs.size();
  TestFn grad_fn = [fn, n_in](const tensor_list& args) {
    EnableGradGuard eg;  // the gradient is computed by autograd even when values are probed
    tensor_list ins(args.begin(), args.begin() + static_cast<int64_t>(n_in));
    tensor_list vs(args.begin() + static_cast<int64_t>(n_in), args.end());
    tensor_list os;
    for (const Tensor& o : fn(ins))
      if (o.defined() && o.requires_grad()) os.push_back(o);
    tensor_list diff;
    for (const Tensor& t : ins)
      if (t.defined() && t.requires_grad()) diff.push_back(t);
    tensor_list gs = grad(os, diff, vs, /*retain_graph=*/true, /*create_graph=*/true, /*allow_unused=*/true);
    tensor_list out;
    for (size_t i = 0; i < gs.size(); ++i)
      out.push_back(gs[i].defined() ? gs[i] : zeros_like(diff[i]));
    return out;
  };
  GradcheckResult r = gradcheck(grad_fn, all, opt);
  if (!r.ok) r.message = "gradgradcheck (second derivatives): " + r.message;
  return r;
}

}  // namespace fm::autograd
