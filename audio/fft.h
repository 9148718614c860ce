#pragma once
// Real FFTs through FFTW (float and double), batched over frames.
//
// Plans are created once per (size, direction, precision), cached and shared by every thread
// (FFTW's planner is not thread-safe, so plan creation is serialised; execution on new arrays
// with fftw_execute_dft_r2c / _c2r is). Frames run in parallel with OpenMP.
#include <cstdint>

#include "autograd/node.h"
#include "tensor/tensor.h"

namespace fm::audio {

// Raw batched transforms (no autograd), interleaved complex (re, im):
// rfft: in [batch, n] -> out [batch, n/2+1, 2], unnormalised (FFTW's sign -1).
// irfft_raw: in [batch, n/2+1, 2] -> out [batch, n], FFTW's unnormalised c2r (sum over the
// Hermitian-extended spectrum; imaginary parts of DC and Nyquist are ignored).
template <class T>
void rfft_batch(const T* in, T* out, int64_t batch, int64_t n);
template <class T>
void c2r_batch(const T* in, T* out, int64_t batch, int64_t n);

// Differentiable transforms along the last dim, with a real per-bin scale s (size n/2+1;
// empty = all ones). Each is the other's adjoint, so gradients of any order work:
//   rfft_scaled(x [..., n], s)   -> [..., n/2+1, 2],  Y_k = s_k * DFT(x)_k
//   c2r_scaled(Z [..., n/2+1, 2], n, s) -> [..., n], FFTW c2r of s_k * Z_k
Tensor rfft_scaled(const Tensor& x, const std::vector<double>& scale = {});
Tensor c2r_scaled(const Tensor& z, int64_t n, const std::vector<double>& scale = {});

// torch.fft.rfft / irfft (backward norm) with the complex as a trailing dim of 2.
Tensor rfft(const Tensor& x);
Tensor irfft(const Tensor& z, int64_t n);

// Number of plans in the cache (for tests).
int64_t fft_plan_cache_size();

}  // namespace fm::audio
