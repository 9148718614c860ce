// Batch norm and layer norm on the CPU. Batch norm sees x as [N, C, S]: with S == 1 ([N, C])
// the rows are walked in order with the channels vectorised; otherwise each (n, c) block of S
// contiguous elements is one vectorised run. Per-channel sums are accumulated per thread and
// combined at the end, so the split across threads works for any C. Layer norm sees x as
// [M, D] and handles one row per iteration (statistics, then the normalisation, while the row
// is in cache); its weight/bias gradients are per-thread [D] partials combined at the end.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "kernels/norm.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

namespace {

struct BnGeom {
  int64_t N = 1, C = 1, S = 1;
};

BnGeom bn_geom(const Tensor& x) {
  BnGeom g;
  g.N = x.size(0);
  g.C = x.size(1);
  for (int64_t d = 2; d < x.dim(); ++d) g.S *= x.size(d);
  return g;
}

// Sums of (p[i] - shift) and (p[i] - shift)^2 over a contiguous run: vectorised blocks in T,
// each block added into the double accumulators.
template <class T>
inline void shifted_moments(const T* p, int64_t n, T shift, double& s, double& ss) {
  constexpr int64_t B = 512;
  for (int64_t i = 0; i < n; i += B) {
    const int64_t e = std::min(n, i + B);
    T a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
    for (int64_t j = i; j < e; ++j) {
      const T d = p[j] - shift;
      a += d;
      b += d * d;
    }
    s += a;
    ss += b;
  }
}

// Sums of g[i] and g[i] * (x[i] - mean) over a contiguous run.
template <class T>
inline void grad_moments(const T* g, const T* x, int64_t n, T mean, double& sg, double& sgx) {
  constexpr int64_t B = 512;
  for (int64_t i = 0; i < n; i += B) {
    const int64_t e = std::min(n, i + B);
    T a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
    for (int64_t j = i; j < e; ++j) {
      a += g[j];
      b += g[j] * (x[j] - mean);
    }
    sg += a;
    sgx += b;
  }
}

int threads_for(int64_t work) { return work >= kParallelGrain ? omp_get_max_threads() : 1; }

inline std::pair<int64_t, int64_t> chunk_of(int64_t n, int t, int nt) {
  const int64_t chunk = (n + nt - 1) / nt;
  const int64_t b = std::min<int64_t>(n, chunk * t);
  return {b, std::min<int64_t>(n, b + chunk)};
}

// Per-channel sums over [N, C, S] of f(a) and f(b) where `run` accumulates one contiguous run
// of channel c into (acc_a[c], acc_b[c]) and `row` one [C] row (S == 1) into both arrays.
template <class Run, class Row>
void channel_sums(const BnGeom G, std::vector<double>& out_a, std::vector<double>& out_b, Run&& run,
                  Row&& row) {
  const int64_t C = G.C;
  const int nt = threads_for(G.N * G.C * G.S);
  std::vector<double> part(static_cast<size_t>(2 * C * nt), 0.0);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    double* pa = part.data() + 2 * C * t;
    double* pb = pa + C;
    if (G.S == 1) {
      const auto [b, e] = chunk_of(G.N, t, n);
      for (int64_t r = b; r < e; ++r) row(r, pa, pb);
    } else {
      const auto [b, e] = chunk_of(G.N * C, t, n);
      for (int64_t k = b; k < e; ++k) run(k, k % C, pa[k % C], pb[k % C]);
    }
  }
  out_a.assign(C, 0.0);
  out_b.assign(C, 0.0);
  for (int t = 0; t < nt; ++t)
    for (int64_t c = 0; c < C; ++c) {
      out_a[c] += part[2 * C * t + c];
      out_b[c] += part[2 * C * t + C + c];
    }
}

template <class T>
void bn_stats(const T* x, BnGeom G, T* mean, T* var) {
  const int64_t C = G.C, S = G.S, M = G.N * G.S;
  std::vector<T> shift(C);
  for (int64_t c = 0; c < C; ++c) shift[c] = M > 0 ? x[c * S] : T(0);
  const T* sh = shift.data();
  std::vector<double> s, ss;
  channel_sums(
      G, s, ss, [&](int64_t k, int64_t c, double& a, double& b) { shifted_moments(x + k * S, S, sh[c], a, b); },
      [&](int64_t r, double* a, double* b) {
        const T* xr = x + r * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) {
          const double d = static_cast<double>(xr[c] - sh[c]);
          a[c] += d;
          b[c] += d * d;
        }
      });
  for (int64_t c = 0; c < C; ++c) {
    const double m = s[c] / static_cast<double>(M);
    mean[c] = static_cast<T>(static_cast<double>(shift[c]) + m);
    var[c] = static_cast<T>(std::max(ss[c] / static_cast<double>(M) - m * m, 0.0));
  }
}

// out = x * a[c] + b[c] over [N, C, S].
template <class T>
void bn_affine(const T* x, T* out, BnGeom G, const T* a, const T* b) {
  const int64_t C = G.C, S = G.S;
  if (S == 1) {
#pragma omp parallel for if (G.N * C >= kParallelGrain) schedule(static)
    for (int64_t r = 0; r < G.N; ++r) {
      const T* xr = x + r * C;
      T* o = out + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) o[c] = xr[c] * a[c] + b[c];
    }
    return;
  }
#pragma omp parallel for if (G.N * C * S >= kParallelGrain) schedule(static)
  for (int64_t k = 0; k < G.N * C; ++k) {
    const T av = a[k % C], bv = b[k % C];
    const T* xr = x + k * S;
    T* o = out + k * S;
#pragma omp simd
    for (int64_t j = 0; j < S; ++j) o[j] = xr[j] * av + bv;
  }
}

// out = g * A[c] + x * B[c] + D[c] over [N, C, S].
template <class T>
void bn_grad_input(const T* g, const T* x, T* out, BnGeom G, const T* A, const T* B, const T* D) {
  const int64_t C = G.C, S = G.S;
  if (S == 1) {
#pragma omp parallel for if (G.N * C >= kParallelGrain) schedule(static)
    for (int64_t r = 0; r < G.N; ++r) {
      const T* gr = g + r * C;
      const T* xr = x + r * C;
      T* o = out + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) o[c] = gr[c] * A[c] + xr[c] * B[c] + D[c];
    }
    return;
  }
#pragma omp parallel for if (G.N * C * S >= kParallelGrain) schedule(static)
  for (int64_t k = 0; k < G.N * C; ++k) {
    const T av = A[k % C], bv = B[k % C], dv = D[k % C];
    const T* gr = g + k * S;
    const T* xr = x + k * S;
    T* o = out + k * S;
#pragma omp simd
    for (int64_t j = 0; j < S; ++j) o[j] = gr[j] * av + xr[j] * bv + dv;
  }
}

Tensor param_or_undefined(const Tensor& t, DType dt) {
  return t.defined() ? contiguous_raw(to_raw(t, dt, t.device())) : Tensor();
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

void check_bn_input(const char* op, const Tensor& x) {
  FM_CHECK(x.dim() >= 2, op, ": expected input of shape [N, C, *], got ", x.describe());
  FM_CHECK(is_floating(x.dtype()), op, ": expected a floating-point input, got ", x.describe());
}

}  // namespace

std::pair<Tensor, Tensor> batch_norm_stats(const Tensor& x0) {
  const char* op = "batch_norm_stats";
  FM_CUDA_DISPATCH(cuda::any_cuda({&x0}), cuda::batch_norm_stats(x0));
  require_cpu(op, {&x0});
  check_bn_input(op, x0);
  const Tensor x = contiguous_raw(x0);
  const BnGeom G = bn_geom(x);
  Tensor mean = empty({G.C}, {.dtype = x.dtype()}), var = empty({G.C}, {.dtype = x.dtype()});
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    bn_stats<T>(x.data_ptr<T>(), G, mean.data_ptr<T>(), var.data_ptr<T>());
  });
  return {mean, var};
}

Tensor batch_norm_apply(const Tensor& x0, const Tensor& mean0, const Tensor& invstd0, const Tensor& weight0,
                        const Tensor& bias0) {
  const char* op = "batch_norm";
  FM_CUDA_DISPATCH(cuda::any_cuda({&x0, &mean0, &invstd0}), cuda::batch_norm_apply(x0, mean0, invstd0, weight0, bias0));
  require_cpu(op, {&x0, &mean0, &invstd0});
  check_bn_input(op, x0);
  const Tensor x = contiguous_raw(x0);
  const BnGeom G = bn_geom(x);
  const DType dt = x.dtype();
  const Tensor mean = param_or_undefined(mean0, dt), invstd = param_or_undefined(invstd0, dt);
  const Tensor weight = param_or_undefined(weight0, dt), bias = param_or_undefined(bias0, dt);
  Tensor y = empty(x.sizes(), {.dtype = dt});
  dispatch_floating(dt, op, [&]<class T>() {
    const T* m = mean.data_ptr<T>();
    const T* is = invstd.data_ptr<T>();
    const T* w = ptr_or_null<T>(weight);
    const T* b = ptr_or_null<T>(bias);
    std::vector<T> a(G.C), sh(G.C);
    for (int64_t c = 0; c < G.C; ++c) {
      a[c] = is[c] * (w ? w[c] : T(1));
      sh[c] = (b ? b[c] : T(0)) - m[c] * a[c];
    }
    bn_affine<T>(x.data_ptr<T>(), y.data_ptr<T>(), G, a.data(), sh.data());
  });
  return y;
}

std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& g0, const Tensor& x0, const Tensor& mean0,
                                                       const Tensor& invstd0, const Tensor& weight0,
                                                       bool training, bool need_x, bool need_weight,
                                                       bool need_bias) {
  const char* op = "batch_norm_backward";
  FM_CUDA_DISPATCH(cuda::any_cuda({&g0, &x0, &mean0, &invstd0}),
                   cuda::batch_norm_backward(g0, x0, mean0, invstd0, weight0, training, need_x, need_weight, need_bias));
  require_cpu(op, {&g0, &x0, &mean0, &invstd0});
  check_bn_input(op, x0);
  FM_CHECK(g0.sizes() == x0.sizes(), op, ": gradient ", g0.describe(), " and input ", x0.describe(),
           " differ in shape");
  const DType dt = x0.dtype();
  const Tensor x = contiguous_raw(x0), g = contiguous_raw(to_raw(g0, dt, x0.device()));
  const Tensor mean = param_or_undefined(mean0, dt), invstd = param_or_undefined(invstd0, dt);
  const Tensor weight = param_or_undefined(weight0, dt);
  const BnGeom G = bn_geom(x);
  Tensor gx, gw, gb;
  if (need_x) gx = empty(x.sizes(), {.dtype = dt});
  if (need_weight) gw = empty({G.C}, {.dtype = dt});
  if (need_bias) gb = empty({G.C}, {.dtype = dt});
  dispatch_floating(dt, op, [&]<class T>() {
    const int64_t C = G.C, S = G.S;
    const double M = static_cast<double>(G.N * G.S);
    const T* xp = x.data_ptr<T>();
    const T* gp = g.data_ptr<T>();
    const T* m = mean.data_ptr<T>();
    const T* is = invstd.data_ptr<T>();
    const T* w = ptr_or_null<T>(weight);
    std::vector<double> sg(C, 0.0), sgx(C, 0.0);
    if (training || need_weight || need_bias)
      channel_sums(
          G, sg, sgx,
          [&](int64_t k, int64_t c, double& a, double& b) { grad_moments(gp + k * S, xp + k * S, S, m[c], a, b); },
          [&](int64_t r, double* a, double* b) {
            const T* gr = gp + r * C;
            const T* xr = xp + r * C;
#pragma omp simd
            for (int64_t c = 0; c < C; ++c) {
              a[c] += static_cast<double>(gr[c]);
              b[c] += static_cast<double>(gr[c] * (xr[c] - m[c]));
            }
          });
    if (need_bias)
      for (int64_t c = 0; c < C; ++c) gb.data_ptr<T>()[c] = static_cast<T>(sg[c]);
    if (need_weight)
      for (int64_t c = 0; c < C; ++c) gw.data_ptr<T>()[c] = static_cast<T>(sgx[c] * static_cast<double>(is[c]));
    if (!need_x) return;
    std::vector<T> A(C), B(C, T(0)), D(C, T(0));
    for (int64_t c = 0; c < C; ++c) {
      const double k = static_cast<double>(is[c]) * (w ? static_cast<double>(w[c]) : 1.0);
      A[c] = static_cast<T>(k);
      if (training) {
        const double i2 = static_cast<double>(is[c]) * static_cast<double>(is[c]);
        const double b = -k * i2 * sgx[c] / M;
        B[c] = static_cast<T>(b);
        D[c] = static_cast<T>(-k * sg[c] / M - b * static_cast<double>(m[c]));
      }
    }
    bn_grad_input<T>(gp, xp, gx.data_ptr<T>(), G, A.data(), B.data(), D.data());
  });
  return {gx, gw, gb};
}

namespace {

struct LnGeom {
  int64_t M = 1, D = 1;
};

LnGeom ln_geom(const Tensor& x, int64_t k, const char* op) {
  FM_CHECK(k >= 1 && k <= x.dim(), op, ": cannot normalise the last ", k, " dims of ", x.describe());
  LnGeom g;
  for (int64_t d = 0; d < x.dim() - k; ++d) g.M *= x.size(d);
  for (int64_t d = x.dim() - k; d < x.dim(); ++d) g.D *= x.size(d);
  return g;
}

}  // namespace

std::tuple<Tensor, Tensor, Tensor> layer_norm(const Tensor& x0, int64_t k, const Tensor& weight0,
                                              const Tensor& bias0, double eps) {
  const char* op = "layer_norm";
  FM_CUDA_DISPATCH(cuda::any_cuda({&x0}), cuda::layer_norm(x0, k, weight0, bias0, eps));
  require_cpu(op, {&x0});
  FM_CHECK(is_floating(x0.dtype()), op, ": expected a floating-point input, got ", x0.describe());
  const Tensor x = contiguous_raw(x0);
  const LnGeom G = ln_geom(x, k, op);
  const DType dt = x.dtype();
  const Tensor weight = param_or_undefined(weight0, dt), bias = param_or_undefined(bias0, dt);
  Shape stat_shape(x.sizes().begin(), x.sizes().end() - k);
  Tensor y = empty(x.sizes(), {.dtype = dt});
  Tensor mean = empty(stat_shape, {.dtype = dt}), rstd = empty(stat_shape, {.dtype = dt});
  dispatch_floating(dt, op, [&]<class T>() {
    const T* xp = x.data_ptr<T>();
    T* yp = y.data_ptr<T>();
    T* mp = mean.data_ptr<T>();
    T* rp = rstd.data_ptr<T>();
    const T* w = ptr_or_null<T>(weight);
    const T* b = ptr_or_null<T>(bias);
    const int64_t D = G.D;
#pragma omp parallel for if (G.M * D >= kParallelGrain) schedule(static)
    for (int64_t r = 0; r < G.M; ++r) {
      const T* xr = xp + r * D;
      T* yr = yp + r * D;
      double s = 0, ss = 0;
      const T shift = D > 0 ? xr[0] : T(0);
      shifted_moments(xr, D, shift, s, ss);
      const double m = D > 0 ? s / static_cast<double>(D) : 0.0;
      const double var = D > 0 ? std::max(ss / static_cast<double>(D) - m * m, 0.0) : 0.0;
      const T mu = static_cast<T>(static_cast<double>(shift) + m);
      const T rs = static_cast<T>(1.0 / std::sqrt(var + eps));
      mp[r] = mu;
      rp[r] = rs;
      if (w && b) {
#pragma omp simd
        for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - mu) * rs * w[j] + b[j];
      } else if (w) {
#pragma omp simd
        for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - mu) * rs * w[j];
      } else if (b) {
#pragma omp simd
        for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - mu) * rs + b[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - mu) * rs;
      }
    }
  });
  return {y, mean, rstd};
}

std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& g0, const Tensor& x0, const Tensor& mean0,
                                                       const Tensor& rstd0, const Tensor& weight0, int64_t k,
                                                       bool need_x, bool need_weight, bool need_bias) {
  const char* op = "layer_norm_backward";
  FM_CUDA_DISPATCH(cuda::any_cuda({&g0, &x0, &mean0, &rstd0}),
                   cuda::layer_norm_backward(g0, x0, mean0, rstd0, weight0, k, need_x, need_weight, need_bias));
  require_cpu(op, {&g0, &x0, &mean0, &rstd0});
  FM_CHECK(g0.sizes() == x0.sizes(), op, ": gradient ", g0.describe(), " and input ", x0.describe(),
           " differ in shape");
  const DType dt = x0.dtype();
  const Tensor x = contiguous_raw(x0), g = contiguous_raw(to_raw(g0, dt, x0.device()));
  const Tensor mean = contiguous_raw(mean0), rstd = contiguous_raw(rstd0);
  const Tensor weight = param_or_undefined(weight0, dt);
  const LnGeom G = ln_geom(x, k, op);
  const Shape pshape(x.sizes().end() - k, x.sizes().end());
  Tensor gx, gw, gb;
  if (need_x) gx = empty(x.sizes(), {.dtype = dt});
  if (need_weight) gw = empty(pshape, {.dtype = dt});
  if (need_bias) gb = empty(pshape, {.dtype = dt});
  dispatch_floating(dt, op, [&]<class T>() {
    const int64_t D = G.D, M = G.M;
    const T* xp = x.data_ptr<T>();
    const T* gp = g.data_ptr<T>();
    const T* mp = mean.data_ptr<T>();
    const T* rp = rstd.data_ptr<T>();
    const T* w = ptr_or_null<T>(weight);
    T* gxp = need_x ? gx.data_ptr<T>() : nullptr;
    const bool params = need_weight || need_bias;
    const int nt = threads_for(M * D);
    // per-thread partial sums of g * xhat and g over the rows, per column
    std::vector<double> part(params ? static_cast<size_t>(2 * D * nt) : 0, 0.0);
#pragma omp parallel num_threads(nt)
    {
      const int t = omp_get_thread_num(), n = omp_get_num_threads();
      const auto [rb, re] = chunk_of(M, t, n);
      double* pw = params ? part.data() + 2 * D * t : nullptr;
      double* pb = params ? pw + D : nullptr;
      const T invD = T(1) / static_cast<T>(D);
      for (int64_t r = rb; r < re; ++r) {
        const T* xr = xp + r * D;
        const T* gr = gp + r * D;
        const T mu = mp[r], rs = rp[r];
        if (params) {
#pragma omp simd
          for (int64_t j = 0; j < D; ++j) {
            pw[j] += static_cast<double>(gr[j] * ((xr[j] - mu) * rs));
            pb[j] += static_cast<double>(gr[j]);
          }
        }
        if (!need_x) continue;
        // s1 = sum(g w), s2 = sum(g w xhat)
        T s1 = 0, s2 = 0;
        if (w) {
#pragma omp simd reduction(+ : s1, s2)
          for (int64_t j = 0; j < D; ++j) {
            const T gw_ = gr[j] * w[j];
            s1 += gw_;
            s2 += gw_ * ((xr[j] - mu) * rs);
          }
        } else {
#pragma omp simd reduction(+ : s1, s2)
          for (int64_t j = 0; j < D; ++j) {
            s1 += gr[j];
            s2 += gr[j] * ((xr[j] - mu) * rs);
          }
        }
        const T a = s1 * invD, c = s2 * invD;
        T* o = gxp + r * D;
        if (w) {
#pragma omp simd
          for (int64_t j = 0; j < D; ++j) o[j] = rs * (gr[j] * w[j] - a - (xr[j] - mu) * rs * c);
        } else {
#pragma omp simd
          for (int64_t j = 0; j < D; ++j) o[j] = rs * (gr[j] - a - (xr[j] - mu) * rs * c);
        }
      }
    }
    if (params) {
      for (int64_t j = 0; j < D; ++j) {
        double sw = 0, sb = 0;
        for (int t = 0; t < nt; ++t) {
          sw += part[2 * D * t + j];
          sb += part[2 * D * t + D + j];
        }
        if (need_weight) gw.data_ptr<T>()[j] = static_cast<T>(sw);
        if (need_bias) gb.data_ptr<T>()[j] = static_cast<T>(sb);
      }
    }
  });
  return {gx, gw, gb};
}

}  // namespace fm::kernels
