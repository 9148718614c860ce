// Softmax over one dim of a contiguous tensor seen as [outer, D, inner]. With inner == 1 (the
// last dim, the common case) each row is three vectorised passes in cache; otherwise the loops
// run over D with the inner dimension vectorised.
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/fast_math.h"
#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "kernels/softmax.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

namespace {

struct Geometry {
  int64_t outer = 1, D = 1, inner = 1;
};

Geometry geometry(const Tensor& x, int64_t dim) {
  Geometry g;
  if (x.dim() == 0) return g;
  for (int64_t i = 0; i < dim; ++i) g.outer *= x.size(i);
  g.D = x.size(dim);
  for (int64_t i = dim + 1; i < x.dim(); ++i) g.inner *= x.size(i);
  return g;
}

// One contiguous float32 row (the last-dim case), 16 lanes at a time with the vectorised exp.
template <bool Log>
void softmax_row_f32(const float* xr, float* yr, int64_t D) {
  float mx = vec::max_of(xr, D);
  if (std::isinf(mx) && mx < 0) mx = 0;  // all -inf: keep exp(-inf) = 0 without NaN from inf-inf
  const float sum = vec::sum_exp(xr, D, mx, Log ? nullptr : yr);
  if (Log) {
    const float lse = std::log(sum) + mx;
#pragma omp simd
    for (int64_t d = 0; d < D; ++d) yr[d] = xr[d] - lse;
  } else {
    const float inv = 1.0f / sum;
#pragma omp simd
    for (int64_t d = 0; d < D; ++d) yr[d] *= inv;
  }
}

template <class T, bool Log>
void softmax_rows(const T* x, T* y, Geometry g) {
  if constexpr (std::is_same_v<T, float>) {
    if (g.inner == 1) {
#pragma omp parallel for if (g.outer * g.D >= kParallelGrain) schedule(static)
      for (int64_t r = 0; r < g.outer; ++r) softmax_row_f32<Log>(x + r * g.D, y + r * g.D, g.D);
      return;
    }
  }
  const int64_t rows = g.outer * g.inner;
#pragma omp parallel for if (rows * g.D >= kParallelGrain) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r / g.inner, i = r % g.inner;
    const T* xr = x + o * g.D * g.inner + i;
    T* yr = y + o * g.D * g.inner + i;
    const int64_t s = g.inner;
    T mx = -std::numeric_limits<T>::infinity();
    for (int64_t d = 0; d < g.D; ++d) mx = std::max(mx, xr[d * s]);
    if (std::isinf(mx) && mx < 0) mx = 0;  // all -inf: keep exp(-inf) = 0 without NaN from inf-inf
    T sum = 0;
    if (Log) {
      for (int64_t d = 0; d < g.D; ++d) sum += std::exp(xr[d * s] - mx);
      const T lse = std::log(sum) + mx;
      for (int64_t d = 0; d < g.D; ++d) yr[d * s] = xr[d * s] - lse;
    } else {
      for (int64_t d = 0; d < g.D; ++d) {
        const T e = std::exp(xr[d * s] - mx);
        yr[d * s] = e;
        sum += e;
      }
      const T inv = T(1) / sum;
      for (int64_t d = 0; d < g.D; ++d) yr[d * s] *= inv;
    }
  }
}

template <class T, bool Log>
void softmax_back_rows(const T* gr, const T* yv, T* out, Geometry g) {
  const int64_t rows = g.outer * g.inner;
#pragma omp parallel for if (rows * g.D >= kParallelGrain) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r / g.inner, i = r % g.inner;
    const int64_t base = o * g.D * g.inner + i, s = g.inner;
    T acc = 0;
    if (Log) {
      for (int64_t d = 0; d < g.D; ++d) acc += gr[base + d * s];
      for (int64_t d = 0; d < g.D; ++d)
        out[base + d * s] = gr[base + d * s] - std::exp(yv[base + d * s]) * acc;
    } else {
      for (int64_t d = 0; d < g.D; ++d) acc += gr[base + d * s] * yv[base + d * s];
      for (int64_t d = 0; d < g.D; ++d)
        out[base + d * s] = yv[base + d * s] * (gr[base + d * s] - acc);
    }
  }
}

template <bool Log>
Tensor softmax_impl(const Tensor& x0, int64_t dim, const char* op) {
  require_cpu(op, {&x0});
  FM_CHECK(is_floating(x0.dtype()), op, ": expected a floating-point tensor, got ", x0.describe());
  const int64_t d = x0.dim() == 0 ? 0 : wrap_dim(dim, x0.dim(), op);
  const Tensor x = contiguous_raw(x0);
  Tensor y = empty(x.sizes(), {.dtype = x.dtype()});
  if (x.numel() == 0) return y;
  FM_DISPATCH_FLOATING(x.dtype(), op, [&] {
    softmax_rows<scalar_t, Log>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), geometry(x, d));
  });
  return y;
}

template <bool Log>
Tensor softmax_backward_impl(const Tensor& g0, const Tensor& y0, int64_t dim, const char* op) {
  require_cpu(op, {&g0, &y0});
  FM_CHECK(g0.sizes() == y0.sizes(), op, ": gradient ", g0.describe(), " and output ", y0.describe(),
           " differ in shape");
  const int64_t d = y0.dim() == 0 ? 0 : wrap_dim(dim, y0.dim(), op);
  const Tensor g = contiguous_raw(to_raw(g0, y0.dtype(), y0.device())), y = contiguous_raw(y0);
  Tensor out = empty(y.sizes(), {.dtype = y.dtype()});
  if (y.numel() == 0) return out;
  FM_DISPATCH_FLOATING(y.dtype(), op, [&] {
    softmax_back_rows<scalar_t, Log>(g.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(),
                                     out.data_ptr<scalar_t>(), geometry(y, d));
  });
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x}), cuda::softmax(x, dim, false));
  return softmax_impl<false>(x, dim, "softmax");
}
Tensor log_softmax(const Tensor& x, int64_t dim) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x}), cuda::softmax(x, dim, true));
  return softmax_impl<true>(x, dim, "log_softmax");
}
Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t dim) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&g, &y}), cuda::softmax_backward(g, y, dim, false));
  return softmax_backward_impl<false>(g, y, dim, "softmax_backward");
}
Tensor log_softmax_backward(const Tensor& g, const Tensor& y, int64_t dim) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&g, &y}), cuda::softmax_backward(g, y, dim, true));
  return softmax_backward_impl<true>(g, y, dim, "log_softmax_backward");
}

}  // namespace fm::kernels
