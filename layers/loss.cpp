// Losses built from differentiable ops (so gradients and second derivatives come from the ops'
// own formulas), with three small recorded nodes where PyTorch's gradient differs from the
// naive composite: binary_cross_entropy (PyTorch's clamped gradient), the stable softplus
// inside binary_cross_entropy_with_logits, and cosine_similarity's clamp that changes the value
// but not the gradient. cross_entropy is log_softmax (fused kernels) + gather; nt_xent_loss is
// one fused node (kernels/contrastive.h).
#include "layers/loss.h"

#include <tuple>

#include <cmath>
#include <limits>

#include "autograd/elementwise.h"
#include "autograd/index.h"
#include "autograd/linalg.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/shape.h"
#include "autograd/softmax.h"
#include "autograd/views.h"
#include "kernels/contrastive.h"
#include "kernels/elementwise.h"
#include "kernels/loss.h"
#include "tensor/factory.h"

namespace fm::nn {

using autograd::record;
using autograd::save;
using autograd::tensor_list;

namespace {

std::string desc(const Tensor& t) { return t.defined() ? t.describe() : std::string("undefined"); }

void check_reduction(const char* op, const std::string& r, bool batchmean = false) {
  FM_CHECK(r == "mean" || r == "sum" || r == "none" || (batchmean && r == "batchmean"), op,
           ": reduction must be 'mean', 'sum'", batchmean ? ", 'none' or 'batchmean'" : " or 'none'",
           ", got '", r, "'");
}

Tensor reduce(const Tensor& l, const std::string& r) {
  if (r == "none") return l;
  if (r == "sum") return sum(l);
  return mean(l);
}

Tensor scalar_like(double v, const Tensor& like) {
  return full({}, v, {.dtype = like.dtype(), .device = like.device()});
}

void check_floating(const char* op, const char* name, const Tensor& t) {
  FM_CHECK(t.defined() && t.is_floating_point(), op, ": ", name, " must be a floating-point tensor, got ", desc(t));
}

void check_same_shape(const char* op, const Tensor& input, const Tensor& target) {
  FM_CHECK(input.sizes() == target.sizes(), op, ": target ", target.describe(), " must have the input's shape ",
           input.describe());
}

void check_broadcasts_to(const char* op, const char* name, const Tensor& t, const Tensor& input) {
  if (!t.defined()) return;
  check_floating(op, name, t);
  bool ok = t.dim() <= input.dim();
  for (int64_t i = 0; ok && i < t.dim(); ++i) {
    const int64_t s = t.size(t.dim() - 1 - i);
    ok = s == 1 || s == input.size(input.dim() - 1 - i);
  }
  FM_CHECK(ok, op, ": ", name, " ", t.describe(), " must broadcast to the input's shape ", input.describe());
}

// ----- class-index targets -----

struct ClassTargets {
  Tensor safe;     // int64, target's shape; ignored elements -> 0
  Tensor wt;       // input dtype, target's shape: w[t] (1 without weights), 0 where ignored
  Tensor ignored;  // bool, target's shape
  double wsum = 0;  // sum of wt
};

// input: [N, C, *] (batched form); target: [N, *] int64.
ClassTargets class_targets(const char* op, const Tensor& input, const Tensor& target, const Tensor& weight,
                           int64_t ignore_index) {
  const int64_t C = input.size(1);
  Shape want = input.sizes();
  want.erase(want.begin() + 1);
  FM_CHECK(target.sizes() == want, op, ": expected target of shape ", shape_str(want), " for input ",
           input.describe(), " (classes at dim 1), got target ", target.describe());
  if (weight.defined()) {
    check_floating(op, "weight", weight);
    FM_CHECK(weight.dim() == 1 && weight.size(0) == C, op, ": weight ", weight.describe(),
             " must be 1-D with one entry per class (", C, ")");
  }
  kernels::require_cpu(op, {&target});
  const Tensor tc = contiguous_raw(target);
  ClassTargets r;
  r.safe = empty(target.sizes(), {.dtype = DType::Int64});
  r.ignored = empty(target.sizes(), {.dtype = DType::Bool});
  r.wt = empty(target.sizes(), {.dtype = input.dtype()});
  std::vector<double> w;
  if (weight.defined()) w = to_raw(weight.detach(), DType::Float64, Device::cpu()).to_vector<double>();
  const int64_t* tp = tc.data_ptr<int64_t>();
  int64_t* sp = r.safe.data_ptr<int64_t>();
  bool* ip = r.ignored.data_ptr<bool>();
  std::vector<double> wt(static_cast<size_t>(tc.numel()));
  double wsum = 0;
  for (int64_t i = 0; i < tc.numel(); ++i) {
    const int64_t t = tp[i];
    const bool ign = t == ignore_index;
    FM_CHECK(ign || (t >= 0 && t < C), op, ": target value ", t, " is out of range for ", C,
             " classes (expected 0 <= target < ", C, " or ignore_index ", ignore_index, "; input ",
             input.describe(), ", target ", target.describe(), ")");
    ip[i] = ign;
    sp[i] = ign ? 0 : t;
    wt[i] = ign ? 0.0 : (w.empty() ? 1.0 : w[t]);
    wsum += wt[i];
  }
  dispatch_floating(input.dtype(), op, [&]<class T>() {
    T* p = r.wt.data_ptr<T>();
    for (size_t i = 0; i < wt.size(); ++i) p[i] = static_cast<T>(wt[i]);
  });
  r.wsum = wsum;
  return r;
}

Tensor reduce_weighted(const Tensor& l, const ClassTargets& ct, const std::string& reduction);

// -w[t] * logp[t] per element, reduced with PyTorch's weighted mean. logp is [N, C, *].
Tensor nll_reduce(const Tensor& logp, const ClassTargets& ct, const std::string& reduction) {
  const Tensor picked = squeeze(gather(logp, 1, unsqueeze(ct.safe, 1)), 1);
  return reduce_weighted(mul(neg(picked), ct.wt), ct, reduction);
}

// Fused cross entropy of [N, C] logits: per-row weighted losses [N] (forward and backward in
// kernels/loss.h; with create_graph the gradient is recorded as (softmax - one_hot) * g * w).
Tensor cross_entropy_rows(const Tensor& x, const ClassTargets& ct) {
  Tensor l, lse;  // not a structured binding: the lambda captures lse (clang 14 cannot)
  std::tie(l, lse) = kernels::cross_entropy_rows(x.detach(), ct.safe, ct.wt);
  record("CrossEntropyBackward", {x}, {l}, [sx = save(x), safe = ct.safe, wt = ct.wt, lse](const tensor_list& g) {
    const Tensor xv = sx.unpack();
    if (!autograd::grad_enabled()) return tensor_list{kernels::cross_entropy_rows_backward(g[0], xv, safe, wt, lse)};
    const Tensor onehot = to(one_hot(safe, xv.size(1)), xv.dtype());
    return tensor_list{mul(unsqueeze(mul(g[0], wt), 1), sub(softmax(xv, 1), onehot))};
  });
  return l;
}

Tensor reduce_weighted(const Tensor& l, const ClassTargets& ct, const std::string& reduction) {
  if (reduction == "none") return l;
  if (reduction == "sum") return sum(l);
  return mul(sum(l), 1.0 / ct.wsum);  // all ignored: 0 * inf = NaN, as PyTorch
}

// Brings an unbatched [C] input (and [] target) to [1, C] (and [1]).
bool batched_form(Tensor& input, Tensor& target) {
  if (input.dim() != 1) return false;
  input = unsqueeze(input, 0);
  target = target.dim() == 0 ? reshape(target, {1}) : target;
  return true;
}

Tensor unbatch(const Tensor& l, bool unbatched, const std::string& reduction) {
  return unbatched && reduction == "none" ? reshape(l, {}) : l;
}

Tensor nll_impl(const char* op, Tensor input, Tensor target, const Tensor& weight, int64_t ignore_index,
                const std::string& reduction) {
  check_reduction(op, reduction);
  check_floating(op, "input", input);
  FM_CHECK(input.dim() >= 1, op, ": expected input of shape [N, C], [N, C, d1, ...] or [C], got ", input.describe());
  FM_CHECK(target.defined() && target.dtype() == DType::Int64, op,
           ": target must be int64 class indices, got ", desc(target));
  const bool unbatched = batched_form(input, target);
  const ClassTargets ct = class_targets(op, input, target, weight, ignore_index);
  return unbatch(nll_reduce(input, ct, reduction), unbatched, reduction);
}

// softplus(-x) = log(1 + exp(-x)), stable for any x; gradient -sigmoid(-x).
Tensor softplus_neg(const Tensor& x) {
  Tensor y;
  {
    NoGradGuard ng;
    y = add(relu(neg(x)), log1p(exp(neg(abs(x)))));
  }
  record("SoftplusNegBackward", {x}, {y}, [sx = save(x)](const tensor_list& g) {
    return tensor_list{neg(mul(g[0], sigmoid(neg(sx.unpack()))))};
  });
  return y;
}

// value = max(s, lo), gradient as if unclamped (PyTorch's in-place clamp under no_grad).
Tensor clamp_value_only(const Tensor& s, double lo) {
  const Tensor sd = s.detach();
  Tensor shift;
  {
    NoGradGuard ng;
    shift = sub(clamp(sd, lo, std::nullopt), sd);
  }
  return add(s, shift);
}

}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& o) {
  return nll_impl("nll_loss", input, target, o.weight, o.ignore_index, o.reduction);
}

Tensor cross_entropy(const Tensor& input0, const Tensor& target0, const CrossEntropyOptions& o) {
  const char* op = "cross_entropy";
  check_reduction(op, o.reduction);
  check_floating(op, "input", input0);
  FM_CHECK(input0.dim() >= 1, op, ": expected input of shape [N, C], [N, C, d1, ...] or [C], got ",
           input0.describe());
  FM_CHECK(target0.defined() && (target0.dtype() == DType::Int64 || target0.is_floating_point()), op,
           ": target must be int64 class indices or floating-point class probabilities, got ", desc(target0));
  const double ls = o.label_smoothing;
  FM_CHECK(ls >= 0 && ls <= 1, op, ": label_smoothing must be in [0, 1], got ", ls);
  Tensor input = input0, target = target0;
  const int64_t cdim = input.dim() == 1 ? 0 : 1;
  const int64_t C = input.size(cdim);
  Shape wshape(input.dim(), 1);
  wshape[cdim] = C;

  if (target.is_floating_point()) {
    FM_CHECK(target.sizes() == input.sizes(), op, ": probability targets ", target.describe(),
             " must have the input's shape ", input.describe());
    if (o.weight.defined()) {
      check_floating(op, "weight", o.weight);
      FM_CHECK(o.weight.dim() == 1 && o.weight.size(0) == C, op, ": weight ", o.weight.describe(),
               " must be 1-D with one entry per class (", C, ")");
    }
    const Tensor logp = log_softmax(input, cdim);
    const Tensor t = ls > 0 ? add(mul(target, 1.0 - ls), ls / static_cast<double>(C)) : target;
    Tensor prod = mul(logp, t);
    if (o.weight.defined()) prod = mul(prod, reshape(to(o.weight.detach(), input.dtype()), wshape));
    const Tensor per = neg(sum(prod, {cdim}));
    if (o.reduction == "none") return per;
    if (o.reduction == "sum") return sum(per);
    const int64_t n = C > 0 ? input.numel() / C : 0;
    return mul(sum(per), n > 0 ? 1.0 / static_cast<double>(n) : NAN);
  }

  const bool unbatched = batched_form(input, target);
  const ClassTargets ct = class_targets(op, input, target, o.weight, o.ignore_index);
  if (input.dim() == 2 && ls == 0)  // the common case: one fused op
    return unbatch(reduce_weighted(cross_entropy_rows(input, ct), ct, o.reduction), unbatched, o.reduction);
  const Tensor logp = log_softmax(input, 1);
  Tensor loss = nll_reduce(logp, ct, o.reduction);
  if (ls > 0) {
    Shape bs(input.dim(), 1);
    bs[1] = C;
    const Tensor lw = o.weight.defined() ? mul(logp, reshape(to(o.weight.detach(), input.dtype()), bs)) : logp;
    Tensor smooth = masked_fill(neg(sum(lw, {1})), ct.ignored, 0.0);
    if (o.reduction == "sum") smooth = sum(smooth);
    if (o.reduction == "mean") smooth = mul(sum(smooth), 1.0 / ct.wsum);
    loss = add(mul(loss, 1.0 - ls), mul(smooth, ls / static_cast<double>(C)));
  }
  return unbatch(loss, unbatched, o.reduction);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            const std::string& reduction) {
  const char* op = "binary_cross_entropy";
  check_reduction(op, reduction);
  check_floating(op, "input", input);
  check_floating(op, "target", target);
  check_same_shape(op, input, target);
  check_broadcasts_to(op, "weight", weight, input);
  {
    kernels::require_cpu(op, {&input});
    const Tensor ic = contiguous_raw(input.detach());
    bool ok = true;
    dispatch_floating(ic.dtype(), op, [&]<class T>() {
      const T* p = ic.data_ptr<T>();
      for (int64_t i = 0; i < ic.numel(); ++i)
        if (!(p[i] >= 0 && p[i] <= 1)) ok = false;
    });
    FM_CHECK(ok, op, ": all elements of input must be between 0 and 1 (probabilities; for logits use "
             "binary_cross_entropy_with_logits), input ", input.describe());
  }
  const Tensor w = weight.defined() ? weight.detach() : Tensor();
  Tensor l;
  {
    NoGradGuard ng;
    const Tensor lp = clamp(log(input), -100.0, std::nullopt);
    const Tensor l1p = clamp(log1p(neg(input)), -100.0, std::nullopt);
    l = sub(mul(add(target, -1.0), l1p), mul(target, lp));
    if (w.defined()) l = mul(l, w);
  }
  // PyTorch's gradients: input: w (p - t) / max(p (1 - p), 1e-12); target: w (log(1-p) - log p).
  record("BinaryCrossEntropyBackward", {input, target}, {l},
         [sp = save(input), st = save(target), w](const tensor_list& g) {
           const Tensor p = sp.unpack(), t = st.unpack();
           const Tensor gw = w.defined() ? mul(g[0], w) : g[0];
           const Tensor gp = div(mul(gw, sub(p, t)), clamp(mul(p, add(neg(p), 1.0)), 1e-12, std::nullopt));
           const Tensor gt = mul(gw, sub(clamp(log1p(neg(p)), -100.0, std::nullopt), clamp(log(p), -100.0, std::nullopt)));
           return tensor_list{gp, gt};
         });
  return reduce(l, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const BCEWithLogitsOptions& o) {
  const char* op = "binary_cross_entropy_with_logits";
  check_reduction(op, o.reduction);
  check_floating(op, "input", input);
  check_floating(op, "target", target);
  check_same_shape(op, input, target);
  check_broadcasts_to(op, "weight", o.weight, input);
  check_broadcasts_to(op, "pos_weight", o.pos_weight, input);
  // (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x), times weight; pos_weight/weight constant.
  const Tensor sp = softplus_neg(input);
  Tensor l;
  if (o.pos_weight.defined()) {
    const Tensor lw = add(mul(target, add(o.pos_weight.detach(), -1.0)), 1.0);
    l = add(mul(add(neg(target), 1.0), input), mul(lw, sp));
  } else {
    l = add(mul(add(neg(target), 1.0), input), sp);
  }
  if (o.weight.defined()) l = mul(l, o.weight.detach());
  return reduce(l, o.reduction);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction) {
  const char* op = "mse_loss";
  check_reduction(op, reduction);
  check_floating(op, "input", input);
  check_floating(op, "target", target);
  check_same_shape(op, input, target);
  const Tensor d = sub(input, target);
  return reduce(mul(d, d), reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction) {
  const char* op = "l1_loss";
  check_reduction(op, reduction);
  check_floating(op, "input", input);
  check_floating(op, "target", target);
  check_same_shape(op, input, target);
  return reduce(abs(sub(input, target)), reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction, double beta) {
  const char* op = "smooth_l1_loss";
  check_reduction(op, reduction);
  check_floating(op, "input", input);
  check_floating(op, "target", target);
  check_same_shape(op, input, target);
  FM_CHECK(beta >= 0, op, ": beta must be non-negative, got ", beta);
  const Tensor d = sub(input, target);
  const Tensor ad = abs(d);
  if (beta == 0) return reduce(ad, reduction);
  return reduce(where(lt(ad, beta), mul(mul(d, d), 0.5 / beta), add(ad, -0.5 * beta)), reduction);
}

Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction, bool log_target) {
  const char* op = "kl_div";
  check_reduction(op, reduction, /*batchmean=*/true);
  check_floating(op, "input", input);
  check_floating(op, "target", target);
  check_same_shape(op, input, target);
  Tensor l;
  if (log_target) {
    l = mul(exp(target), sub(target, input));
  } else {
    // xlogy(t, t) - t x, with 0 log 0 = 0 (and a finite gradient path where t = 0)
    const Tensor zero = eq(target, 0.0);
    const Tensor safe = where(zero, scalar_like(1.0, target), target);
    l = sub(where(zero, scalar_like(0.0, target), mul(target, log(safe))), mul(target, input));
  }
  if (reduction == "batchmean") {
    FM_CHECK(input.dim() >= 1 && input.size(0) > 0, op, ": 'batchmean' needs a batch dimension, got ",
             input.describe());
    return mul(sum(l), 1.0 / static_cast<double>(input.size(0)));
  }
  return reduce(l, reduction);
}

Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim, double eps) {
  const char* op = "cosine_similarity";
  check_floating(op, "x1", x1);
  check_floating(op, "x2", x2);
  const Shape shape = kernels::broadcast_shapes(x1.sizes(), x2.sizes(), op);
  FM_CHECK(!shape.empty(), op, ": expected inputs with at least one dimension, got ", x1.describe(), " and ",
           x2.describe());
  const int64_t d = wrap_dim(dim, static_cast<int64_t>(shape.size()), op);
  const Tensor a = expand(x1, shape), b = expand(x2, shape);
  const Tensor s1 = clamp_value_only(sum(mul(a, a), {d}, true), eps * eps);
  const Tensor s2 = clamp_value_only(sum(mul(b, b), {d}, true), eps * eps);
  return sum(mul(mul(a, b), rsqrt(mul(s1, s2))), {d});
}

// The gradient of nt_xent_loss written with differentiable ops (used under create_graph, so
// second derivatives work): with u = z / c, P the masked row softmax of u u^T / tau, Y the
// positives' one-hot and G = g (P - Y) / M, dL/du = (G + G^T) u / tau and dL/dz = (dL/du -
// u (u . dL/du) [||z|| > 1e-12]) / c. The fused kernels compute the same (kernels/contrastive.h).
static Tensor nt_xent_grad_composite(const Tensor& z, double tau, const Tensor& g) {
  const int64_t M = z.size(0), N = M / 2;
  const Tensor nrm = norm(z, 2, {1}, true);
  const Tensor c = clamp(nrm, 1e-12, std::nullopt);
  const Tensor u = div(z, c);
  const Tensor diag = to(eye(M, -1, {.dtype = DType::Bool}), z.device());
  const Tensor p = softmax(masked_fill(mul(mm(u, t(u)), 1.0 / tau), diag, -std::numeric_limits<double>::infinity()), 1);
  const Tensor targets = to(cat({arange(double(N), double(M)), arange(0.0, double(N))}, 0), z.device());
  const Tensor y = to(one_hot(targets, M), z.dtype());
  const Tensor G = mul(sub(p, y), mul(to(reshape(g, {}), z.dtype()), 1.0 / static_cast<double>(M)));
  const Tensor du = mul(mm(add(G, t(G)), u), 1.0 / tau);
  const Tensor unclamped = to(gt(nrm.detach(), 1e-12), z.dtype());
  return div(sub(du, mul(mul(u, sum(mul(du, u), {1}, true)), unclamped)), c);
}

// Fused: one node over cat(z1, z2), the similarities recomputed in backward (kernels/contrastive.h),
// so it runs on the CPU or on CUDA.
Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double temperature) {
  const char* op = "nt_xent_loss";
  check_floating(op, "z1", z1);
  check_floating(op, "z2", z2);
  FM_CHECK(z1.dim() == 2 && z1.sizes() == z2.sizes() && z1.size(0) >= 1, op,
           ": expected z1 and z2 of the same shape [N, D] (N >= 1), got ", z1.describe(), " and ", z2.describe());
  FM_CHECK(temperature > 0, op, ": temperature must be positive, got ", temperature);
  const Tensor z = cat({z1, z2}, 0);  // [2N, D]
  Tensor loss, lse, inv;  // not a structured binding: the lambda captures lse and inv
  std::tie(loss, lse, inv) = kernels::nt_xent_forward(z.detach(), temperature);
  record("NtXentBackward", {z}, {loss}, [sz = save(z), lse, inv, temperature](const tensor_list& g) {
    const Tensor zv = sz.unpack();
    if (!autograd::grad_enabled()) return tensor_list{kernels::nt_xent_backward(zv, lse, inv, temperature, g[0])};
    return tensor_list{nt_xent_grad_composite(zv, temperature, g[0])};
  });
  return loss;
}

Tensor gaussian_kl(const Tensor& mu, const Tensor& logvar, const std::string& reduction) {
  const char* op = "gaussian_kl";
  check_reduction(op, reduction);
  check_floating(op, "mu", mu);
  check_floating(op, "logvar", logvar);
  FM_CHECK(mu.dim() >= 1 && mu.sizes() == logvar.sizes(), op,
           ": mu and logvar must have the same shape [..., D], got ", mu.describe(), " and ", logvar.describe());
  const Tensor per = mul(sum(sub(sub(add(logvar, 1.0), mul(mu, mu)), exp(logvar)), {-1}), -0.5);
  return reduce(per, reduction);
}

// ----- modules -----

CrossEntropyLoss::CrossEntropyLoss(CrossEntropyOptions o) : options(std::move(o)) {
  check_reduction("CrossEntropyLoss", options.reduction);
  options.weight = register_buffer("weight", options.weight);
}
Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) {
  return cross_entropy(input, target, options);
}

NLLLoss::NLLLoss(NLLLossOptions o) : options(std::move(o)) {
  check_reduction("NLLLoss", options.reduction);
  options.weight = register_buffer("weight", options.weight);
}
Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) { return nll_loss(input, target, options); }

BCELoss::BCELoss(Tensor w, std::string r) : reduction(std::move(r)) {
  check_reduction("BCELoss", reduction);
  weight = register_buffer("weight", w);
}
Tensor BCELoss::forward(const Tensor& input, const Tensor& target) {
  return binary_cross_entropy(input, target, weight, reduction);
}

BCEWithLogitsLoss::BCEWithLogitsLoss(BCEWithLogitsOptions o) : options(std::move(o)) {
  check_reduction("BCEWithLogitsLoss", options.reduction);
  options.weight = register_buffer("weight", options.weight);
  options.pos_weight = register_buffer("pos_weight", options.pos_weight);
}
Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) {
  return binary_cross_entropy_with_logits(input, target, options);
}

}  // namespace fm::nn
