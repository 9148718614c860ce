// CUDA batch norm (x seen as contiguous [N, C, S]) and layer norm (x seen as [M, D]), forward
// and backward, twins of kernels/cpu/norm.cpp: the same shifted one-pass statistics in double,
// the same per-channel coefficients, so both sides round alike.
//
// Per-channel (batch norm) and per-column (layer norm's weight/bias gradients) sums go through
// `partials` [2][C][P]: P partial sums per channel, written by P blocks and added in a fixed
// order by a finishing kernel, so results do not depend on scheduling (no atomics).
//   v1: one thread per channel walks all its elements (P = 1); one thread per layer-norm row.
//   v2: channels with long contiguous runs (S > 1): a grid of (P, C) blocks, each reducing one
//       slice of a channel with coalesced reads; [N, C] layouts and column sums: 32 x 8 thread
//       tiles, 32 neighbouring channels per warp, rows split across P tiles; one block per
//       layer-norm row with block reductions.
#include <algorithm>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kTileRows = 8;  // rows of a 32 x kTileRows column tile

struct Sums2 {
  double a, b;
};

// std::max(v, 0.0) as the CPU writes it: rounding below zero clamps, NaN stays NaN (fmax would
// turn a NaN variance from an inf or NaN input into 0).
__device__ __forceinline__ double clamp_negative(double v) { return v < 0.0 ? 0.0 : v; }

// Element e in [0, N*S) of channel c, as (x - shift[c], its square): batch norm statistics,
// shifted by the channel's first element as on the CPU.
template <class T>
struct BnStatsTerm {
  const T* x;
  int64_t C, S;
  __device__ Sums2 operator()(int64_t c, int64_t e) const {
    const int64_t n = e / S, s = e - n * S;
    const T d = x[(n * C + c) * S + s] - x[c * S];
    return {static_cast<double>(d), static_cast<double>(d * d)};
  }
};

// (g, g * (x - mean[c])): the sums of batch norm's backward.
template <class T>
struct BnGradTerm {
  const T *g, *x, *mean;
  int64_t C, S;
  __device__ Sums2 operator()(int64_t c, int64_t e) const {
    const int64_t n = e / S, s = e - n * S, i = (n * C + c) * S + s;
    return {static_cast<double>(g[i]), static_cast<double>(g[i] * (x[i] - mean[c]))};
  }
};

// Column j, row r of layer norm's [M, D]: (g * xhat, g), the weight and bias gradients.
template <class T>
struct LnParamTerm {
  const T *g, *x, *mean, *rstd;
  int64_t D;
  __device__ Sums2 operator()(int64_t j, int64_t r) const {
    const int64_t i = r * D + j;
    return {static_cast<double>(g[i] * ((x[i] - mean[r]) * rstd[r])), static_cast<double>(g[i])};
  }
};

template <class F>
__global__ void channel_sums_v1(double* partials, F f, int64_t C, int64_t L) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < C; c += int64_t{gridDim.x} * blockDim.x) {
    double a = 0, b = 0;
    for (int64_t e = 0; e < L; ++e) {
      const Sums2 t = f(c, e);
      a += t.a;
      b += t.b;
    }
    partials[c] = a;
    partials[C + c] = b;
  }
}

// Block (p, c) sums slice p of channel c's L elements into partials[.][c][p].
template <class F>
__global__ void channel_sums_runs(double* partials, F f, int64_t C, int64_t L, int64_t P) {
  __shared__ double smem[32];
  const int64_t p = blockIdx.x, chunk = (L + P - 1) / P;
  const int64_t lo = p * chunk, hi = min(L, lo + chunk);
  for (int64_t c = blockIdx.y; c < C; c += gridDim.y) {
    double a = 0, b = 0;
    for (int64_t e = lo + threadIdx.x; e < hi; e += blockDim.x) {
      const Sums2 t = f(c, e);
      a += t.a;
      b += t.b;
    }
    const auto add = [](double u, double v) { return u + v; };
    a = block_reduce(a, add, 0.0, smem);
    b = block_reduce(b, add, 0.0, smem);
    if (threadIdx.x == 0) {
      partials[c * P + p] = a;
      partials[C * P + c * P + p] = b;
    }
  }
}

// Tile (x, p): 32 channels from 32 * blockIdx.x, rows p * kTileRows + ty, stepping by
// P * kTileRows; the kTileRows row sums of a channel meet in shared memory.
template <class F>
__global__ void channel_sums_columns(double* partials, F f, int64_t C, int64_t L, int64_t P) {
  __shared__ double sa[kTileRows][33], sb[kTileRows][33];
  const int64_t c = blockIdx.x * int64_t{32} + threadIdx.x, p = blockIdx.y;
  double a = 0, b = 0;
  if (c < C)
    for (int64_t e = p * kTileRows + threadIdx.y; e < L; e += P * kTileRows) {
      const Sums2 t = f(c, e);
      a += t.a;
      b += t.b;
    }
  sa[threadIdx.y][threadIdx.x] = a;
  sb[threadIdx.y][threadIdx.x] = b;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    for (int r = 1; r < kTileRows; ++r) {
      a += sa[r][threadIdx.x];
      b += sb[r][threadIdx.x];
    }
    partials[c * P + p] = a;
    partials[C * P + c * P + p] = b;
  }
}

// The two sums of channel c, its P partials added in order.
__device__ __forceinline__ Sums2 channel_total(const double* partials, int64_t c, int64_t C, int64_t P) {
  Sums2 t{0, 0};
  for (int64_t p = 0; p < P; ++p) {
    t.a += partials[c * P + p];
    t.b += partials[C * P + c * P + p];
  }
  return t;
}

template <class T>
__global__ void bn_stats_finish(T* mean, T* var, const T* x, const double* partials, int64_t C, int64_t S,
                                int64_t P, double M) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < C; c += int64_t{gridDim.x} * blockDim.x) {
    const Sums2 t = channel_total(partials, c, C, P);
    // an empty channel (M == 0) gives NaN as on the CPU, without reading x
    const double m = t.a / M, v = t.b / M - m * m;
    mean[c] = static_cast<T>((M > 0 ? static_cast<double>(x[c * S]) : 0.0) + m);
    var[c] = static_cast<T>(clamp_negative(v));
  }
}

// coef [3][C]: out = g * coef[0] + x * coef[1] + coef[2]. Forward: coef[0] unused,
// a = invstd * w, b = bias - mean * a, as the CPU computes them in T.
template <class T>
__global__ void bn_forward_coef(T* coef, const T* mean, const T* invstd, const T* w, const T* b, int64_t C) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < C; c += int64_t{gridDim.x} * blockDim.x) {
    const T a = invstd[c] * (w ? w[c] : T(1));
    coef[C + c] = a;
    coef[2 * C + c] = (b ? b[c] : T(0)) - mean[c] * a;
  }
}

// The weight and bias gradients and the input gradient's coefficients (kernels/cpu/norm.cpp's
// A, B, D, in double).
template <class T>
__global__ void bn_backward_finish(T* gw, T* gb, T* coef, const double* partials, const T* mean, const T* invstd,
                                   const T* w, int64_t C, int64_t P, double M, bool training) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < C; c += int64_t{gridDim.x} * blockDim.x) {
    const Sums2 t = partials ? channel_total(partials, c, C, P) : Sums2{0, 0};
    const double is = static_cast<double>(invstd[c]);
    if (gb) gb[c] = static_cast<T>(t.a);
    if (gw) gw[c] = static_cast<T>(t.b * is);
    if (!coef) continue;
    const double k = is * (w ? static_cast<double>(w[c]) : 1.0);
    double bcoef = 0, dcoef = 0;
    if (training) {
      bcoef = -k * is * is * t.b / M;
      dcoef = -k * t.a / M - bcoef * static_cast<double>(mean[c]);
    }
    coef[c] = static_cast<T>(k);
    coef[C + c] = static_cast<T>(bcoef);
    coef[2 * C + c] = static_cast<T>(dcoef);
  }
}

// out = (g ? g * coef[0][c] : 0) + x * coef[1][c] + coef[2][c] over [N, C, S].
template <class T>
__global__ void bn_affine_v1(T* out, const T* g, const T* x, const T* coef, int64_t C, int64_t S, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = (i / S) % C;
    const T v = x[i] * coef[C + c] + coef[2 * C + c];
    out[i] = g ? g[i] * coef[c] + v : v;
  }
}

// One (n, c) run of S elements per blockIdx.y step: the channel and its coefficients once per
// run, not per element.
template <class T>
__global__ void bn_affine_runs(T* __restrict__ out, const T* __restrict__ g, const T* __restrict__ x,
                               const T* __restrict__ coef, int64_t C, int64_t S, int64_t runs) {
  for (int64_t k = blockIdx.y; k < runs; k += gridDim.y) {
    const int64_t c = k % C;
    const T k0 = g ? coef[c] : T(0), k1 = coef[C + c], k2 = coef[2 * C + c];
    const int64_t base = k * S;
    for (int64_t s = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; s < S; s += int64_t{gridDim.x} * blockDim.x) {
      const T v = x[base + s] * k1 + k2;
      out[base + s] = g ? g[base + s] * k0 + v : v;
    }
  }
}

// ---- layer norm ----

template <class T>
__device__ __forceinline__ T ln_out(T x, T mu, T rs, const T* w, const T* b, int64_t j) {
  T y = (x - mu) * rs;
  if (w) y = y * w[j];
  if (b) y = y + b[j];
  return y;
}

template <class T>
__global__ void layer_norm_v1(T* y, T* mean, T* rstd, const T* x, const T* w, const T* b, int64_t M, int64_t D,
                              double eps) {
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r < M; r += int64_t{gridDim.x} * blockDim.x) {
    const T* xr = x + r * D;
    const T shift = D > 0 ? xr[0] : T(0);
    double s = 0, ss = 0;
    for (int64_t j = 0; j < D; ++j) {
      const T d = xr[j] - shift;
      s += d;
      ss += d * d;
    }
    const double m = D > 0 ? s / D : 0.0, var = D > 0 ? clamp_negative(ss / D - m * m) : 0.0;
    const T mu = static_cast<T>(static_cast<double>(shift) + m), rs = static_cast<T>(1.0 / sqrt(var + eps));
    mean[r] = mu;
    rstd[r] = rs;
    for (int64_t j = 0; j < D; ++j) y[r * D + j] = ln_out(xr[j], mu, rs, w, b, j);
  }
}

template <class T>
__global__ void layer_norm_v2(T* __restrict__ y, T* mean, T* rstd, const T* __restrict__ x, const T* w, const T* b,
                              int64_t M, int64_t D, double eps) {
  __shared__ double smem[32];
  const auto add = [](double u, double v) { return u + v; };
  for (int64_t r = blockIdx.x; r < M; r += gridDim.x) {
    const T* xr = x + r * D;
    const T shift = xr[0];
    double s = 0, ss = 0;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const T d = xr[j] - shift;
      s += d;
      ss += d * d;
    }
    s = block_reduce(s, add, 0.0, smem);
    ss = block_reduce(ss, add, 0.0, smem);
    const double m = s / D, var = clamp_negative(ss / D - m * m);
    const T mu = static_cast<T>(static_cast<double>(shift) + m), rs = static_cast<T>(1.0 / sqrt(var + eps));
    if (threadIdx.x == 0) mean[r] = mu, rstd[r] = rs;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) y[r * D + j] = ln_out(xr[j], mu, rs, w, b, j);
  }
}

// gx = rstd * (g w - mean(g w) - xhat * mean(g w xhat)) per row.
template <class T>
__global__ void layer_norm_backward_x_v1(T* gx, const T* g, const T* x, const T* mean, const T* rstd, const T* w,
                                         int64_t M, int64_t D) {
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r < M; r += int64_t{gridDim.x} * blockDim.x) {
    const T mu = mean[r], rs = rstd[r];
    const T *xr = x + r * D, *gr = g + r * D;
    double s1 = 0, s2 = 0;
    for (int64_t j = 0; j < D; ++j) {
      const T gw = w ? gr[j] * w[j] : gr[j];
      s1 += gw;
      s2 += gw * ((xr[j] - mu) * rs);
    }
    const T a = static_cast<T>(s1 / D), c = static_cast<T>(s2 / D);
    for (int64_t j = 0; j < D; ++j) gx[r * D + j] = rs * ((w ? gr[j] * w[j] : gr[j]) - a - (xr[j] - mu) * rs * c);
  }
}

template <class T>
__global__ void layer_norm_backward_x_v2(T* __restrict__ gx, const T* __restrict__ g, const T* __restrict__ x,
                                         const T* mean, const T* rstd, const T* w, int64_t M, int64_t D) {
  __shared__ double smem[32];
  const auto add = [](double u, double v) { return u + v; };
  for (int64_t r = blockIdx.x; r < M; r += gridDim.x) {
    const T mu = mean[r], rs = rstd[r];
    const T *xr = x + r * D, *gr = g + r * D;
    double s1 = 0, s2 = 0;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const T gw = w ? gr[j] * w[j] : gr[j];
      s1 += gw;
      s2 += gw * ((xr[j] - mu) * rs);
    }
    s1 = block_reduce(s1, add, 0.0, smem);
    s2 = block_reduce(s2, add, 0.0, smem);
    const T a = static_cast<T>(s1 / D), c = static_cast<T>(s2 / D);
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x)
      gx[r * D + j] = rs * ((w ? gr[j] * w[j] : gr[j]) - a - (xr[j] - mu) * rs * c);
  }
}

template <class T>
__global__ void ln_param_finish(T* gw, T* gb, const double* partials, int64_t D, int64_t P) {
  for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < D; j += int64_t{gridDim.x} * blockDim.x) {
    const Sums2 t = channel_total(partials, j, D, P);
    if (gw) gw[j] = static_cast<T>(t.a);
    if (gb) gb[j] = static_cast<T>(t.b);
  }
}

// Sums of `f` per channel into partials [2][C][P], by the kernel norm_partials_for chose.
template <class F>
void launch_channel_sums(double* partials, F f, int64_t C, int64_t L, int64_t P, NormSums how, cudaStream_t s) {
  switch (how) {
    case NormSums::PerThread:
      channel_sums_v1<<<cuda_geom::blocks_for(C, kThreads), kThreads, 0, s>>>(partials, f, C, L);
      break;
    case NormSums::Runs:
      channel_sums_runs<<<dim3(static_cast<unsigned>(P), static_cast<unsigned>(std::min<int64_t>(C, 65535))),
                          kThreads, 0, s>>>(partials, f, C, L, P);
      break;
    case NormSums::Columns:
      channel_sums_columns<<<dim3(static_cast<unsigned>((C + 31) / 32), static_cast<unsigned>(P)),
                             dim3(32, kTileRows), 0, s>>>(partials, f, C, L, P);
      break;
  }
}

template <class T>
void launch_affine(T* out, const T* g, const T* x, const T* coef, int64_t N, int64_t C, int64_t S, Variant v,
                   cudaStream_t s) {
  const int64_t n = N * C * S;
  if (v == Variant::V2 && S >= 64) {
    const unsigned gx = static_cast<unsigned>(cuda_geom::blocks_for(S, kThreads, 64));
    const unsigned gy = static_cast<unsigned>(std::min<int64_t>(N * C, 65535));
    bn_affine_runs<T><<<dim3(gx, gy), kThreads, 0, s>>>(out, g, x, coef, C, S, N * C);
  } else {
    bn_affine_v1<T><<<cuda_geom::blocks_for(n, kThreads), kThreads, 0, s>>>(out, g, x, coef, C, S, n);
  }
}

}  // namespace

NormPlan norm_plan(int64_t C, int64_t L, bool columns, Variant v, int sms) {
  if (v == Variant::V1 || C == 0 || L == 0) return {NormSums::PerThread, 1};
  const int64_t target_blocks = 4 * int64_t{std::max(sms, 1)};
  if (columns) {
    // enough row tiles to fill the device, each walking at least 32 rows
    const int64_t tiles_x = (C + 31) / 32;
    const int64_t by_fill = (target_blocks + tiles_x - 1) / tiles_x;
    const int64_t by_rows = std::max<int64_t>(1, L / (kTileRows * 32));
    return {NormSums::Columns, std::max<int64_t>(1, std::min({by_fill, by_rows, int64_t{65535}}))};
  }
  const int64_t by_fill = (target_blocks + C - 1) / C;
  const int64_t by_len = std::max<int64_t>(1, L / (kThreads * 8));
  return {NormSums::Runs, std::max<int64_t>(1, std::min({by_fill, by_len, int64_t{65535}}))};
}

template <class T>
void launch_batch_norm_stats(T* mean, T* var, const T* x, int64_t N, int64_t C, int64_t S, double* partials,
                             const NormPlan& plan, cudaStream_t s) {
  if (C == 0) return;
  launch_channel_sums(partials, BnStatsTerm<T>{x, C, S}, C, N * S, plan.partials, plan.how, s);
  bn_stats_finish<T><<<cuda_geom::blocks_for(C, kThreads), kThreads, 0, s>>>(mean, var, x, partials, C, S,
                                                                             plan.partials, static_cast<double>(N * S));
  FM_CUDA_CHECK_LAUNCH("batch_norm_stats (cuda)");
}

template <class T>
void launch_batch_norm_apply(T* y, const T* x, const T* mean, const T* invstd, const T* w, const T* b, int64_t N,
                             int64_t C, int64_t S, T* coef, Variant v, cudaStream_t s) {
  if (N * C * S == 0) return;
  bn_forward_coef<T><<<cuda_geom::blocks_for(C, kThreads), kThreads, 0, s>>>(coef, mean, invstd, w, b, C);
  launch_affine<T>(y, nullptr, x, coef, N, C, S, v, s);
  FM_CUDA_CHECK_LAUNCH("batch_norm (cuda)");
}

template <class T>
void launch_batch_norm_backward(T* gx, T* gw, T* gb, const T* g, const T* x, const T* mean, const T* invstd,
                                const T* w, int64_t N, int64_t C, int64_t S, bool training, double* partials,
                                const NormPlan& plan, T* coef, Variant v, cudaStream_t s) {
  if (C == 0) return;
  if (partials) launch_channel_sums(partials, BnGradTerm<T>{g, x, mean, C, S}, C, N * S, plan.partials, plan.how, s);
  bn_backward_finish<T><<<cuda_geom::blocks_for(C, kThreads), kThreads, 0, s>>>(
      gw, gb, gx ? coef : nullptr, partials, mean, invstd, w, C, plan.partials, static_cast<double>(N * S), training);
  if (gx && N * S > 0) launch_affine<T>(gx, g, x, coef, N, C, S, v, s);
  FM_CUDA_CHECK_LAUNCH("batch_norm_backward (cuda)");
}

template <class T>
void launch_layer_norm(T* y, T* mean, T* rstd, const T* x, const T* w, const T* b, int64_t M, int64_t D, double eps,
                       Variant v, cudaStream_t s) {
  if (M == 0) return;
  if (v == Variant::V2 && D > 0)
    layer_norm_v2<T><<<cuda_geom::blocks_for(M, 1), row_threads(kThreads, D), 0, s>>>(y, mean, rstd, x, w, b, M, D, eps);
  else
    layer_norm_v1<T><<<cuda_geom::blocks_for(M, kThreads), kThreads, 0, s>>>(y, mean, rstd, x, w, b, M, D, eps);
  FM_CUDA_CHECK_LAUNCH("layer_norm (cuda)");
}

template <class T>
void launch_layer_norm_backward(T* gx, T* gw, T* gb, const T* g, const T* x, const T* mean, const T* rstd,
                                const T* w, int64_t M, int64_t D, double* partials, const NormPlan& plan, Variant v,
                                cudaStream_t s) {
  if (D == 0) return;
  if (gx && M > 0) {
    if (v == Variant::V2)
      layer_norm_backward_x_v2<T><<<cuda_geom::blocks_for(M, 1), row_threads(kThreads, D), 0, s>>>(gx, g, x, mean, rstd, w, M,
                                                                                        D);
    else
      layer_norm_backward_x_v1<T><<<cuda_geom::blocks_for(M, kThreads), kThreads, 0, s>>>(gx, g, x, mean, rstd, w,
                                                                                          M, D);
  }
  if (gw || gb) {
    launch_channel_sums(partials, LnParamTerm<T>{g, x, mean, rstd, D}, D, M, plan.partials, plan.how, s);
    ln_param_finish<T><<<cuda_geom::blocks_for(D, kThreads), kThreads, 0, s>>>(gw, gb, partials, D, plan.partials);
  }
  FM_CUDA_CHECK_LAUNCH("layer_norm_backward (cuda)");
}

#define FM_NORM_INSTANTIATE(T)                                                                                    \
  template void launch_batch_norm_stats<T>(T*, T*, const T*, int64_t, int64_t, int64_t, double*, const NormPlan&, \
                                           cudaStream_t);                                                         \
  template void launch_batch_norm_apply<T>(T*, const T*, const T*, const T*, const T*, const T*, int64_t, int64_t, \
                                           int64_t, T*, Variant, cudaStream_t);                                   \
  template void launch_batch_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*,       \
                                              int64_t, int64_t, int64_t, bool, double*, const NormPlan&, T*,      \
                                              Variant, cudaStream_t);                                             \
  template void launch_layer_norm<T>(T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t, double, Variant, \
                                     cudaStream_t);                                                               \
  template void launch_layer_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*,       \
                                              int64_t, int64_t, double*, const NormPlan&, Variant, cudaStream_t);
FM_NORM_INSTANTIATE(float)
FM_NORM_INSTANTIATE(double)
#undef FM_NORM_INSTANTIATE

}  // namespace fm::kernels::cuda
