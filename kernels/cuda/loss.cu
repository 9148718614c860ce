// CUDA fused cross-entropy over the rows of contiguous logits [N, C] (kernels/loss.h).
// Forward: v1 one thread per row, as the CPU: a pass for the maximum, one for the sum of
// exponentials, lse = log(sum) + max and loss = wt * (lse - x[t]) (0 where wt is 0). v2 one
// block per row: one read pass keeps a running maximum and a sum rescaled whenever the maximum
// grows (the online softmax of softmax.cu), merged across the block.
// Backward, grad[i, c] = k * exp(x[i, c] - lse[i]) - (c == t[i]) k with k = g[i] wt[i]: v1 one
// thread per row, v2 one thread per element (coalesced, no row loop).
// A class index outside [0, C) (the callers validate them) gives NaN rather than a stray read.
#include <cmath>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

constexpr int kThreads = 256;


template <class T>
__device__ __forceinline__ T row_loss(T lse, const T* xr, int64_t t, int64_t C, T w) {
  if (w == T(0)) return T(0);
  if (t < 0 || t >= C) return T(NAN);
  return w * (lse - xr[t]);
}

template <class T>
__global__ void ce_v1(T* loss, T* lse, const T* x, const int64_t* t, const T* wt, int64_t N, int64_t C) {
  for (int64_t i = global_thread(); i < N; i += grid_threads()) {
    const T* r = x + i * C;
    T mx = -T(INFINITY);
    for (int64_t c = 0; c < C; ++c) mx = max(mx, r[c]);
    if (mx == -T(INFINITY)) mx = 0;  // all -inf: exp(-inf) = 0 without NaN from inf - inf
    T s = 0;
    for (int64_t c = 0; c < C; ++c) s += exp(r[c] - mx);
    const T l = log(s) + mx;
    lse[i] = l;
    loss[i] = row_loss(l, r, t[i], C, wt[i]);
  }
}

template <class T>
__global__ void ce_v2(T* __restrict__ loss, T* __restrict__ lse, const T* __restrict__ x,
                      const int64_t* __restrict__ t, const T* __restrict__ wt, int64_t N, int64_t C) {
  __shared__ T sm[32], ss[32];
  for (int64_t i = blockIdx.x; i < N; i += gridDim.x) {
    const T* r = x + i * C;
    MaxSum<T> acc{-T(INFINITY), T(0)};
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) acc = merge(acc, one_term(r[c]));
    acc = block_merge(acc, sm, ss);
    if (threadIdx.x == 0) {
      const T mx = acc.m == -T(INFINITY) ? T(0) : acc.m;  // all -inf: the sum is 0, lse -inf, as on the CPU
      const T l = log(acc.s) + mx;
      lse[i] = l;
      loss[i] = row_loss(l, r, t[i], C, wt[i]);
    }
  }
}

template <class T>
__global__ void ce_back_v1(T* out, const T* g, const T* x, const int64_t* t, const T* wt, const T* lse, int64_t N,
                           int64_t C) {
  for (int64_t i = global_thread(); i < N; i += grid_threads()) {
    const T* r = x + i * C;
    T* o = out + i * C;
    const T k = g[i] * wt[i];
    if (k == T(0)) {
      for (int64_t c = 0; c < C; ++c) o[c] = T(0);
      continue;
    }
    const T l = lse[i];
    for (int64_t c = 0; c < C; ++c) o[c] = k * exp(r[c] - l);
    const int64_t ti = t[i];
    if (ti >= 0 && ti < C) o[ti] -= k;
    else
      for (int64_t c = 0; c < C; ++c) o[c] = T(NAN);
  }
}

template <class T>
__global__ void ce_back_v2(T* __restrict__ out, const T* __restrict__ g, const T* __restrict__ x,
                           const int64_t* __restrict__ t, const T* __restrict__ wt, const T* __restrict__ lse,
                           int64_t n, int64_t C) {
  for (int64_t e = global_thread(); e < n; e += grid_threads()) {
    const int64_t i = e / C, c = e - i * C;
    const T k = g[i] * wt[i];
    if (k == T(0)) {
      out[e] = T(0);
      continue;
    }
    const int64_t ti = t[i];
    const T v = k * exp(x[e] - lse[i]);
    out[e] = ti < 0 || ti >= C ? T(NAN) : c == ti ? v - k : v;
  }
}

}  // namespace

template <class T>
void launch_cross_entropy(T* loss, T* lse, const T* x, const int64_t* t, const T* wt, int64_t N, int64_t C,
                          Variant v, cudaStream_t s) {
  if (N == 0) return;
  if (v == Variant::V2) {
    ce_v2<T><<<cuda_geom::blocks_for(N, 1), row_threads(kThreads, C), 0, s>>>(loss, lse, x, t, wt, N, C);
  } else {
    ce_v1<T><<<cuda_geom::blocks_for(N, kThreads), kThreads, 0, s>>>(loss, lse, x, t, wt, N, C);
  }
  FM_CUDA_CHECK_LAUNCH("cross_entropy (cuda)");
}

template <class T>
void launch_cross_entropy_backward(T* out, const T* g, const T* x, const int64_t* t, const T* wt, const T* lse,
                                   int64_t N, int64_t C, Variant v, cudaStream_t s) {
  if (N == 0 || C == 0) return;
  if (v == Variant::V2) {
    ce_back_v2<T><<<cuda_geom::blocks_for(N * C, kThreads), kThreads, 0, s>>>(out, g, x, t, wt, lse, N * C, C);
  } else {
    ce_back_v1<T><<<cuda_geom::blocks_for(N, kThreads), kThreads, 0, s>>>(out, g, x, t, wt, lse, N, C);
  }
  FM_CUDA_CHECK_LAUNCH("cross_entropy_backward (cuda)");
}

template void launch_cross_entropy<float>(float*, float*, const float*, const int64_t*, const float*, int64_t,
                                          int64_t, Variant, cudaStream_t);
template void launch_cross_entropy<double>(double*, double*, const double*, const int64_t*, const double*, int64_t,
                                           int64_t, Variant, cudaStream_t);
template void launch_cross_entropy_backward<float>(float*, const float*, const float*, const int64_t*, const float*,
                                                   const float*, int64_t, int64_t, Variant, cudaStream_t);
template void launch_cross_entropy_backward<double>(double*, const double*, const double*, const int64_t*,
                                                    const double*, const double*, int64_t, int64_t, Variant,
                                                    cudaStream_t);

}  // namespace fm::kernels::cuda
