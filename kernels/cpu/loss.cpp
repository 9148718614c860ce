// Fused cross-entropy over the rows of [N, C] logits: one pass for the max, one for the sum of
// exponentials (the loss needs only x[i, t[i]] besides), and in backward one pass writing
// softmax - one_hot, scaled per row. Rows are split across OpenMP threads; float32 rows use the
// vectorised exp of kernels/cpu/fast_math.h (as softmax does), float64 rows libm.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/fast_math.h"
#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "kernels/loss.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

namespace {

// logsumexp of one contiguous row.
template <class T>
T row_lse(const T* r, int64_t C) {
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t c = 0; c < C; ++c) mx = std::max(mx, r[c]);
  if (std::isinf(mx) && mx < 0) mx = 0;
  T s = 0;
  for (int64_t c = 0; c < C; ++c) s += std::exp(r[c] - mx);
  return std::log(s) + mx;
}

template <>
float row_lse<float>(const float* r, int64_t C) {
  float mx = vec::max_of(r, C);
  if (std::isinf(mx) && mx < 0) mx = 0;
  return std::log(vec::sum_exp(r, C, mx, nullptr)) + mx;
}

// o[c] = k * exp(r[c] - l)
template <class T>
void scaled_exp(const T* r, T* o, int64_t C, T k, T l) {
  for (int64_t c = 0; c < C; ++c) o[c] = k * std::exp(r[c] - l);
}

template <>
void scaled_exp<float>(const float* r, float* o, int64_t C, float k, float l) {
  vec::map(r, o, C, [k, l](vec::vfloat v) { return k * vec::exp(v - l); });
}

}  // namespace

std::pair<Tensor, Tensor> cross_entropy_rows(const Tensor& x0, const Tensor& t0, const Tensor& wt0) {
  const char* op = "cross_entropy";
  FM_CUDA_DISPATCH(cuda::any_cuda({&x0, &t0, &wt0}), cuda::cross_entropy_rows(x0, t0, wt0));
  require_cpu(op, {&x0, &t0, &wt0});
  FM_CHECK(x0.dim() == 2 && t0.dim() == 1 && wt0.dim() == 1 && t0.size(0) == x0.size(0) &&
               wt0.size(0) == x0.size(0),
           op, ": fused kernel expects x [N, C], t [N], wt [N], got ", x0.describe(), ", ", t0.describe(), ", ",
           wt0.describe());
  const Tensor x = contiguous_raw(x0), t = contiguous_raw(t0), wt = contiguous_raw(to_raw(wt0, x0.dtype(), x0.device()));
  const int64_t N = x.size(0), C = x.size(1);
  Tensor loss = empty({N}, {.dtype = x.dtype()}), lse = empty({N}, {.dtype = x.dtype()});
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    const T* xp = x.data_ptr<T>();
    const int64_t* tp = t.data_ptr<int64_t>();
    const T* wp = wt.data_ptr<T>();
    T* lp = loss.data_ptr<T>();
    T* sp = lse.data_ptr<T>();
#pragma omp parallel for if (N * C >= kParallelGrain) schedule(static)
    for (int64_t i = 0; i < N; ++i) {
      const T* r = xp + i * C;
      const T l = row_lse<T>(r, C);
      sp[i] = l;
      lp[i] = wp[i] == T(0) ? T(0) : wp[i] * (l - r[tp[i]]);
    }
  });
  return {loss, lse};
}

Tensor cross_entropy_rows_backward(const Tensor& g0, const Tensor& x0, const Tensor& t0, const Tensor& wt0,
                                   const Tensor& lse0) {
  const char* op = "cross_entropy_backward";
  FM_CUDA_DISPATCH(cuda::any_cuda({&g0, &x0, &t0, &wt0, &lse0}),
                   cuda::cross_entropy_rows_backward(g0, x0, t0, wt0, lse0));
  require_cpu(op, {&g0, &x0, &t0, &wt0, &lse0});
  const DType dt = x0.dtype();
  const Tensor x = contiguous_raw(x0), t = contiguous_raw(t0);
  const Tensor g = contiguous_raw(to_raw(g0, dt, x0.device())), wt = contiguous_raw(to_raw(wt0, dt, x0.device()));
  const Tensor lse = contiguous_raw(lse0);
  const int64_t N = x.size(0), C = x.size(1);
  Tensor out = empty({N, C}, {.dtype = dt});
  dispatch_floating(dt, op, [&]<class T>() {
    const T* xp = x.data_ptr<T>();
    const int64_t* tp = t.data_ptr<int64_t>();
    const T* gp = g.data_ptr<T>();
    const T* wp = wt.data_ptr<T>();
    const T* sp = lse.data_ptr<T>();
    T* op_ = out.data_ptr<T>();
#pragma omp parallel for if (N * C >= kParallelGrain) schedule(static)
    for (int64_t i = 0; i < N; ++i) {
      const T* r = xp + i * C;
      T* o = op_ + i * C;
      const T k = gp[i] * wp[i];
      if (k == T(0)) {
        std::fill(o, o + C, T(0));
        continue;
      }
      scaled_exp<T>(r, o, C, k, sp[i]);
      o[tp[i]] -= k;
    }
  });
  return out;
}

}  // namespace fm::kernels
