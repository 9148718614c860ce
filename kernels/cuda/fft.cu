// CUDA real FFTs of contiguous frames, the twins of audio/fft.cpp's FFTW calls: rfft [batch, n]
// -> [batch, n/2 + 1, 2] (sign -1, unnormalised) and FFTW's c2r [batch, n/2 + 1, 2] -> [batch, n]
// (the Hermitian-extended inverse, unnormalised; the imaginary parts of DC and Nyquist ignored).
//   v1: the DFT as a sum, one thread per output value, accumulated in double with the twiddle
//       of (j k mod n) / n, so any n works and the sum is as exact as the inputs allow.
//   v2: power-of-two n from 2 to 4096 (2048 in double): one block per frame, the frame in shared
//       memory as n complex values in bit-reversed order, log2(n) radix-2 butterfly stages with
//       a barrier between stages, twiddles from sincospi. Other n run v1.
#include <algorithm>

#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void rfft_v1(T* out, const T* in, int64_t batch, int64_t n) {
  const int64_t bins = n / 2 + 1, total = batch * bins;
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < total; o += int64_t{gridDim.x} * blockDim.x) {
    const int64_t b = o / bins, k = o - b * bins;
    const T* x = in + b * n;
    double re = 0, im = 0;
    int64_t jk = 0;  // j * k mod n, advanced by k per step without overflow
    for (int64_t j = 0; j < n; ++j) {
      double s, c;
      sincospi(2.0 * static_cast<double>(jk) / static_cast<double>(n), &s, &c);
      re += static_cast<double>(x[j]) * c;
      im -= static_cast<double>(x[j]) * s;
      jk += k;
      if (jk >= n) jk -= n;
    }
    out[2 * o] = static_cast<T>(re);
    out[2 * o + 1] = static_cast<T>(im);
  }
}

template <class T>
__global__ void c2r_v1(T* out, const T* in, int64_t batch, int64_t n) {
  const int64_t bins = n / 2 + 1, total = batch * n;
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < total; o += int64_t{gridDim.x} * blockDim.x) {
    const int64_t b = o / n, j = o - b * n;
    const T* z = in + b * bins * 2;
    double acc = static_cast<double>(z[0]);
    // bins 1 .. (n-1)/2 appear twice in the full spectrum (k and n - k, conjugates)
    const int64_t paired = (n - 1) / 2;
    int64_t jk = 0;
    for (int64_t k = 1; k <= paired; ++k) {
      jk += j;
      if (jk >= n) jk -= n;
      double s, c;
      sincospi(2.0 * static_cast<double>(jk) / static_cast<double>(n), &s, &c);
      acc += 2.0 * (static_cast<double>(z[2 * k]) * c - static_cast<double>(z[2 * k + 1]) * s);
    }
    if (n % 2 == 0 && n > 1) acc += static_cast<double>(z[2 * (n / 2)]) * (j % 2 == 0 ? 1.0 : -1.0);
    out[o] = static_cast<T>(acc);
  }
}

// In-place radix-2 FFT of the n values in (re, im), already in bit-reversed order; sign -1 for
// the forward transform, +1 for the inverse.
template <class T>
__device__ void fft_stages(T* re, T* im, int n, T sign) {
  for (int half = 1; half < n; half <<= 1) {
    for (int t = threadIdx.x; t < n / 2; t += blockDim.x) {
      const int pos = t & (half - 1), i = ((t - pos) << 1) + pos, k = i + half;
      T s, c;
      sincospi(static_cast<T>(pos) / static_cast<T>(half), &s, &c);  // e^{sign i pi pos / half}
      s *= sign;
      const T xr = re[k] * c - im[k] * s, xi = re[k] * s + im[k] * c;
      re[k] = re[i] - xr;
      im[k] = im[i] - xi;
      re[i] += xr;
      im[i] += xi;
    }
    __syncthreads();
  }
}

__device__ __forceinline__ int bit_reverse(int j, int log2n) { return static_cast<int>(__brev(j) >> (32 - log2n)); }

template <class T>
__global__ void rfft_v2(T* __restrict__ out, const T* __restrict__ in, int64_t batch, int n, int log2n) {
  extern __shared__ unsigned char smem_raw[];
  T* re = reinterpret_cast<T*>(smem_raw);
  T* im = re + n;
  const int bins = n / 2 + 1;
  for (int64_t b = blockIdx.x; b < batch; b += gridDim.x) {
    const T* x = in + b * n;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
      const int r = bit_reverse(j, log2n);
      re[r] = x[j];
      im[r] = T(0);
    }
    __syncthreads();
    fft_stages(re, im, n, T(-1));
    T* y = out + b * bins * 2;
    for (int k = threadIdx.x; k < bins; k += blockDim.x) {
      y[2 * k] = re[k];
      y[2 * k + 1] = im[k];
    }
    __syncthreads();  // the next frame overwrites re/im
  }
}

template <class T>
__global__ void c2r_v2(T* __restrict__ out, const T* __restrict__ in, int64_t batch, int n, int log2n) {
  extern __shared__ unsigned char smem_raw[];
  T* re = reinterpret_cast<T*>(smem_raw);
  T* im = re + n;
  const int bins = n / 2 + 1;
  for (int64_t b = blockIdx.x; b < batch; b += gridDim.x) {
    const T* z = in + b * bins * 2;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
      // the Hermitian extension; DC's and Nyquist's imaginary parts count as 0, as in FFTW
      const bool upper = j >= bins;
      const int k = upper ? n - j : j;
      const T zr = z[2 * k], zi = (k == 0 || 2 * k == n) ? T(0) : z[2 * k + 1];
      const int r = bit_reverse(j, log2n);
      re[r] = zr;
      im[r] = upper ? -zi : zi;
    }
    __syncthreads();
    fft_stages(re, im, n, T(1));
    for (int j = threadIdx.x; j < n; j += blockDim.x) out[b * n + j] = re[j];
    __syncthreads();
  }
}

int log2_exact(int64_t n) {
  int l = 0;
  while ((int64_t{1} << l) < n) ++l;
  return (int64_t{1} << l) == n ? l : -1;
}

}  // namespace

template <class T>
bool fft_uses_shared_memory(int64_t n, Variant v) {
  const int64_t max_n = sizeof(T) == 4 ? 4096 : 2048;  // 2 n values of T within 48 KiB
  return v == Variant::V2 && n >= 2 && n <= max_n && log2_exact(n) > 0;
}

template <class T>
void launch_rfft(T* out, const T* in, int64_t batch, int64_t n, Variant v, cudaStream_t s) {
  if (batch == 0 || n == 0) return;
  if (fft_uses_shared_memory<T>(n, v)) {
    const int threads = static_cast<int>(std::min<int64_t>(kThreads, n / 2));
    rfft_v2<T><<<cuda_geom::blocks_for(batch, 1), threads, 2 * n * sizeof(T), s>>>(out, in, batch, static_cast<int>(n),
                                                                                   log2_exact(n));
  } else {
    rfft_v1<T><<<cuda_geom::blocks_for(batch * (n / 2 + 1), kThreads), kThreads, 0, s>>>(out, in, batch, n);
  }
  FM_CUDA_CHECK_LAUNCH("rfft (cuda)");
}

template <class T>
void launch_c2r(T* out, const T* in, int64_t batch, int64_t n, Variant v, cudaStream_t s) {
  if (batch == 0 || n == 0) return;
  if (fft_uses_shared_memory<T>(n, v)) {
    const int threads = static_cast<int>(std::min<int64_t>(kThreads, n / 2));
    c2r_v2<T><<<cuda_geom::blocks_for(batch, 1), threads, 2 * n * sizeof(T), s>>>(out, in, batch, static_cast<int>(n),
                                                                                  log2_exact(n));
  } else {
    c2r_v1<T><<<cuda_geom::blocks_for(batch * n, kThreads), kThreads, 0, s>>>(out, in, batch, n);
  }
  FM_CUDA_CHECK_LAUNCH("c2r (cuda)");
}

template bool fft_uses_shared_memory<float>(int64_t, Variant);
template bool fft_uses_shared_memory<double>(int64_t, Variant);
template void launch_rfft<float>(float*, const float*, int64_t, int64_t, Variant, cudaStream_t);
template void launch_rfft<double>(double*, const double*, int64_t, int64_t, Variant, cudaStream_t);
template void launch_c2r<float>(float*, const float*, int64_t, int64_t, Variant, cudaStream_t);
template void launch_c2r<double>(double*, const double*, int64_t, int64_t, Variant, cudaStream_t);

}  // namespace fm::kernels::cuda
