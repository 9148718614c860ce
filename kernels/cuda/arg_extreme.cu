// CUDA max/min with their positions along the last dim of a contiguous [outer, run] tensor, the
// twin of kernels/cpu/reduce.cpp's arg_extreme: ties keep the first position, and the first NaN
// wins (its value and position).
//   v1: one thread per row, scanning it as the CPU does.
//   v2: one block per row; each thread keeps the best (value, position) of its strided share and
//       the pairs meet through warp shuffles and shared memory. `better` is a total order (NaN
//       first, then the larger/smaller value, then the lower position), so the merge order does
//       not change the answer.
#include <cstdint>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

constexpr int kThreads = 256;

template <class T>
__device__ __forceinline__ bool is_nan(T v) {
  return v != v;  // false for integers
}

// Whether (va, ia) should be kept over (vb, ib).
template <class T, bool Max>
__device__ __forceinline__ bool better(T va, int64_t ia, T vb, int64_t ib) {
  const bool na = is_nan(va), nb = is_nan(vb);
  if (na || nb) return na && (!nb || ia < ib);
  if (va != vb) return Max ? va > vb : va < vb;
  return ia < ib;
}

template <class T, bool Max>
__global__ void arg_extreme_v1(T* values, int64_t* indices, const T* x, int64_t outer, int64_t run) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < outer; i += int64_t{gridDim.x} * blockDim.x) {
    const T* r = x + i * run;
    T bv = r[0];
    int64_t best = 0;
    for (int64_t j = 1; j < run && !is_nan(bv); ++j)
      if (better<T, Max>(r[j], j, bv, best)) bv = r[j], best = j;
    values[i] = bv;
    indices[i] = best;
  }
}

template <class T, bool Max>
__global__ void arg_extreme_v2(T* values, int64_t* indices, const T* __restrict__ x, int64_t outer, int64_t run) {
  __shared__ T sv[32];
  __shared__ int64_t si[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  for (int64_t i = blockIdx.x; i < outer; i += gridDim.x) {
    const T* r = x + i * run;
    // every thread starts from position 0, which any share may replace only by being better
    T bv = r[0];
    int64_t best = 0;
    for (int64_t j = threadIdx.x; j < run; j += blockDim.x)
      if (better<T, Max>(r[j], j, bv, best)) bv = r[j], best = j;
    for (int off = 16; off > 0; off >>= 1) {
      const T ov = __shfl_down_sync(0xffffffffu, bv, off);
      const int64_t oi = __shfl_down_sync(0xffffffffu, best, off);
      if (better<T, Max>(ov, oi, bv, best)) bv = ov, best = oi;
    }
    __syncthreads();  // the previous row's readers are done with sv/si
    if (lane == 0) sv[warp] = bv, si[warp] = best;
    __syncthreads();
    if (warp == 0) {
      bv = lane < nwarps ? sv[lane] : sv[0];
      best = lane < nwarps ? si[lane] : si[0];
      for (int off = 16; off > 0; off >>= 1) {
        const T ov = __shfl_down_sync(0xffffffffu, bv, off);
        const int64_t oi = __shfl_down_sync(0xffffffffu, best, off);
        if (better<T, Max>(ov, oi, bv, best)) bv = ov, best = oi;
      }
      if (lane == 0) values[i] = bv, indices[i] = best;
    }
  }
}

}  // namespace

template <class T>
void launch_arg_extreme(bool is_max, T* values, int64_t* indices, const T* x, int64_t outer, int64_t run, Variant v,
                        cudaStream_t s) {
  if (outer == 0 || run == 0) return;
  if (v == Variant::V2 && run >= 64) {
    const int64_t grid = cuda_geom::blocks_for(outer, 1);
    if (is_max) arg_extreme_v2<T, true><<<grid, row_threads(kThreads, run), 0, s>>>(values, indices, x, outer, run);
    else arg_extreme_v2<T, false><<<grid, row_threads(kThreads, run), 0, s>>>(values, indices, x, outer, run);
  } else {
    const int64_t grid = cuda_geom::blocks_for(outer, kThreads);
    if (is_max) arg_extreme_v1<T, true><<<grid, kThreads, 0, s>>>(values, indices, x, outer, run);
    else arg_extreme_v1<T, false><<<grid, kThreads, 0, s>>>(values, indices, x, outer, run);
  }
  FM_CUDA_CHECK_LAUNCH(is_max ? "max with indices (cuda)" : "min with indices (cuda)");
}

template void launch_arg_extreme<float>(bool, float*, int64_t*, const float*, int64_t, int64_t, Variant,
                                        cudaStream_t);
template void launch_arg_extreme<double>(bool, double*, int64_t*, const double*, int64_t, int64_t, Variant,
                                         cudaStream_t);
template void launch_arg_extreme<int64_t>(bool, int64_t*, int64_t*, const int64_t*, int64_t, int64_t, Variant,
                                          cudaStream_t);

}  // namespace fm::kernels::cuda
