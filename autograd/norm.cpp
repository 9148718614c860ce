// batch_norm and layer_norm: fused forward kernels; backward through fused kernels, or, when a
// graph of the gradient is needed (create_graph), as the same formula in differentiable ops
// (the statistics recomputed from x, so that they depend on it as in the forward).
#include "autograd/norm.h"

#include <tuple>

#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/views.h"
#include "kernels/norm.h"
#include "tensor/factory.h"

namespace fm {

using autograd::record;
using autograd::save;
using autograd::SavedTensor;
using autograd::tensor_list;

namespace {

SavedTensor save_opt(const Tensor& t) { return t.defined() ? save(t) : SavedTensor(); }
bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

// Gradients of batch norm as differentiable ops. training: the statistics are recomputed from x;
// eval: mean_c/invstd_c ([C]) are constants.
tensor_list batch_norm_backward_graph(const Tensor& g, const Tensor& x, const Tensor& w, const Tensor& mean_c,
                                      const Tensor& invstd_c, bool training, double eps, bool nx, bool nw,
                                      bool nb) {
  const int64_t C = x.size(1);
  Dims dims = {0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  Shape bs(x.dim(), 1);
  bs[1] = C;
  const double M = static_cast<double>(x.numel() / C);
  Tensor xc, is;
  if (training) {
    xc = sub(x, mean(x, dims, true));
    is = rsqrt(add(mean(mul(xc, xc), dims, true), eps));
  } else {
    xc = sub(x, reshape(mean_c, bs));
    is = reshape(invstd_c, bs);
  }
  const Tensor xhat = mul(xc, is);
  const Tensor sg = sum(g, dims, true);
  const Tensor sgx = sum(mul(g, xhat), dims, true);
  const Tensor k = w.defined() ? mul(reshape(w, bs), is) : is;
  Tensor gx, gw, gb;
  if (nx)
    gx = training ? mul(k, sub(sub(g, mul(sg, 1.0 / M)), mul(xhat, mul(sgx, 1.0 / M)))) : mul(g, k);
  if (nw) gw = reshape(sgx, {C});
  if (nb) gb = reshape(sg, {C});
  return {gx, gw, gb};
}

tensor_list layer_norm_backward_graph(const Tensor& g, const Tensor& x, const Tensor& w, const Tensor& b,
                                      int64_t k, double eps, bool nx, bool nw, bool nb) {
  Dims dims;
  for (int64_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
  const Tensor xc = sub(x, mean(x, dims, true));
  const Tensor rs = rsqrt(add(mean(mul(xc, xc), dims, true), eps));
  const Tensor xhat = mul(xc, rs);
  Tensor gx, gw, gb;
  if (nx) {
    const Tensor gxh = w.defined() ? mul(g, w) : g;
    gx = mul(rs, sub(sub(gxh, mean(gxh, dims, true)), mul(xhat, mean(mul(gxh, xhat), dims, true))));
  }
  if (nw) gw = sum_to(mul(g, xhat), w.sizes());
  if (nb) gb = sum_to(g, b.sizes());
  return {gx, gw, gb};
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  FM_CHECK(x.defined() && x.dim() >= 2, op, ": expected input of shape [N, C], [N, C, L] or [N, C, H, W], got ",
           x.defined() ? x.describe() : std::string("an undefined tensor"));
  FM_CHECK(x.is_floating_point(), op, ": expected a floating-point input, got ", x.describe());
  const int64_t C = x.size(1);
  auto check_vec = [&](const Tensor& t, const char* name) {
    if (!t.defined()) return;
    FM_CHECK(t.dim() == 1 && t.size(0) == C, op, ": ", name, " ", t.describe(),
             " must be 1-D of size C = ", C, " (input ", x.describe(), ")");
    FM_CHECK(t.is_floating_point(), op, ": ", name, " must be floating point, got ", t.describe());
  };
  check_vec(running_mean, "running_mean");
  check_vec(running_var, "running_var");
  check_vec(weight, "weight");
  check_vec(bias, "bias");
  FM_CHECK(running_mean.defined() == running_var.defined(), op,
           ": running_mean and running_var must be given together");
  const bool batch_stats = training || !running_mean.defined();
  const int64_t M = C > 0 ? x.numel() / C : 0;
  if (batch_stats)
    FM_CHECK(M > 1, op, ": expected more than 1 value per channel when training, got input ", x.describe());

  Tensor mean_c, invstd_c;
  {
    NoGradGuard ng;
    if (batch_stats) {
      auto [m, v] = kernels::batch_norm_stats(x.detach());
      mean_c = m;
      invstd_c = rsqrt(add(v, eps));
      if (training && running_mean.defined()) {
        const double unbias = static_cast<double>(M) / static_cast<double>(M - 1);
        Tensor rm = running_mean, rv = running_var;
        copy_(rm, add(mul(rm, 1.0 - momentum), mul(to(m, rm.dtype()), momentum)));
        copy_(rv, add(mul(rv, 1.0 - momentum), mul(to(v, rv.dtype()), momentum * unbias)));
      }
    } else {
      mean_c = contiguous_raw(to(running_mean.detach(), x.dtype()), /*force=*/true);  // a snapshot
      invstd_c = rsqrt(add(to(running_var.detach(), x.dtype()), eps));
    }
  }
  Tensor y = kernels::batch_norm_apply(x.detach(), mean_c, invstd_c, weight.defined() ? weight.detach() : weight,
                                       bias.defined() ? bias.detach() : bias);
  record("NativeBatchNormBackward", {x, weight, bias}, {y},
         [sx = save(x), sw = save_opt(weight), mean_c, invstd_c, batch_stats, eps, nx = x.requires_grad(),
          nw = wants_grad(weight), nb = wants_grad(bias)](const tensor_list& g) {
           const Tensor xv = sx.unpack(), wv = sw.unpack();
           if (!autograd::grad_enabled()) {
             auto [gx, gw, gb] =
                 kernels::batch_norm_backward(g[0], xv, mean_c, invstd_c, wv.defined() ? wv.detach() : wv,
                                              batch_stats, nx, nw, nb);
             return tensor_list{gx, gw, gb};
           }
           return batch_norm_backward_graph(g[0], xv, wv, mean_c, invstd_c, batch_stats, eps, nx, nw, nb);
         });
  return y;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const char* op = "layer_norm";
  FM_CHECK(x.defined(), op, ": input is undefined");
  FM_CHECK(x.is_floating_point(), op, ": expected a floating-point input, got ", x.describe());
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  bool match = k >= 1 && x.dim() >= k;
  for (int64_t i = 0; match && i < k; ++i) match = x.size(x.dim() - k + i) == normalized_shape[i];
  FM_CHECK(match, op, ": normalized_shape ", shape_str(normalized_shape),
           " must be non-empty and equal the last dimensions of the input ", x.describe());
  auto check_param = [&](const Tensor& t, const char* name) {
    if (!t.defined()) return;
    FM_CHECK(t.sizes() == normalized_shape, op, ": ", name, " ", t.describe(), " must have normalized_shape ",
             shape_str(normalized_shape));
    FM_CHECK(t.is_floating_point(), op, ": ", name, " must be floating point, got ", t.describe());
  };
  check_param(weight, "weight");
  check_param(bias, "bias");
  // plain variables, not a structured binding: the lambda below captures them (clang 14 cannot)
  Tensor y, mean_r, rstd_r;
  std::tie(y, mean_r, rstd_r) = kernels::layer_norm(x.detach(), k, weight.defined() ? weight.detach() : weight,
                                                    bias.defined() ? bias.detach() : bias, eps);
  record("NativeLayerNormBackward", {x, weight, bias}, {y},
         [sx = save(x), sw = save_opt(weight), sb = save_opt(bias), mean_r, rstd_r, k, eps,
          nx = x.requires_grad(), nw = wants_grad(weight), nb = wants_grad(bias)](const tensor_list& g) {
           const Tensor xv = sx.unpack(), wv = sw.unpack(), bv = sb.unpack();
           if (!autograd::grad_enabled()) {
             auto [gx, gw, gb] = kernels::layer_norm_backward(g[0], xv, mean_r, rstd_r,
                                                              wv.defined() ? wv.detach() : wv, k, nx, nw, nb);
             return tensor_list{gx, gw, gb};
           }
           return layer_norm_backward_graph(g[0], xv, wv, bv, k, eps, nx, nw, nb);
         });
  return y;
}

}  // namespace fm
