// CUDA softmax / log_softmax over D of a contiguous [outer, D, inner] tensor, and their
// backward passes. v1: one thread per row, three passes (max, sum of exponentials, write).
// v2 (rows contiguous, inner == 1): one block per row; one read pass keeps a running maximum
// and a sum rescaled whenever the maximum grows (the "online" softmax), the pairs are merged
// across the block, and a second pass writes. Other layouts run v1.
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

template <class T, bool Log>
__global__ void softmax_v1(T* y, const T* x, int64_t rows, int64_t D, int64_t inner) {
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r < rows; r += int64_t{gridDim.x} * blockDim.x) {
    const int64_t o = r / inner, i = r - o * inner;
    const T* xr = x + o * D * inner + i;
    T* yr = y + o * D * inner + i;
    T mx = -T(INFINITY);
    for (int64_t d = 0; d < D; ++d) mx = max(mx, xr[d * inner]);
    if (mx == -T(INFINITY)) mx = 0;  // all -inf: exp(-inf) = 0 without NaN from inf - inf
    T sum = 0;
    for (int64_t d = 0; d < D; ++d) sum += exp(xr[d * inner] - mx);
    if (Log) {
      const T lse = log(sum) + mx;
      for (int64_t d = 0; d < D; ++d) yr[d * inner] = xr[d * inner] - lse;
    } else {
      const T inv = T(1) / sum;
      for (int64_t d = 0; d < D; ++d) yr[d * inner] = exp(xr[d * inner] - mx) * inv;
    }
  }
}

template <class T, bool Log>
__global__ void softmax_v2(T* __restrict__ y, const T* __restrict__ x, int64_t rows, int64_t D) {
  __shared__ T sm[32], ss[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    MaxSum<T> acc{-T(INFINITY), T(0)};
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) acc = merge(acc, one_term(xr[d]));
    acc = block_merge(acc, sm, ss);
    T mx = acc.m;
    const T sum = acc.s;
    if (mx == -T(INFINITY)) mx = 0;  // all -inf: sum is 0 and the outputs NaN, as on the CPU
    if (Log) {
      const T lse = log(sum) + mx;
      for (int64_t d = threadIdx.x; d < D; d += blockDim.x) yr[d] = xr[d] - lse;
    } else {
      const T inv = T(1) / sum;
      for (int64_t d = threadIdx.x; d < D; d += blockDim.x) yr[d] = exp(xr[d] - mx) * inv;
    }
  }
}

// softmax: out = y * (g - sum(g * y)); log_softmax: out = g - exp(y) * sum(g)
template <class T, bool Log>
__global__ void softmax_back_v1(T* out, const T* g, const T* y, int64_t rows, int64_t D, int64_t inner) {
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r < rows; r += int64_t{gridDim.x} * blockDim.x) {
    const int64_t o = r / inner, i = r - o * inner;
    const int64_t base = o * D * inner + i;
    T acc = 0;
    for (int64_t d = 0; d < D; ++d) acc += Log ? g[base + d * inner] : g[base + d * inner] * y[base + d * inner];
    for (int64_t d = 0; d < D; ++d) {
      const int64_t k = base + d * inner;
      out[k] = Log ? g[k] - exp(y[k]) * acc : y[k] * (g[k] - acc);
    }
  }
}

template <class T, bool Log>
__global__ void softmax_back_v2(T* __restrict__ out, const T* __restrict__ g, const T* __restrict__ y, int64_t rows,
                                int64_t D) {
  __shared__ T smem[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* gr = g + r * D;
    const T* yr = y + r * D;
    T* orow = out + r * D;
    T acc = 0;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) acc += Log ? gr[d] : gr[d] * yr[d];
    acc = block_reduce(acc, [](T a, T b) { return a + b; }, T(0), smem);
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x)
      orow[d] = Log ? gr[d] - exp(yr[d]) * acc : yr[d] * (gr[d] - acc);
  }
}

constexpr int kThreads = 256;

}  // namespace

template <class T>
void launch_softmax(bool log, T* y, const T* x, int64_t outer, int64_t D, int64_t inner, Variant v, cudaStream_t s) {
  const int64_t rows = outer * inner;
  if (rows == 0 || D == 0) return;
  if (v == Variant::V2 && inner == 1) {
    const int64_t grid = cuda_geom::blocks_for(rows, 1, int64_t{1} << 20);
    if (log) softmax_v2<T, true><<<grid, row_threads(kThreads, D), 0, s>>>(y, x, rows, D);
    else softmax_v2<T, false><<<grid, row_threads(kThreads, D), 0, s>>>(y, x, rows, D);
  } else {
    const int64_t grid = cuda_geom::blocks_for(rows, kThreads);
    if (log) softmax_v1<T, true><<<grid, kThreads, 0, s>>>(y, x, rows, D, inner);
    else softmax_v1<T, false><<<grid, kThreads, 0, s>>>(y, x, rows, D, inner);
  }
  FM_CUDA_CHECK_LAUNCH(log ? "log_softmax (cuda)" : "softmax (cuda)");
}

template <class T>
void launch_softmax_backward(bool log, T* out, const T* g, const T* y, int64_t outer, int64_t D, int64_t inner,
                             Variant v, cudaStream_t s) {
  const int64_t rows = outer * inner;
  if (rows == 0 || D == 0) return;
  if (v == Variant::V2 && inner == 1) {
    const int64_t grid = cuda_geom::blocks_for(rows, 1, int64_t{1} << 20);
    if (log) softmax_back_v2<T, true><<<grid, row_threads(kThreads, D), 0, s>>>(out, g, y, rows, D);
    else softmax_back_v2<T, false><<<grid, row_threads(kThreads, D), 0, s>>>(out, g, y, rows, D);
  } else {
    const int64_t grid = cuda_geom::blocks_for(rows, kThreads);
    if (log) softmax_back_v1<T, true><<<grid, kThreads, 0, s>>>(out, g, y, rows, D, inner);
    else softmax_back_v1<T, false><<<grid, kThreads, 0, s>>>(out, g, y, rows, D, inner);
  }
  FM_CUDA_CHECK_LAUNCH(log ? "log_softmax_backward (cuda)" : "softmax_backward (cuda)");
}

template void launch_softmax<float>(bool, float*, const float*, int64_t, int64_t, int64_t, Variant, cudaStream_t);
template void launch_softmax<double>(bool, double*, const double*, int64_t, int64_t, int64_t, Variant, cudaStream_t);
template void launch_softmax_backward<float>(bool, float*, const float*, const float*, int64_t, int64_t, int64_t,
                                             Variant, cudaStream_t);
template void launch_softmax_backward<double>(bool, double*, const double*, const double*, int64_t, int64_t,
                                              int64_t, Variant, cudaStream_t);

}  // namespace fm::kernels::cuda
