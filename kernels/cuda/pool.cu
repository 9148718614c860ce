// CUDA pooling over contiguous planes, from the per-axis window tables of kernels/pool.h.
// v1: one thread per output (per input for avg_pool2d_backward, which gathers instead of
// scattering, so no atomics), reading the tables; the same loop order as the CPU, so the
// maxima, their indices and the averages are bit-identical to it.
// v2: the 2x2 / stride-2 pool of most CNNs with the window unrolled and the two values of each
// row in one paired load; avg_pool2d_backward through the inverse (cover) tables instead of a
// scan of every window; plane_scatter_add with atomics (one thread per output gradient instead
// of one per plane). Other layouts run v1.
#include <cmath>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {


// Two adjacent values in one 8-byte (float) or 16-byte (double) access.
template <class T>
struct alignas(2 * sizeof(T)) Two {
  T a, b;
};

// Splits a flat output index of [planes, Ho, Wo] into (plane, oh, ow).
struct Pos {
  int64_t p, oh, ow;
};
__device__ __forceinline__ Pos split(int64_t i, int64_t Ho, int64_t Wo) {
  const int64_t t = i / Wo;
  return {t / Ho, t % Ho, i - t * Wo};
}

// NaN wins and, like every later NaN, takes the index: the CPU's `v > best || isnan(v)`.
template <class T>
__device__ __forceinline__ bool takes(T v, T best) {
  return v > best || v != v;
}

// ---------------- v1: tables, one thread per output ----------------

template <class T>
__global__ void max_pool_v1(T* y, int64_t* idx, const T* x, int64_t n, PoolGeom g) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const Pos q = split(i, g.Ho, g.Wo);
    const T* xs = x + q.p * g.H * g.W;
    const int64_t fh = g.first_h[q.oh], ch = g.count_h[q.oh], fw = g.first_w[q.ow], cw = g.count_w[q.ow];
    T best = -T(INFINITY);
    int64_t bi = fh * g.W + fw;
    for (int64_t jh = 0; jh < ch; ++jh) {
      const int64_t row = (fh + jh * g.step_h) * g.W + fw;
      for (int64_t jw = 0; jw < cw; ++jw) {
        const int64_t pos = row + jw * g.step_w;
        const T v = xs[pos];
        if (takes(v, best)) {
          best = v;
          bi = pos;
        }
      }
    }
    y[i] = best;
    idx[i] = bi;
  }
}

template <class T>
__global__ void avg_pool_v1(T* y, const T* x, int64_t n, PoolGeom g) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const Pos q = split(i, g.Ho, g.Wo);
    const T* xs = x + q.p * g.H * g.W;
    const int64_t fh = g.first_h[q.oh], ch = g.count_h[q.oh], fw = g.first_w[q.ow], cw = g.count_w[q.ow];
    T acc = 0;
    for (int64_t jh = 0; jh < ch; ++jh) {
      const T* r = xs + (fh + jh * g.step_h) * g.W + fw;
      for (int64_t jw = 0; jw < cw; ++jw) acc += r[jw * g.step_w];
    }
    // the divisor product in double, then rounded once, as on the CPU
    y[i] = acc / static_cast<T>(g.div_h[q.oh] * g.div_w[q.ow]);
  }
}

// Whether input position `in` lies in window o of an axis.
__device__ __forceinline__ bool covers(int64_t in, int64_t first, int64_t count, int64_t step) {
  const int64_t d = in - first;
  return d >= 0 && d % step == 0 && d / step < count;
}

// Gathers, per input, the gradients of the windows holding it, in (oh, ow) order: the order in
// which the CPU's scatter adds them, so the sums round the same way.
template <class T>
__global__ void avg_pool_back_v1(T* gx, const T* gy, int64_t n, PoolGeom g) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const Pos q = split(i, g.H, g.W);
    const T* gs = gy + q.p * g.Ho * g.Wo;
    T acc = 0;
    for (int64_t oh = 0; oh < g.Ho; ++oh) {
      if (!covers(q.oh, g.first_h[oh], g.count_h[oh], g.step_h)) continue;
      for (int64_t ow = 0; ow < g.Wo; ++ow) {
        if (!covers(q.ow, g.first_w[ow], g.count_w[ow], g.step_w)) continue;
        acc += gs[oh * g.Wo + ow] / static_cast<T>(g.div_h[oh] * g.div_w[ow]);
      }
    }
    gx[i] = acc;
  }
}

template <class T>
__global__ void plane_gather_kernel(T* y, const T* x, const int64_t* idx, int64_t n, int64_t HW, int64_t O) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) y[i] = x[(i / O) * HW + idx[i]];
}

// One thread per plane, outputs in order: the CPU's sums exactly, duplicates included.
template <class T>
__global__ void plane_scatter_v1(T* gx, const T* g, const int64_t* idx, int64_t planes, int64_t HW, int64_t O) {
  for (int64_t p = global_thread(); p < planes; p += grid_threads()) {
    T* xs = gx + p * HW;
    for (int64_t o = 0; o < O; ++o) xs[idx[p * O + o]] += g[p * O + o];
  }
}

// ---------------- v2 ----------------

template <class T, bool Paired>
__device__ __forceinline__ void load_pair(const T* __restrict__ r, T& a, T& b) {
  if (Paired) {
    const Two<T> t = *reinterpret_cast<const Two<T>*>(r);
    a = t.a;
    b = t.b;
  } else {
    a = r[0];
    b = r[1];
  }
}

// Paired: W even and x aligned, so every window's row starts on a pair boundary.
template <class T, bool Paired>
__global__ void max_pool_pairs(T* __restrict__ y, int64_t* __restrict__ idx, const T* __restrict__ x, int64_t n,
                               int64_t H, int64_t W, int64_t Ho, int64_t Wo) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const Pos q = split(i, Ho, Wo);
    const int64_t r0 = 2 * q.oh * W;
    const T* x0 = x + q.p * H * W + r0 + 2 * q.ow;
    T v0, v1, v2, v3;
    load_pair<T, Paired>(x0, v0, v1);
    load_pair<T, Paired>(x0 + W, v2, v3);
    // the CPU's fast path: first maximum kept, a NaN taken (the last one)
    T best = v0;
    int k = 0;
    if (takes(v1, best)) best = v1, k = 1;
    if (takes(v2, best)) best = v2, k = 2;
    if (takes(v3, best)) best = v3, k = 3;
    y[i] = best;
    idx[i] = r0 + (k >> 1) * W + 2 * q.ow + (k & 1);
  }
}

template <class T, bool Paired>
__global__ void avg_pool_pairs(T* __restrict__ y, const T* __restrict__ x, int64_t n, int64_t H, int64_t W,
                               int64_t Ho, int64_t Wo, const double* __restrict__ div_h,
                               const double* __restrict__ div_w) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const Pos q = split(i, Ho, Wo);
    const T* x0 = x + q.p * H * W + 2 * q.oh * W + 2 * q.ow;
    T v0, v1, v2, v3;
    load_pair<T, Paired>(x0, v0, v1);
    load_pair<T, Paired>(x0 + W, v2, v3);
    T acc = 0;  // the CPU's order of additions
    acc += v0;
    acc += v1;
    acc += v2;
    acc += v3;
    y[i] = acc / static_cast<T>(div_h[q.oh] * div_w[q.ow]);
  }
}

// 2x2 / stride 2: input (ih, iw) belongs to window (ih / 2, iw / 2) only, or to none past the
// last window (an odd last row or column).
template <class T>
__global__ void avg_pool_back_pairs(T* __restrict__ gx, const T* __restrict__ gy, int64_t n, int64_t H, int64_t W,
                                    int64_t Ho, int64_t Wo, const double* __restrict__ div_h,
                                    const double* __restrict__ div_w) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const Pos q = split(i, H, W);
    const int64_t oh = q.oh >> 1, ow = q.ow >> 1;
    T acc = 0;  // 0 + v, as the CPU's zero-filled sum (turns -0 into +0 alike)
    if (oh < Ho && ow < Wo) acc += gy[(q.p * Ho + oh) * Wo + ow] / static_cast<T>(div_h[oh] * div_w[ow]);
    gx[i] = acc;
  }
}

// The cover tables list, per input position, the windows holding it in increasing order: the
// same sums as v1 without scanning every window.
template <class T>
__global__ void avg_pool_back_cover(T* __restrict__ gx, const T* __restrict__ gy, int64_t n, PoolGeom g) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const Pos q = split(i, g.H, g.W);
    const T* gs = gy + q.p * g.Ho * g.Wo;
    const int64_t h0 = g.cover_ptr_h[q.oh], h1 = g.cover_ptr_h[q.oh + 1];
    const int64_t w0 = g.cover_ptr_w[q.ow], w1 = g.cover_ptr_w[q.ow + 1];
    T acc = 0;
    for (int64_t a = h0; a < h1; ++a) {
      const int64_t oh = g.cover_h[a];
      const double dh = g.div_h[oh];
      for (int64_t b = w0; b < w1; ++b) {
        const int64_t ow = g.cover_w[b];
        acc += gs[oh * g.Wo + ow] / static_cast<T>(dh * g.div_w[ow]);
      }
    }
    gx[i] = acc;
  }
}

// Duplicated indices (overlapping windows) add in an unspecified order: equal to the CPU's
// sums up to rounding.
template <class T>
__global__ void plane_scatter_v2(T* __restrict__ gx, const T* __restrict__ g, const int64_t* __restrict__ idx,
                                 int64_t n, int64_t HW, int64_t O) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) atomicAdd(gx + (i / O) * HW + idx[i], g[i]);
}

constexpr int kThreads = 256;

int64_t grid_for(int64_t n) { return cuda_geom::blocks_for(n, kThreads, int64_t{1} << 20); }

bool paired(const void* x, int64_t W, size_t elem) {
  return W % 2 == 0 && cuda_geom::aligned_to({x}, static_cast<int>(2 * elem));
}

}  // namespace

template <class T>
void launch_max_pool2d(T* y, int64_t* idx, const T* x, int64_t planes, const PoolGeom& g, Variant v,
                       cudaStream_t s) {
  const int64_t n = planes * g.Ho * g.Wo;
  if (n == 0) return;
  if (v == Variant::V2 && g.pairs) {
    if (paired(x, g.W, sizeof(T)))
      max_pool_pairs<T, true><<<grid_for(n), kThreads, 0, s>>>(y, idx, x, n, g.H, g.W, g.Ho, g.Wo);
    else
      max_pool_pairs<T, false><<<grid_for(n), kThreads, 0, s>>>(y, idx, x, n, g.H, g.W, g.Ho, g.Wo);
  } else {
    max_pool_v1<T><<<grid_for(n), kThreads, 0, s>>>(y, idx, x, n, g);
  }
  FM_CUDA_CHECK_LAUNCH("max_pool2d (cuda)");
}

template <class T>
void launch_avg_pool2d(T* y, const T* x, int64_t planes, const PoolGeom& g, Variant v, cudaStream_t s) {
  const int64_t n = planes * g.Ho * g.Wo;
  if (n == 0) return;
  if (v == Variant::V2 && g.pairs) {
    if (paired(x, g.W, sizeof(T)))
      avg_pool_pairs<T, true><<<grid_for(n), kThreads, 0, s>>>(y, x, n, g.H, g.W, g.Ho, g.Wo, g.div_h, g.div_w);
    else
      avg_pool_pairs<T, false><<<grid_for(n), kThreads, 0, s>>>(y, x, n, g.H, g.W, g.Ho, g.Wo, g.div_h, g.div_w);
  } else {
    avg_pool_v1<T><<<grid_for(n), kThreads, 0, s>>>(y, x, n, g);
  }
  FM_CUDA_CHECK_LAUNCH("avg_pool2d (cuda)");
}

template <class T>
void launch_avg_pool2d_backward(T* gx, const T* gy, int64_t planes, const PoolGeom& g, Variant v, cudaStream_t s) {
  const int64_t n = planes * g.H * g.W;
  if (n == 0) return;
  if (v == Variant::V2 && g.pairs)
    avg_pool_back_pairs<T><<<grid_for(n), kThreads, 0, s>>>(gx, gy, n, g.H, g.W, g.Ho, g.Wo, g.div_h, g.div_w);
  else if (v == Variant::V2 && g.cover_ptr_h && g.cover_ptr_w)
    avg_pool_back_cover<T><<<grid_for(n), kThreads, 0, s>>>(gx, gy, n, g);
  else
    avg_pool_back_v1<T><<<grid_for(n), kThreads, 0, s>>>(gx, gy, n, g);
  FM_CUDA_CHECK_LAUNCH("avg_pool2d_backward (cuda)");
}

// One load per output: nothing for a tuned variant to gain, so both variants run this kernel.
template <class T>
void launch_plane_gather(T* y, const T* x, const int64_t* idx, int64_t planes, int64_t HW, int64_t O, Variant,
                         cudaStream_t s) {
  const int64_t n = planes * O;
  if (n == 0) return;
  plane_gather_kernel<T><<<grid_for(n), kThreads, 0, s>>>(y, x, idx, n, HW, O);
  FM_CUDA_CHECK_LAUNCH("max_pool (gather) (cuda)");
}

template <class T>
void launch_plane_scatter_add(T* gx, const T* g, const int64_t* idx, int64_t planes, int64_t HW, int64_t O,
                              Variant v, cudaStream_t s) {
  if (planes * HW == 0) return;
  FM_CUDA_CHECK(cudaMemsetAsync(gx, 0, static_cast<size_t>(planes * HW) * sizeof(T), s), "max_pool_backward (cuda)");
  if (O == 0) return;
  if (v == Variant::V2)
    plane_scatter_v2<T><<<grid_for(planes * O), kThreads, 0, s>>>(gx, g, idx, planes * O, HW, O);
  else
    plane_scatter_v1<T><<<grid_for(planes), kThreads, 0, s>>>(gx, g, idx, planes, HW, O);
  FM_CUDA_CHECK_LAUNCH("max_pool_backward (cuda)");
}

#define FM_POOL_INSTANTIATE(T)                                                                                     \
  template void launch_max_pool2d<T>(T*, int64_t*, const T*, int64_t, const PoolGeom&, Variant, cudaStream_t);     \
  template void launch_avg_pool2d<T>(T*, const T*, int64_t, const PoolGeom&, Variant, cudaStream_t);               \
  template void launch_avg_pool2d_backward<T>(T*, const T*, int64_t, const PoolGeom&, Variant, cudaStream_t);      \
  template void launch_plane_gather<T>(T*, const T*, const int64_t*, int64_t, int64_t, int64_t, Variant,           \
                                       cudaStream_t);                                                              \
  template void launch_plane_scatter_add<T>(T*, const T*, const int64_t*, int64_t, int64_t, int64_t, Variant,      \
                                            cudaStream_t);
FM_POOL_INSTANTIATE(float)
FM_POOL_INSTANTIATE(double)
#undef FM_POOL_INSTANTIATE

}  // namespace fm::kernels::cuda
