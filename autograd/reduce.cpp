#include "autograd/reduce.h"

#include <cmath>

#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "autograd/views.h"
#include "kernels/reduce.h"
#include "tensor/factory.h"

namespace fm {

using autograd::record;
using autograd::save;
using autograd::save_output;
using autograd::tensor_list;
using kernels::ReduceOp;

namespace {

// Re-inserts reduced dims as size 1, so a reduced tensor broadcasts against the input.
Tensor unsqueeze_reduced(const Tensor& y, const std::vector<bool>& mask, bool keepdim) {
  if (keepdim) return y;
  Shape s;
  int64_t k = 0;
  for (size_t d = 0; d < mask.size(); ++d) s.push_back(mask[d] ? 1 : y.size(k++));
  return reshape(y, s);
}

int64_t reduced_count(const Tensor& x, const std::vector<bool>& mask) {
  int64_t n = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (mask[d]) n *= x.size(d);
  return n;
}

Tensor as_floating(const Tensor& x) { return x.is_floating_point() ? x : to(x, DType::Float32); }

// amax/amin/max(): gradient shared equally by all positions holding the extreme value.
Tensor extreme(const char* name, ReduceOp op, const Tensor& x, const Dims& dims, bool keepdim) {
  const auto mask = kernels::reduction_mask(dims, x.dim(), name);
  FM_CHECK(x.numel() > 0, name, ": cannot reduce an empty tensor ", x.describe());
  Tensor y = kernels::reduce(op, x, mask, keepdim);
  if (x.is_floating_point())
    record(name, {x}, {y}, [sx = save(x), sy = save_output(y), mask, keepdim](const tensor_list& g) {
      const Tensor xv = sx.unpack();
      const Tensor yk = unsqueeze_reduced(sy.unpack(), mask, keepdim);
      const Tensor hit = to(eq(xv, yk), xv.dtype());
      const Tensor count = sum(hit, [&] {
        Dims d;
        for (size_t i = 0; i < mask.size(); ++i)
          if (mask[i]) d.push_back(static_cast<int64_t>(i));
        return d;
      }(), true);
      return tensor_list{mul(div(unsqueeze_reduced(g[0], mask, keepdim), count), hit)};
    });
  return y;
}

std::pair<Tensor, Tensor> extreme_dim(const char* name, ReduceOp op, const Tensor& x, int64_t dim,
                                      bool keepdim) {
  auto [values, indices] = kernels::reduce_with_index(op, x, dim, keepdim);
  if (x.is_floating_point()) {
    const int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), name);
    record(name, {x}, {values},
           [idx = indices, xs = x.sizes(), d, keepdim, nd = x.dim()](const tensor_list& g) {
             if (nd == 0) return tensor_list{g[0]};
             // gradient goes to the selected position along `d`: compare positions with the index
             Shape pos_shape(nd, 1);
             pos_shape[d] = xs[d];
             const Tensor pos = reshape(arange(xs[d]), pos_shape);
             const Tensor ik = keepdim ? idx : unsqueeze(idx, d);
             const Tensor gk = keepdim ? g[0] : unsqueeze(g[0], d);
             const Tensor hit = eq(pos, ik);
             return tensor_list{where(hit, expand(gk, xs), full({}, 0.0, {.dtype = g[0].dtype(), .device = g[0].device()}))};
           });
  }
  return {values, indices};
}

}  // namespace

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  const auto mask = kernels::reduction_mask(dims, x.dim(), "sum");
  Tensor y = kernels::reduce(ReduceOp::Sum, x, mask, keepdim);
  if (x.is_floating_point())
    record("SumBackward", {x}, {y}, [mask, keepdim, xs = x.sizes()](const tensor_list& g) {
      return tensor_list{expand(unsqueeze_reduced(g[0], mask, keepdim), xs)};
    });
  return y;
}

Tensor mean(const Tensor& x0, const Dims& dims, bool keepdim) {
  const Tensor x = as_floating(x0);
  const auto mask = kernels::reduction_mask(dims, x.dim(), "mean");
  const int64_t n = reduced_count(x, mask);
  return mul(sum(x, dims, keepdim), n ? 1.0 / static_cast<double>(n) : NAN);
}

Tensor prod(const Tensor& x, const Dims& dims, bool keepdim) {
  const auto mask = kernels::reduction_mask(dims, x.dim(), "prod");
  Tensor y = kernels::reduce(ReduceOp::Prod, x, mask, keepdim);
  if (x.is_floating_point())
    record("ProdBackward", {x}, {y}, [sx = save(x), sy = save_output(y), mask, keepdim, dims](const tensor_list& g) {
      // d prod / d x_i = prod of the others; computed without dividing so zeros are exact
      const Tensor xv = sx.unpack();
      const Tensor gk = unsqueeze_reduced(g[0], mask, keepdim);
      const Tensor yk = unsqueeze_reduced(sy.unpack(), mask, keepdim);
      const Tensor zero = eq(xv, 0.0);
      const Tensor safe = where(zero, full({}, 1.0, {.dtype = xv.dtype()}), xv);
      const Tensor prod_nonzero = prod(safe, dims, true);
      const Tensor zeros_count = sum(to(zero, DType::Int64), dims, true);
      // no zero: y / x; exactly one zero: at the zero, the product of the rest; else 0
      const Tensor at_zero = where(eq(zeros_count, 1.0), prod_nonzero, full({}, 0.0, {.dtype = xv.dtype()}));
      const Tensor others = where(zero, at_zero, where(eq(zeros_count, 0.0), div(yk, safe), full({}, 0.0, {.dtype = xv.dtype()})));
      return tensor_list{mul(gk, others)};
    });
  return y;
}

Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) { return extreme("AmaxBackward", ReduceOp::Max, x, dims, keepdim); }
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) { return extreme("AminBackward", ReduceOp::Min, x, dims, keepdim); }
Tensor max(const Tensor& x) { return extreme("MaxBackward", ReduceOp::Max, x, {}, false); }
Tensor min(const Tensor& x) { return extreme("MinBackward", ReduceOp::Min, x, {}, false); }
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim("MaxBackward", ReduceOp::Max, x, dim, keepdim);
}
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim("MinBackward", ReduceOp::Min, x, dim, keepdim);
}
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return kernels::reduce_with_index(ReduceOp::Max, x, dim, keepdim).second;
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  return kernels::reduce_with_index(ReduceOp::Min, x, dim, keepdim).second;
}
Tensor argmax(const Tensor& x) { return argmax(reshape(x.detach(), {-1}), 0); }
Tensor argmin(const Tensor& x) { return argmin(reshape(x.detach(), {-1}), 0); }

Tensor var(const Tensor& x0, const Dims& dims, int64_t correction, bool keepdim) {
  const Tensor x = as_floating(x0);
  const auto mask = kernels::reduction_mask(dims, x.dim(), "var");
  const int64_t n = reduced_count(x, mask);
  const Tensor d = sub(x, mean(x, dims, true));
  const double denom = static_cast<double>(n - correction);
  return mul(sum(mul(d, d), dims, keepdim), denom > 0 ? 1.0 / denom : NAN);
}

Tensor std(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  return sqrt(var(x, dims, correction, keepdim));
}

Tensor logsumexp(const Tensor& x0, const Dims& dims, bool keepdim) {
  const Tensor x = as_floating(x0);
  const auto mask = kernels::reduction_mask(dims, x.dim(), "logsumexp");
  if (x.numel() == 0) return log(sum(exp(x), dims, keepdim));
  // shift by the (constant) max for stability; an infinite max is replaced by 0
  Tensor m = kernels::reduce(ReduceOp::Max, x.detach(), mask, true);
  m = where(eq(abs(m), INFINITY), full({}, 0.0, {.dtype = m.dtype()}), m);
  Tensor s = log(sum(exp(sub(x, m)), dims, true));
  Tensor y = add(s, m);
  if (!keepdim) {
    Shape out = kernels::reduced_shape(x.sizes(), mask, false);
    y = reshape(y, out);
  }
  return y;
}

Tensor norm(const Tensor& x0, double p, const Dims& dims, bool keepdim) {
  const Tensor x = as_floating(x0);
  FM_CHECK(p > 0, "norm: p must be positive, got ", p);
  if (std::isinf(p)) return amax(abs(x), dims, keepdim);
  if (p == 1) return sum(abs(x), dims, keepdim);
  if (p == 2) {
    const auto mask = kernels::reduction_mask(dims, x.dim(), "norm");
    Tensor y;
    {
      NoGradGuard ng;
      y = sqrt(sum(mul(x, x), dims, keepdim));
    }
    // d|x|/dx = x/|x|, taken as 0 at |x| = 0 (PyTorch's subgradient)
    record("NormBackward", {x}, {y}, [sx = save(x), sy = save_output(y), mask, keepdim](const tensor_list& g) {
      const Tensor xv = sx.unpack();
      const Tensor yk = unsqueeze_reduced(sy.unpack(), mask, keepdim);
      const Tensor gk = unsqueeze_reduced(g[0], mask, keepdim);
      const Tensor zero = full({}, 0.0, {.dtype = xv.dtype(), .device = xv.device()});
      return tensor_list{where(eq(yk, 0.0), zero, mul(xv, div(gk, yk)))};
    });
    return y;
  }
  return pow(sum(pow(abs(x), p), dims, keepdim), 1.0 / p);
}

}  // namespace fm
