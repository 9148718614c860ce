// CUDA inverted dropout with the CPU's mask: tensor/philox.h's generator is host-device code,
// so element i draws lane i % 4 of Philox block base + i / 4 here as it does on the CPU.
// v1: one thread per element (each Philox block computed four times).
// v2: one thread per Philox block, its four elements read and written with 16-byte accesses
// when the pointers allow, a scalar tail for the last, partial block.
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"
#include "tensor/philox.h"

namespace fm::kernels::cuda {
namespace {


// The CPU's rule: the float uniform compared in double with keep = 1 - p.
template <class T>
__device__ __forceinline__ T mask_of(uint32_t bits, double keep, T scale) {
  return uniform_float(bits) < keep ? scale : T(0);
}

template <class T>
__global__ void dropout_v1(T* y, T* mask, const T* x, int64_t n, uint64_t seed, uint64_t base, double keep,
                           T scale) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const PhiloxBlock r = philox4x32_10(base + static_cast<uint64_t>(i / 4), 0, seed);
    const T m = mask_of<T>(r.v[i % 4], keep, scale);
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

// Vec: x, y and mask 16-byte aligned, so each full block is 4 / Pack<T>::N packs.
template <class T, bool Vec>
__global__ void dropout_v2(T* __restrict__ y, T* __restrict__ mask, const T* __restrict__ x, int64_t n,
                           int64_t blocks, uint64_t seed, uint64_t base, double keep, T scale) {
  constexpr int N = Pack<T>::N;
  static_assert(4 % N == 0, "a Philox block must fill whole packs");
  for (int64_t b = global_thread(); b < blocks; b += grid_threads()) {
    const PhiloxBlock r = philox4x32_10(base + static_cast<uint64_t>(b), 0, seed);
    const int64_t i0 = b * 4;
    if (Vec && i0 + 4 <= n) {
#pragma unroll
      for (int q = 0; q < 4 / N; ++q) {
        const Pack<T> xv = reinterpret_cast<const Pack<T>*>(x + i0)[q];
        Pack<T> mv, yv;
#pragma unroll
        for (int l = 0; l < N; ++l) {
          mv.v[l] = mask_of<T>(r.v[q * N + l], keep, scale);
          yv.v[l] = xv.v[l] * mv.v[l];
        }
        reinterpret_cast<Pack<T>*>(mask + i0)[q] = mv;
        reinterpret_cast<Pack<T>*>(y + i0)[q] = yv;
      }
    } else {
      const int lanes = n - i0 < 4 ? static_cast<int>(n - i0) : 4;
      for (int l = 0; l < lanes; ++l) {
        const T m = mask_of<T>(r.v[l], keep, scale);
        mask[i0 + l] = m;
        y[i0 + l] = x[i0 + l] * m;
      }
    }
  }
}

constexpr int kThreads = 256;

}  // namespace

template <class T>
void launch_dropout(T* y, T* mask, const T* x, int64_t n, uint64_t seed, uint64_t base, double keep, T scale,
                    Variant v, cudaStream_t s) {
  if (n == 0) return;
  if (v == Variant::V2) {
    const int64_t blocks = (n + 3) / 4;
    const int64_t grid = cuda_geom::blocks_for(blocks, kThreads);
    if (cuda_geom::aligned_to({y, mask, x}, 16))
      dropout_v2<T, true><<<grid, kThreads, 0, s>>>(y, mask, x, n, blocks, seed, base, keep, scale);
    else
      dropout_v2<T, false><<<grid, kThreads, 0, s>>>(y, mask, x, n, blocks, seed, base, keep, scale);
  } else {
    dropout_v1<T><<<cuda_geom::blocks_for(n, kThreads), kThreads, 0, s>>>(y, mask, x, n, seed, base, keep, scale);
  }
  FM_CUDA_CHECK_LAUNCH("dropout (cuda)");
}

template void launch_dropout<float>(float*, float*, const float*, int64_t, uint64_t, uint64_t, double, float,
                                    Variant, cudaStream_t);
template void launch_dropout<double>(double*, double*, const double*, int64_t, uint64_t, uint64_t, double, double,
                                     Variant, cudaStream_t);

}  // namespace fm::kernels::cuda
