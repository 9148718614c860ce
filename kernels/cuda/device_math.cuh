#pragma once
// Device helpers shared by the kernels: 16-byte packs, warp and block reductions, and the
// grid size for grid-stride loops.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

namespace fm::kernels::cuda {

// N values of T in one 16-byte access (float: 4, double: 2).
template <class T>
struct alignas(16) Pack {
  static constexpr int N = 16 / sizeof(T);
  T v[N];
};

// Threads for a block that owns one row of n values: a power of two from 32 up to max_threads,
// enough to cover short rows with few idle lanes (always whole warps).
inline int row_threads(int max_threads, int64_t n) {
  int t = 32;
  while (t < max_threads && t < n) t *= 2;
  return t;
}

// A grid-stride loop's start and step: `for (i = global_thread(); i < n; i += grid_threads())`.
__device__ __forceinline__ int64_t global_thread() { return blockIdx.x * int64_t{blockDim.x} + threadIdx.x; }
__device__ __forceinline__ int64_t grid_threads() { return int64_t{gridDim.x} * blockDim.x; }

template <class T, class F>
__device__ __forceinline__ T warp_reduce(T v, F f) {
  for (int o = 16; o > 0; o >>= 1) v = f(v, __shfl_down_sync(0xffffffffu, v, o));
  return v;
}

// Reduces one value per thread of the block; every thread gets the result. `smem` holds 32;
// `identity` fills the lanes past the last warp (0 for sums, -inf for max).
template <class T, class F>
__device__ __forceinline__ T block_reduce(T v, F f, T identity, T* smem) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
  v = warp_reduce(v, f);
  __syncthreads();  // smem may still be read by a previous call
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  if (warp == 0) {
    T w = lane < nwarps ? smem[lane] : identity;
    w = warp_reduce(w, f);
    if (lane == 0) smem[0] = w;
  }
  __syncthreads();
  return smem[0];
}

// The online softmax's running (max, sum of exp(x - max)) pair, shared by softmax.cu and
// loss.cu.
template <class T>
struct MaxSum {
  T m, s;
};

// Merge of two pairs; an all -inf side contributes nothing.
template <class T>
__device__ __forceinline__ MaxSum<T> merge(MaxSum<T> a, MaxSum<T> b) {
  if (a.m == -T(INFINITY)) return b;
  if (b.m == -T(INFINITY)) return a;
  const T m = a.m > b.m ? a.m : b.m;
  return {m, a.s * exp(a.m - m) + b.s * exp(b.m - m)};
}

// One element as a pair: -inf counts 0 in the sum, so a row of -inf sums to 0 (and its softmax
// is NaN, as on the CPU) whichever lane's pair the merges end with.
template <class T>
__device__ __forceinline__ MaxSum<T> one_term(T x) {
  return {x, x == -T(INFINITY) ? T(0) : T(1)};
}

// The (max, sum) pairs of a block merged, returned to every thread (blockDim.x a multiple of
// 32); sm and ss are shared arrays of 32. Safe to call once per row in a loop over rows.
template <class T>
__device__ __forceinline__ MaxSum<T> block_merge(MaxSum<T> acc, T* sm, T* ss) {
  for (int off = 16; off > 0; off >>= 1)
    acc = merge(acc, MaxSum<T>{__shfl_down_sync(0xffffffffu, acc.m, off), __shfl_down_sync(0xffffffffu, acc.s, off)});
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  __syncthreads();  // the previous call's readers are done with sm/ss
  if (lane == 0) sm[warp] = acc.m, ss[warp] = acc.s;
  __syncthreads();
  if (warp == 0) {
    acc = lane < nwarps ? MaxSum<T>{sm[lane], ss[lane]} : MaxSum<T>{-T(INFINITY), T(0)};
    for (int off = 16; off > 0; off >>= 1)
      acc = merge(acc, MaxSum<T>{__shfl_down_sync(0xffffffffu, acc.m, off), __shfl_down_sync(0xffffffffu, acc.s, off)});
    if (lane == 0) sm[0] = acc.m, ss[0] = acc.s;
  }
  __syncthreads();
  return {sm[0], ss[0]};
}

}  // namespace fm::kernels::cuda
