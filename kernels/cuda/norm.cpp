// Tensor-level CUDA batch norm and layer norm (kernels/cuda/norm.cu): the same argument checks
// and shapes as kernels/cpu/norm.cpp, inputs made contiguous on the device, and the workspaces
// of the per-channel sums.
#ifdef FERMATA_WITH_CUDA
#include "kernels/cuda/common.h"
#include "kernels/elementwise.h"
#include "kernels/norm.h"

namespace fm::kernels::cuda {

namespace {

struct BnShape {
  int64_t N = 1, C = 1, S = 1;
};

BnShape bn_shape(const char* op, const Tensor& x) {
  FM_CHECK(x.dim() >= 2, op, ": expected input of shape [N, C, *], got ", x.describe());
  FM_CHECK(is_floating(x.dtype()), op, ": expected a floating-point input, got ", x.describe());
  BnShape g;
  g.N = x.size(0);
  g.C = x.size(1);
  for (int64_t d = 2; d < x.dim(); ++d) g.S *= x.size(d);
  return g;
}

// A [C] parameter or statistic as a contiguous device tensor of dtype dt (undefined stays so).
Tensor per_channel(const char* op, const char* what, const Tensor& t, DType dt, const Tensor& x, int64_t C) {
  if (!t.defined()) return t;
  FM_CHECK(t.numel() == C, op, ": ", what, " ", t.describe(), " should have ", C, " elements for input ",
           x.describe());
  return contiguous_raw(to_raw(t, dt, x.device()));
}

Tensor workspace(int64_t n, DType dt, const Tensor& like) {
  return empty({std::max<int64_t>(n, 1)}, {.dtype = dt, .device = like.device()});
}

int sms_of(int dev) { return cuda_device_properties(dev).multiProcessorCount; }

}  // namespace

std::pair<Tensor, Tensor> batch_norm_stats(const Tensor& x0) {
  const char* op = "batch_norm_stats";
  const int dev = same_cuda_device(op, {&x0});
  const BnShape G = bn_shape(op, x0);
  const Tensor x = contiguous_raw(x0);
  Tensor mean = empty({G.C}, {.dtype = x.dtype(), .device = x.device()});
  Tensor var = empty({G.C}, {.dtype = x.dtype(), .device = x.device()});
  CudaDeviceGuard guard(dev);
  const NormPlan plan = norm_plan(G.C, G.N * G.S, G.S == 1, variant(), sms_of(dev));
  const Tensor partials = workspace(2 * G.C * plan.partials, DType::Float64, x);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    launch_batch_norm_stats<T>(ptr<T>(mean), ptr<T>(var), ptr<T>(x), G.N, G.C, G.S, ptr<double>(partials), plan,
                               cuda_current_stream(dev));
  });
  return {mean, var};
}

Tensor batch_norm_apply(const Tensor& x0, const Tensor& mean0, const Tensor& invstd0, const Tensor& weight0,
                        const Tensor& bias0) {
  const char* op = "batch_norm";
  const int dev = same_cuda_device(op, {&x0, &mean0, &invstd0});
  const BnShape G = bn_shape(op, x0);
  const Tensor x = contiguous_raw(x0);
  const DType dt = x.dtype();
  const Tensor mean = per_channel(op, "mean", mean0, dt, x, G.C), invstd = per_channel(op, "invstd", invstd0, dt, x, G.C);
  const Tensor weight = per_channel(op, "weight", weight0, dt, x, G.C), bias = per_channel(op, "bias", bias0, dt, x, G.C);
  Tensor y = empty(x.sizes(), {.dtype = dt, .device = x.device()});
  const Tensor coef = workspace(3 * G.C, dt, x);
  CudaDeviceGuard guard(dev);
  dispatch_floating(dt, op, [&]<class T>() {
    launch_batch_norm_apply<T>(ptr<T>(y), ptr<T>(x), ptr<T>(mean), ptr<T>(invstd), ptr<T>(weight), ptr<T>(bias), G.N,
                               G.C, G.S, ptr<T>(coef), variant(), cuda_current_stream(dev));
  });
  return y;
}

std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& g0, const Tensor& x0, const Tensor& mean0,
                                                       const Tensor& invstd0, const Tensor& weight0, bool training,
                                                       bool need_x, bool need_weight, bool need_bias) {
  const char* op = "batch_norm_backward";
  const int dev = same_cuda_device(op, {&g0, &x0, &mean0, &invstd0});
  const BnShape G = bn_shape(op, x0);
  FM_CHECK(g0.sizes() == x0.sizes(), op, ": gradient ", g0.describe(), " and input ", x0.describe(),
           " differ in shape");
  const DType dt = x0.dtype();
  const Tensor x = contiguous_raw(x0), g = contiguous_raw(to_raw(g0, dt, x0.device()));
  const Tensor mean = per_channel(op, "mean", mean0, dt, x, G.C), invstd = per_channel(op, "invstd", invstd0, dt, x, G.C);
  const Tensor weight = per_channel(op, "weight", weight0, dt, x, G.C);
  Tensor gx, gw, gb;
  if (need_x) gx = empty(x.sizes(), {.dtype = dt, .device = x.device()});
  if (need_weight) gw = empty({G.C}, {.dtype = dt, .device = x.device()});
  if (need_bias) gb = empty({G.C}, {.dtype = dt, .device = x.device()});
  CudaDeviceGuard guard(dev);
  const NormPlan plan = norm_plan(G.C, G.N * G.S, G.S == 1, variant(), sms_of(dev));
  const bool sums = training || need_weight || need_bias;
  Tensor partials, coef;
  if (sums) partials = workspace(2 * G.C * plan.partials, DType::Float64, x);
  if (need_x) coef = workspace(3 * G.C, dt, x);
  dispatch_floating(dt, op, [&]<class T>() {
    launch_batch_norm_backward<T>(ptr<T>(gx), ptr<T>(gw), ptr<T>(gb), ptr<T>(g), ptr<T>(x), ptr<T>(mean),
                                  ptr<T>(invstd), ptr<T>(weight), G.N, G.C, G.S, training, ptr<double>(partials), plan,
                                  ptr<T>(coef), variant(), cuda_current_stream(dev));
  });
  return {gx, gw, gb};
}

namespace {

struct LnShape {
  int64_t M = 1, D = 1;
};

LnShape ln_shape(const Tensor& x, int64_t k, const char* op) {
  FM_CHECK(k >= 1 && k <= x.dim(), op, ": cannot normalise the last ", k, " dims of ", x.describe());
  FM_CHECK(is_floating(x.dtype()), op, ": expected a floating-point input, got ", x.describe());
  LnShape g;
  for (int64_t d = 0; d < x.dim() - k; ++d) g.M *= x.size(d);
  for (int64_t d = x.dim() - k; d < x.dim(); ++d) g.D *= x.size(d);
  return g;
}

Tensor ln_param(const char* op, const char* what, const Tensor& t, const Tensor& x, int64_t D) {
  if (!t.defined()) return t;
  FM_CHECK(t.numel() == D, op, ": ", what, " ", t.describe(), " should have ", D,
           " elements (the normalised shape) for input ", x.describe());
  return contiguous_raw(to_raw(t, x.dtype(), x.device()));
}

}  // namespace

std::tuple<Tensor, Tensor, Tensor> layer_norm(const Tensor& x0, int64_t k, const Tensor& weight0,
                                              const Tensor& bias0, double eps) {
  const char* op = "layer_norm";
  const int dev = same_cuda_device(op, {&x0});
  const LnShape G = ln_shape(x0, k, op);
  const Tensor x = contiguous_raw(x0);
  const Tensor weight = ln_param(op, "weight", weight0, x, G.D), bias = ln_param(op, "bias", bias0, x, G.D);
  const Shape stat_shape(x.sizes().begin(), x.sizes().end() - k);
  Tensor y = empty(x.sizes(), {.dtype = x.dtype(), .device = x.device()});
  Tensor mean = empty(stat_shape, {.dtype = x.dtype(), .device = x.device()});
  Tensor rstd = empty(stat_shape, {.dtype = x.dtype(), .device = x.device()});
  CudaDeviceGuard guard(dev);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    launch_layer_norm<T>(ptr<T>(y), ptr<T>(mean), ptr<T>(rstd), ptr<T>(x), ptr<T>(weight), ptr<T>(bias), G.M, G.D,
                         eps, variant(), cuda_current_stream(dev));
  });
  return {y, mean, rstd};
}

std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& g0, const Tensor& x0, const Tensor& mean0,
                                                       const Tensor& rstd0, const Tensor& weight0, int64_t k,
                                                       bool need_x, bool need_weight, bool need_bias) {
  const char* op = "layer_norm_backward";
  const int dev = same_cuda_device(op, {&g0, &x0, &mean0, &rstd0});
  FM_CHECK(g0.sizes() == x0.sizes(), op, ": gradient ", g0.describe(), " and input ", x0.describe(),
           " differ in shape");
  const LnShape G = ln_shape(x0, k, op);
  const DType dt = x0.dtype();
  const Tensor x = contiguous_raw(x0), g = contiguous_raw(to_raw(g0, dt, x0.device()));
  FM_CHECK(mean0.numel() == G.M && rstd0.numel() == G.M, op, ": mean ", mean0.describe(), " and rstd ",
           rstd0.describe(), " should have ", G.M, " elements for input ", x0.describe());
  const Tensor mean = contiguous_raw(to_raw(mean0, dt, x.device())), rstd = contiguous_raw(to_raw(rstd0, dt, x.device()));
  const Tensor weight = ln_param(op, "weight", weight0, x, G.D);
  const Shape pshape(x.sizes().end() - k, x.sizes().end());
  Tensor gx, gw, gb;
  if (need_x) gx = empty(x.sizes(), {.dtype = dt, .device = x.device()});
  if (need_weight) gw = empty(pshape, {.dtype = dt, .device = x.device()});
  if (need_bias) gb = empty(pshape, {.dtype = dt, .device = x.device()});
  CudaDeviceGuard guard(dev);
  const NormPlan plan = norm_plan(G.D, G.M, true, variant(), sms_of(dev));
  Tensor partials;
  if (need_weight || need_bias) partials = workspace(2 * G.D * plan.partials, DType::Float64, x);
  dispatch_floating(dt, op, [&]<class T>() {
    launch_layer_norm_backward<T>(ptr<T>(gx), ptr<T>(gw), ptr<T>(gb), ptr<T>(g), ptr<T>(x), ptr<T>(mean),
                                  ptr<T>(rstd), ptr<T>(weight), G.M, G.D, ptr<double>(partials), plan, variant(),
                                  cuda_current_stream(dev));
  });
  return {gx, gw, gb};
}

}  // namespace fm::kernels::cuda
#endif
