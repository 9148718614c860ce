// Differentiable elementwise ops: forward through kernels/elementwise.h, gradient beside it,
// written with differentiable ops so second derivatives come for free.
#include "autograd/elementwise.h"

#include <cmath>

#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/views.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "tensor/factory.h"

namespace fm {

using autograd::record;
using autograd::save;
using autograd::save_output;
using autograd::SavedTensor;
using autograd::tensor_list;
using kernels::BinaryOp;
using kernels::UnaryOp;

namespace {

// Floating ops on integer or bool tensors compute in float32, as PyTorch does.
Tensor as_floating(const Tensor& x) { return x.is_floating_point() ? x : to(x, DType::Float32); }

Tensor scalar_like(const Tensor& t, double v) { return full({}, v, {.dtype = t.dtype(), .device = t.device()}); }

// The dtype of `tensor op scalar`: the tensor's, unless an integer tensor meets a fractional one.
DType scalar_result_dtype(const Tensor& t, double s) {
  if (t.is_floating_point()) return t.dtype();
  if (std::floor(s) != s) return DType::Float32;
  return t.dtype() == DType::Bool ? DType::Int64 : t.dtype();
}

// y = op(x) with gradient g * dydx(x, y).
template <class F>
Tensor unary_op(const char* name, UnaryOp op, const Tensor& x0, F dydx, double p0 = 0, double p1 = 0) {
  const Tensor x = as_floating(x0);
  Tensor y = kernels::unary(op, x, p0, p1);
  if (autograd::grad_enabled() && x.requires_grad()) {
    record(name, {x}, {y}, [sx = save(x), sy = save_output(y), dydx](const tensor_list& g) {
      return tensor_list{dydx(g[0], sx.unpack(), sy.unpack())};
    });
  }
  return y;
}

Tensor zero_where(const Tensor& cond, const Tensor& g) { return where(cond, scalar_like(g, 0), g); }

}  // namespace

// ---------------- arithmetic ----------------

Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  Tensor y = alpha == 1 ? kernels::binary(BinaryOp::Add, a, b)
                        : kernels::binary(BinaryOp::Add, a, kernels::unary(UnaryOp::MulScalar, b, alpha));
  if (is_floating(y.dtype()))
    record("AddBackward", {a, b}, {y}, [as = a.sizes(), bs = b.sizes(), alpha](const tensor_list& g) {
      return tensor_list{sum_to(g[0], as), sum_to(alpha == 1 ? g[0] : mul(g[0], alpha), bs)};
    });
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b, double alpha) {
  Tensor y = alpha == 1 ? kernels::binary(BinaryOp::Sub, a, b)
                        : kernels::binary(BinaryOp::Sub, a, kernels::unary(UnaryOp::MulScalar, b, alpha));
  if (is_floating(y.dtype()))
    record("SubBackward", {a, b}, {y}, [as = a.sizes(), bs = b.sizes(), alpha](const tensor_list& g) {
      return tensor_list{sum_to(g[0], as), sum_to(mul(g[0], -alpha), bs)};
    });
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary(BinaryOp::Mul, a, b);
  if (is_floating(y.dtype()) && autograd::any_requires_grad({a, b})) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record("MulBackward", {a, b}, {y},
           [sa = gb ? save(a) : SavedTensor(), sb = ga ? save(b) : SavedTensor(), as = a.sizes(),
            bs = b.sizes(), ga, gb](const tensor_list& g) {
             return tensor_list{ga ? sum_to(mul(g[0], sb.unpack()), as) : Tensor(),
                                gb ? sum_to(mul(g[0], sa.unpack()), bs) : Tensor()};
           });
  }
  return y;
}

Tensor div(const Tensor& a0, const Tensor& b0) {
  const Tensor a = a0.is_floating_point() || b0.is_floating_point() ? a0 : to(a0, DType::Float32);
  const Tensor& b = b0;
  Tensor y = kernels::binary(BinaryOp::Div, a, b);
  if (autograd::any_requires_grad({a, b})) {
    const bool gb = b.requires_grad();
    record("DivBackward", {a, b}, {y},
           [sa = gb ? save(a) : SavedTensor(), sb = save(b), as = a.sizes(), bs = b.sizes(),
            gb](const tensor_list& g) {
             const Tensor bv = sb.unpack();
             Tensor gbv;
             if (gb) gbv = sum_to(neg(div(mul(g[0], sa.unpack()), mul(bv, bv))), bs);
             return tensor_list{sum_to(div(g[0], bv), as), gbv};
           });
  }
  return y;
}

Tensor add(const Tensor& a, double b) {
  Tensor x = a.dtype() == scalar_result_dtype(a, b) ? a : to(a, scalar_result_dtype(a, b));
  Tensor y = kernels::unary(UnaryOp::AddScalar, x, b);
  if (is_floating(y.dtype()))
    record("AddBackward", {x}, {y}, [](const tensor_list& g) { return tensor_list{g[0]}; });
  return y;
}

Tensor mul(const Tensor& a, double b) {
  Tensor x = a.dtype() == scalar_result_dtype(a, b) ? a : to(a, scalar_result_dtype(a, b));
  Tensor y = kernels::unary(UnaryOp::MulScalar, x, b);
  if (is_floating(y.dtype()))
    record("MulBackward", {x}, {y}, [b](const tensor_list& g) { return tensor_list{mul(g[0], b)}; });
  return y;
}

Tensor neg(const Tensor& x) {
  Tensor y = kernels::unary(UnaryOp::Neg, x);
  if (is_floating(y.dtype()))
    record("NegBackward", {x}, {y}, [](const tensor_list& g) { return tensor_list{neg(g[0])}; });
  return y;
}

Tensor pow(const Tensor& x0, double e) {
  if (e == 1) return clone(as_floating(x0));
  return unary_op("PowBackward", UnaryOp::PowScalar, x0,
                  [e](const Tensor& g, const Tensor& x, const Tensor&) {
                    if (e == 0) return mul(g, 0.0);
                    return mul(g, mul(pow(x, e - 1), e));
                  },
                  e);
}

Tensor pow(const Tensor& x0, const Tensor& e0) {
  const Tensor x = as_floating(x0), e = as_floating(e0);
  Tensor y = kernels::binary(BinaryOp::Pow, x, e);
  if (autograd::any_requires_grad({x, e}))
    record("PowBackward", {x, e}, {y},
           [sx = save(x), se = save(e), sy = save_output(y), xs = x.sizes(), es = e.sizes(),
            need_x = x.requires_grad(), need_e = e.requires_grad()](const tensor_list& g) {
             const Tensor xv = sx.unpack(), ev = se.unpack();
             Tensor dx, de;
             // d/dx x^e = e x^(e-1); defined as 0 where e == 0 (x^0 is constant, even at x == 0)
             if (need_x)
               dx = sum_to(zero_where(eq(ev, 0.0), mul(g[0], mul(ev, pow(xv, sub(ev, scalar_like(ev, 1)))))), xs);
             if (need_e) {
               // d/de x^e = x^e log x; defined as 0 where x == 0 and e >= 0 (PyTorch's choice)
               const Tensor mask = logical_and(eq(xv, 0.0), ge(ev, 0.0));
               de = sum_to(zero_where(mask, mul(g[0], mul(sy.unpack(), log(xv)))), es);
             }
             return tensor_list{dx, de};
           });
  return y;
}

Tensor pow(double base, const Tensor& e) {
  return unary_op("PowBackward", UnaryOp::RpowScalar, e,
                  [base](const Tensor& g, const Tensor& e, const Tensor& y) {
                    const Tensor de = mul(g, mul(y, std::log(base)));
                    // 0^e: defined as 0 where e >= 0 (PyTorch's choice), not 0 * log 0 = nan
                    return base == 0 ? zero_where(ge(e, 0.0), de) : de;
                  },
                  base);
}

// ---------------- math ----------------

Tensor exp(const Tensor& x) {
  return unary_op("ExpBackward", UnaryOp::Exp, x,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, y); });
}
Tensor log(const Tensor& x) {
  return unary_op("LogBackward", UnaryOp::Log, x,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, x); });
}
Tensor log1p(const Tensor& x) {
  return unary_op("Log1pBackward", UnaryOp::Log1p, x,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, add(x, 1.0)); });
}
Tensor sqrt(const Tensor& x) {
  return unary_op("SqrtBackward", UnaryOp::Sqrt, x,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return div(g, mul(y, 2.0)); });
}
Tensor rsqrt(const Tensor& x) {
  return unary_op("RsqrtBackward", UnaryOp::Rsqrt, x, [](const Tensor& g, const Tensor&, const Tensor& y) {
    return mul(g, mul(pow(y, 3.0), -0.5));
  });
}
Tensor abs(const Tensor& x) {
  if (!x.is_floating_point()) return kernels::unary(UnaryOp::Abs, x);
  return unary_op("AbsBackward", UnaryOp::Abs, x,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, sign(x)); });
}
Tensor sign(const Tensor& x) {
  if (!x.is_floating_point()) return kernels::unary(UnaryOp::Sign, x);
  return unary_op("SignBackward", UnaryOp::Sign, x,
                  [](const Tensor& g, const Tensor&, const Tensor&) { return mul(g, 0.0); });
}
Tensor sin(const Tensor& x) {
  return unary_op("SinBackward", UnaryOp::Sin, x,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, cos(x)); });
}
Tensor cos(const Tensor& x) {
  return unary_op("CosBackward", UnaryOp::Cos, x,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return neg(mul(g, sin(x))); });
}
Tensor tanh(const Tensor& x) {
  return unary_op("TanhBackward", UnaryOp::Tanh, x, [](const Tensor& g, const Tensor&, const Tensor& y) {
    return mul(g, sub(scalar_like(y, 1), mul(y, y)));
  });
}
Tensor erf(const Tensor& x) {
  return unary_op("ErfBackward", UnaryOp::Erf, x, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return mul(g, mul(exp(neg(mul(x, x))), 2.0 / std::sqrt(M_PI)));
  });
}
Tensor sigmoid(const Tensor& x) {
  return unary_op("SigmoidBackward", UnaryOp::Sigmoid, x, [](const Tensor& g, const Tensor&, const Tensor& y) {
    return mul(g, mul(y, sub(scalar_like(y, 1), y)));
  });
}
Tensor relu(const Tensor& x) {
  if (!x.is_floating_point()) return kernels::unary(UnaryOp::Relu, x);
  return unary_op("ReluBackward", UnaryOp::Relu, x, [](const Tensor& g, const Tensor&, const Tensor& y) {
    return zero_where(le(y, 0.0), g);
  });
}
Tensor leaky_relu(const Tensor& x, double slope) {
  return unary_op("LeakyReluBackward", UnaryOp::LeakyRelu, x,
                  [slope](const Tensor& g, const Tensor& x, const Tensor&) {
                    return where(gt(x, 0.0), g, mul(g, slope));
                  },
                  slope);
}
Tensor elu(const Tensor& x, double alpha) {
  return unary_op("EluBackward", UnaryOp::Elu, x,
                  [alpha](const Tensor& g, const Tensor& x, const Tensor& y) {
                    return where(gt(x, 0.0), g, mul(g, add(y, alpha)));
                  },
                  alpha);
}
Tensor gelu(const Tensor& x, const std::string& approximate) {
  FM_CHECK(approximate == "none" || approximate == "tanh", "gelu: approximate must be 'none' or "
           "'tanh', got '", approximate, "'");
  if (approximate == "none")
    return unary_op("GeluBackward", UnaryOp::Gelu, x, [](const Tensor& g, const Tensor& x, const Tensor&) {
      // Phi(x) + x phi(x)
      const Tensor cdf = mul(add(erf(mul(x, M_SQRT1_2)), 1.0), 0.5);
      const Tensor pdf = mul(exp(mul(mul(x, x), -0.5)), 1.0 / std::sqrt(2 * M_PI));
      return mul(g, add(cdf, mul(x, pdf)));
    });
  return unary_op("GeluBackward", UnaryOp::GeluTanh, x, [](const Tensor& g, const Tensor& x, const Tensor&) {
    const double k = std::sqrt(2.0 / M_PI), c = 0.044715;
    const Tensor x2 = mul(x, x);
    const Tensor inner = mul(add(x, mul(mul(x2, x), c)), k);
    const Tensor th = tanh(inner);
    const Tensor dinner = mul(add(mul(x2, 3 * c), 1.0), k);
    const Tensor left = mul(add(th, 1.0), 0.5);
    const Tensor right = mul(mul(x, sub(scalar_like(th, 1), mul(th, th))), mul(dinner, 0.5));
    return mul(g, add(left, right));
  });
}
Tensor silu(const Tensor& x) {
  return unary_op("SiluBackward", UnaryOp::Silu, x, [](const Tensor& g, const Tensor& x, const Tensor&) {
    const Tensor s = sigmoid(x);
    return mul(g, mul(s, add(mul(x, sub(scalar_like(s, 1), s)), 1.0)));
  });
}
Tensor softplus(const Tensor& x, double beta, double threshold) {
  return unary_op("SoftplusBackward", UnaryOp::Softplus, x,
                  [beta, threshold](const Tensor& g, const Tensor& x, const Tensor&) {
                    const Tensor bx = mul(x, beta);
                    return where(gt(bx, threshold), g, mul(g, sigmoid(bx)));
                  },
                  beta, threshold);
}
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  FM_CHECK(lo || hi, "clamp: at least one of min and max must be given");
  const double l = lo.value_or(NAN), h = hi.value_or(NAN);
  if (!x.is_floating_point()) return kernels::unary(UnaryOp::Clamp, x, l, h);
  return unary_op("ClampBackward", UnaryOp::Clamp, x,
                  [lo, hi](const Tensor& g, const Tensor& x, const Tensor&) {
                    Tensor out_of_range;
                    if (lo) out_of_range = lt(x, *lo);
                    if (hi) out_of_range = out_of_range.defined() ? logical_or(out_of_range, gt(x, *hi)) : gt(x, *hi);
                    return zero_where(out_of_range, g);
                  },
                  l, h);
}

namespace {
Tensor min_max(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary(op, a, b);
  if (is_floating(y.dtype()) && autograd::any_requires_grad({a, b}))
    record(name, {a, b}, {y},
           [sa = save(a), sb = save(b), as = a.sizes(), bs = b.sizes(), op](const tensor_list& g) {
             const Tensor av = sa.unpack(), bv = sb.unpack();
             // ties share the gradient equally (PyTorch 1.13)
             const Tensor a_loses = op == BinaryOp::Maximum ? lt(av, bv) : gt(av, bv);
             const Tensor b_loses = op == BinaryOp::Maximum ? gt(av, bv) : lt(av, bv);
             const Tensor tie = eq(av, bv);
             const Tensor half = mul(g[0], 0.5);
             const Tensor ga = zero_where(a_loses, where(tie, half, g[0]));
             const Tensor gb = zero_where(b_loses, where(tie, half, g[0]));
             return tensor_list{sum_to(ga, as), sum_to(gb, bs)};
           });
  return y;
}
}  // namespace

Tensor minimum(const Tensor& a, const Tensor& b) { return min_max("MinimumBackward", BinaryOp::Minimum, a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return min_max("MaximumBackward", BinaryOp::Maximum, a, b); }

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor y = kernels::where(cond, a, b);
  if (is_floating(y.dtype()) && autograd::any_requires_grad({a, b}))
    record("WhereBackward", {a, b}, {y}, [c = cond.detach(), as = a.sizes(), bs = b.sizes()](const tensor_list& g) {
      const Tensor z = scalar_like(g[0], 0);
      return tensor_list{sum_to(where(c, g[0], z), as), sum_to(where(c, z, g[0]), bs)};
    });
  return y;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  FM_CHECK(mask.dtype() == DType::Bool, "masked_fill: mask must be bool, got ", mask.describe());
  const Shape out = kernels::broadcast_shapes(x.sizes(), mask.sizes(), "masked_fill");
  FM_CHECK(out == x.sizes(), "masked_fill: mask ", mask.describe(), " must broadcast to ", x.describe());
  return where(mask, full({}, value, {.dtype = x.dtype(), .device = x.device()}), x);
}

// ---------------- comparisons ----------------

#define FM_COMPARE(fn, OP)                                                          \
  Tensor fn(const Tensor& a, const Tensor& b) { return kernels::binary(BinaryOp::OP, a, b); } \
  Tensor fn(const Tensor& a, double b) {                                            \
    return kernels::binary(BinaryOp::OP, a, full({}, b, {.dtype = a.is_floating_point() ? a.dtype() : DType::Float64, .device = a.device()})); \
  }
FM_COMPARE(eq, Eq)
FM_COMPARE(ne, Ne)
FM_COMPARE(lt, Lt)
FM_COMPARE(le, Le)
FM_COMPARE(gt, Gt)
FM_COMPARE(ge, Ge)
#undef FM_COMPARE

Tensor logical_and(const Tensor& a, const Tensor& b) { return kernels::binary(BinaryOp::LogicalAnd, a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return kernels::binary(BinaryOp::LogicalOr, a, b); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { return kernels::binary(BinaryOp::LogicalXor, a, b); }
Tensor logical_not(const Tensor& a) { return kernels::unary(UnaryOp::LogicalNot, a); }

bool equal(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  NoGradGuard ng;
  return a.numel() == 0 || kernels::reduce(kernels::ReduceOp::Min, to(eq(a, b), DType::Int64),
                                           std::vector<bool>(a.dim(), true), false).item<int64_t>() == 1;
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.sizes() != b.sizes()) return false;
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) return false;
    if (x[i] == y[i]) continue;
    if (std::abs(x[i] - y[i]) > atol + rtol * std::abs(y[i])) return false;
  }
  return true;
}

// ---------------- in place ----------------

namespace {

// Runs an in-place update. Without a graph to keep: the kernel writes x directly. With one,
// the out-of-place result oop(self) is computed with its graph, written into x, and x takes its
// history. When the out-of-place op saves its input for backward (saves_self), self is a
// differentiable clone of x, so that the values backward needs are not the ones overwritten
// here (PyTorch saves the "original self" the same way).
template <class OutOfPlace, class Kernel>
Tensor& inplace(const char* name, Tensor& x, const tensor_list& others, OutOfPlace oop, Kernel kernel,
                bool saves_self = false) {
  const bool track = autograd::grad_enabled() && (x.requires_grad() || autograd::any_requires_grad(others));
  if (!track) {
    kernel();
    x.bump_version();
    return x;
  }
  FM_CHECK(!(x.is_leaf() && x.requires_grad()), name, ": a leaf tensor that requires grad (",
           x.describe(), ") is being used in an in-place operation; wrap it in NoGradGuard or "
           "use an out-of-place op");
  FM_CHECK(!x.impl()->is_view, name, ": in-place operation on a view of ", x.describe(),
           " while recording gradients is not supported; clone() it first");
  Tensor y = oop(saves_self ? clone(x) : x);
  FM_CHECK(y.sizes() == x.sizes(), name, ": the result shape ", shape_str(y.sizes()),
           " does not match the in-place target ", x.describe());
  {
    NoGradGuard ng;
    copy_into(x, y);
  }
  x.bump_version();
  TensorImpl* xi = x.impl();
  xi->grad_fn = y.impl()->grad_fn;
  xi->output_nr = y.impl()->output_nr;
  xi->requires_grad = y.requires_grad();
  return x;
}

void check_inplace_shape(const char* name, const Tensor& x, const Tensor& o) {
  const Shape s = kernels::broadcast_shapes(x.sizes(), o.sizes(), name);
  FM_CHECK(s == x.sizes(), name, ": ", o.describe(), " does not broadcast to the in-place target ",
           x.describe());
}

}  // namespace

Tensor& add_(Tensor& x, const Tensor& o, double alpha) {
  check_inplace_shape("add_", x, o);
  return inplace("add_", x, {o}, [&](const Tensor& s) { return add(s, o, alpha); }, [&] {
    kernels::binary_into(BinaryOp::Add, x, x, alpha == 1 ? o : kernels::unary(UnaryOp::MulScalar, o, alpha));
  });
}
Tensor& sub_(Tensor& x, const Tensor& o, double alpha) { return add_(x, o, -alpha); }
Tensor& mul_(Tensor& x, const Tensor& o) {
  check_inplace_shape("mul_", x, o);
  return inplace("mul_", x, {o}, [&](const Tensor& s) { return mul(s, o); },
                 [&] { kernels::binary_into(BinaryOp::Mul, x, x, o); }, /*saves_self=*/true);
}
Tensor& div_(Tensor& x, const Tensor& o) {
  check_inplace_shape("div_", x, o);
  return inplace("div_", x, {o}, [&](const Tensor& s) { return div(s, o); },
                 [&] { kernels::binary_into(BinaryOp::Div, x, x, o); }, /*saves_self=*/true);
}
Tensor& add_(Tensor& x, double v) {
  return inplace("add_", x, {}, [&](const Tensor& s) { return add(s, v); },
                 [&] { kernels::unary_into(UnaryOp::AddScalar, x, x, v); });
}
Tensor& mul_(Tensor& x, double v) {
  return inplace("mul_", x, {}, [&](const Tensor& s) { return mul(s, v); },
                 [&] { kernels::unary_into(UnaryOp::MulScalar, x, x, v); });
}
Tensor& clamp_(Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  return inplace("clamp_", x, {}, [&](const Tensor& s) { return clamp(s, lo, hi); },
                 [&] { kernels::unary_into(UnaryOp::Clamp, x, x, lo.value_or(NAN), hi.value_or(NAN)); },
                 /*saves_self=*/true);
}
Tensor& copy_(Tensor& x, const Tensor& src) {
  check_inplace_shape("copy_", x, src);
  return inplace("copy_", x, {src},
                 [&](const Tensor& s) { return add(mul(s, 0.0), to(expand(src, s.sizes()), s.dtype())); },
                 [&] { copy_into(x, src.sizes() == x.sizes() ? src : expand(src.detach(), x.sizes())); });
}
Tensor& fill_(Tensor& x, double v) {
  return inplace("fill_", x, {}, [&](const Tensor& s) { return add(mul(s, 0.0), v); },
                 [&] { kernels::fill(x, v); });
}
Tensor& zero_(Tensor& x) { return fill_(x, 0.0); }

// ---------------- operators ----------------

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator+(const Tensor& a, double b) { return add(a, b); }
Tensor operator-(const Tensor& a, double b) { return add(a, -b); }
Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
Tensor operator/(const Tensor& a, double b) { return mul(a, 1.0 / b); }
Tensor operator+(double a, const Tensor& b) { return add(b, a); }
Tensor operator-(double a, const Tensor& b) { return add(neg(b), a); }
Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
Tensor operator/(double a, const Tensor& b) {
  return unary_op("DivBackward", UnaryOp::RdivScalar, b,
                  [](const Tensor& g, const Tensor& x, const Tensor& y) { return neg(div(mul(g, y), x)); },
                  a);
}
Tensor& operator+=(Tensor& a, const Tensor& b) { return add_(a, b); }
Tensor& operator-=(Tensor& a, const Tensor& b) { return sub_(a, b); }
Tensor& operator*=(Tensor& a, const Tensor& b) { return mul_(a, b); }
Tensor& operator*=(Tensor& a, double b) { return mul_(a, b); }

}  // namespace fm
