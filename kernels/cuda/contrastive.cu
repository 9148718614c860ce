// CUDA fused NT-Xent over contiguous z [M = 2N, D] (kernels/contrastive.h; the CPU twin is
// kernels/cpu/contrastive.cpp). A first kernel writes the inverse norms (1e12 where the norm is
// clamped at 1e-12) and the normalised rows u (a workspace of M * D; the [M, M] similarities are
// never stored).
// Forward: v1 one thread per row, dot products in double, an online log-sum-exp over the other
// rows. v2 one block of 128 threads per tile of 32 rows: 32-row column tiles of u staged in
// shared memory 32 features at a time, a 32 x 32 tile of similarities in registers (8 per
// thread, four threads per row), folded into per-thread running (max, sum) pairs that are merged
// across each row's four lanes at the end. Per-row losses go to a double workspace and one block
// adds them in a fixed tree: no atomics, the loss does not depend on scheduling.
// Backward (see kernels/contrastive.h): dL/du_k = g/(M tau) (sum_{j != k} w_kj u_j) with
// w_kj = exp(s_kj - lse_k) + exp(s_kj - lse_j) - 2 [j = pos(k)]: s is symmetric, so each row
// pass also covers column k, deterministically, into a double workspace owned by the row (v1 a
// thread per row; v2 the forward's tiles, the 32 x 32 tile of w staged in shared memory and
// multiplied by the column tile's rows feature by feature). A last kernel applies the chain rule
// through u = z / c.
#include <cmath>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = 32;       // rows per block and columns per tile (v2)
constexpr int kDk = 32;         // features staged per step (v2)
constexpr int kTileThreads = 128;  // 4 threads per row, 8 columns each
constexpr double kClampInv = 1e12;  // 1 / 1e-12

template <class T>
__device__ __forceinline__ void online_add(T& m, T& s, T v) {
  if (v > m) {
    s = s * exp(m - v) + T(1);
    m = v;
  } else {
    s += exp(v - m);
  }
}

// inv[i] = 1 / max(||z_i||, 1e-12) (exactly 1e12 when clamped), u = z * inv.
template <class T>
__global__ void nx_norm(T* inv, T* u, const T* z, int64_t M, int64_t D) {
  for (int64_t i = global_thread(); i < M; i += grid_threads()) {
    const T* r = z + i * D;
    double ss = 0;
    for (int64_t d = 0; d < D; ++d) ss += double(r[d]) * double(r[d]);
    const double n = sqrt(ss);
    const double iv = n > 1e-12 ? 1.0 / n : kClampInv;
    inv[i] = n > 1e-12 ? T(1.0 / n) : T(kClampInv);
    for (int64_t d = 0; d < D; ++d) u[i * D + d] = T(double(r[d]) * iv);
  }
}

// u = z * inv from the forward's stored inverse norms (the backward).
template <class T>
__global__ void nx_unorm(T* u, const T* z, const T* inv, int64_t n, int64_t D) {
  for (int64_t e = global_thread(); e < n; e += grid_threads()) u[e] = T(double(z[e]) * double(inv[e / D]));
}

template <class T>
__device__ __forceinline__ double dot_d(const T* a, const T* b, int64_t D) {
  double s = 0;
  for (int64_t d = 0; d < D; ++d) s += double(a[d]) * double(b[d]);
  return s;
}

template <class T>
__global__ void nx_fwd_v1(T* lse, double* row_loss, const T* u, int64_t M, int64_t D, double rt) {
  const int64_t N = M / 2;
  for (int64_t i = global_thread(); i < M; i += grid_threads()) {
    const int64_t pos = i < N ? i + N : i - N;
    double m = -INFINITY, s = 0, spos = 0;
    for (int64_t j = 0; j < M; ++j) {
      if (j == i) continue;
      const double v = dot_d(u + i * D, u + j * D, D) * rt;
      if (j == pos) spos = v;
      online_add(m, s, v);
    }
    const double l = m + log(s);
    lse[i] = T(l);
    row_loss[i] = l - spos;
  }
}

// The 32 x 32 tile of similarities of rows row0.. and columns col0..: thread t holds row
// t / 4, columns t % 4 + 4 k (k < 8), unscaled.
template <class T>
__device__ __forceinline__ void sim_tile(T (&acc)[8], T (*As)[kDk + 1], T (*Bs)[kDk + 1], const T* u, int64_t row0,
                                         int64_t col0, int64_t M, int64_t D) {
  const int t = threadIdx.x, r = t >> 2, q = t & 3;
#pragma unroll
  for (int k = 0; k < 8; ++k) acc[k] = T(0);
  for (int64_t d0 = 0; d0 < D; d0 += kDk) {
    __syncthreads();  // the previous step's readers are done
    for (int e = t; e < kTile * kDk; e += kTileThreads) {
      const int rr = e / kDk, dd = e % kDk;
      const int64_t gd = d0 + dd, gi = row0 + rr, gj = col0 + rr;
      As[rr][dd] = gi < M && gd < D ? u[gi * D + gd] : T(0);
      Bs[rr][dd] = gj < M && gd < D ? u[gj * D + gd] : T(0);
    }
    __syncthreads();
#pragma unroll 8
    for (int dd = 0; dd < kDk; ++dd) {
      const T a = As[r][dd];
#pragma unroll
      for (int k = 0; k < 8; ++k) acc[k] += a * Bs[q + 4 * k][dd];
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kTileThreads) nx_fwd_v2(T* lse, double* row_loss, const T* u, int64_t M, int64_t D,
                                                          T rt) {
  __shared__ T As[kTile][kDk + 1], Bs[kTile][kDk + 1];
  const int t = threadIdx.x, r = t >> 2, q = t & 3;
  const int64_t N = M / 2, row0 = int64_t{blockIdx.x} * kTile, i = row0 + r;
  const int64_t pos = i < N ? i + N : i - N;
  T m = -T(INFINITY), s = T(0), spos = T(0);
  for (int64_t col0 = 0; col0 < M; col0 += kTile) {
    T acc[8];
    sim_tile(acc, As, Bs, u, row0, col0, M, D);
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      const int64_t j = col0 + q + 4 * k;
      if (i < M && j < M && j != i) {
        const T v = acc[k] * rt;
        if (j == pos) spos = v;
        online_add(m, s, v);
      }
    }
  }
  MaxSum<T> a{m, s};
  for (int off = 1; off < 4; off <<= 1) {  // the row's four lanes, in a fixed order
    const MaxSum<T> o{__shfl_xor_sync(0xffffffffu, a.m, off), __shfl_xor_sync(0xffffffffu, a.s, off)};
    a = (q & off) ? merge(o, a) : merge(a, o);
    spos += __shfl_xor_sync(0xffffffffu, spos, off);  // one lane holds it, the others 0
  }
  if (q == 0 && i < M) {
    const T l = a.m + log(a.s);
    lse[i] = l;
    row_loss[i] = double(l) - double(spos);
  }
}

// loss = sum(row_loss) / M in a fixed order (one block).
template <class T>
__global__ void nx_mean(T* loss, const double* row_loss, int64_t M) {
  __shared__ double sm[32];
  double s = 0;
  for (int64_t i = threadIdx.x; i < M; i += blockDim.x) s += row_loss[i];
  s = block_reduce(s, [](double x, double y) { return x + y; }, 0.0, sm);
  if (threadIdx.x == 0) *loss = T(s / double(M));
}

template <class T>
__global__ void nx_bwd_v1(double* acc, const T* u, const T* lse, int64_t M, int64_t D, double rt) {
  const int64_t N = M / 2;
  for (int64_t k = global_thread(); k < M; k += grid_threads()) {
    const int64_t pos = k < N ? k + N : k - N;
    double* a = acc + k * D;
    for (int64_t d = 0; d < D; ++d) a[d] = 0;
    const double lk = lse[k];
    for (int64_t j = 0; j < M; ++j) {
      if (j == k) continue;
      const double v = dot_d(u + k * D, u + j * D, D) * rt;
      double w = exp(v - lk) + exp(v - double(lse[j]));
      if (j == pos) w -= 2;
      const T* uj = u + j * D;
      for (int64_t d = 0; d < D; ++d) a[d] += w * double(uj[d]);
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kTileThreads) nx_bwd_v2(double* accum, const T* u, const T* lse, int64_t M,
                                                          int64_t D, T rt) {
  __shared__ T As[kTile][kDk + 1], Bs[kTile][kDk + 1];
  __shared__ T Ws[kTile][kTile + 1];
  const int t = threadIdx.x, r = t >> 2, q = t & 3;
  const int64_t N = M / 2, row0 = int64_t{blockIdx.x} * kTile, i = row0 + r;
  const int64_t pos = i < N ? i + N : i - N;
  const T li = i < M ? lse[i] : T(0);
  for (int64_t e = t; e < int64_t{kTile} * D; e += kTileThreads)  // this block's rows of the workspace
    if (row0 + e / D < M) accum[row0 * D + e] = 0;
  for (int64_t col0 = 0; col0 < M; col0 += kTile) {
    T acc[8];
    sim_tile(acc, As, Bs, u, row0, col0, M, D);
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      const int64_t j = col0 + q + 4 * k;
      T w = T(0);
      if (i < M && j < M && j != i) {
        const T v = acc[k] * rt;
        w = exp(v - li) + exp(v - lse[j]);
        if (j == pos) w -= T(2);
      }
      Ws[r][q + 4 * k] = w;
    }
    __syncthreads();
    // accum[row0 + r, d] += sum_c Ws[r][c] u[col0 + c, d]: a thread per feature, 32 rows each
    for (int64_t d = t; d < D; d += kTileThreads) {
      T part[kTile];
#pragma unroll
      for (int rr = 0; rr < kTile; ++rr) part[rr] = T(0);
      for (int c = 0; c < kTile; ++c) {
        const int64_t j = col0 + c;
        const T v = j < M ? u[j * D + d] : T(0);
#pragma unroll
        for (int rr = 0; rr < kTile; ++rr) part[rr] += Ws[rr][c] * v;
      }
#pragma unroll
      for (int rr = 0; rr < kTile; ++rr)
        if (row0 + rr < M) accum[(row0 + rr) * D + d] += double(part[rr]);
    }
    // Ws is rewritten after the next tile's first __syncthreads in sim_tile
  }
}

// dz_k = scale (a - u_k (u_k . a)) inv_k (a = accum row k; the projection dropped where the
// norm was clamped), scale = g / (M tau).
template <class T>
__global__ void nx_chain(T* dz, const double* accum, const T* z, const T* inv, const T* g, int64_t M, int64_t D,
                         double temperature) {
  const double scale = double(*g) / (double(M) * temperature);
  for (int64_t k = global_thread(); k < M; k += grid_threads()) {
    const double iv = inv[k];
    const bool clamped = inv[k] >= T(kClampInv);
    const double* a = accum + k * D;
    const T* zk = z + k * D;
    double proj = 0;
    if (!clamped)
      for (int64_t d = 0; d < D; ++d) proj += a[d] * double(zk[d]) * iv;
    for (int64_t d = 0; d < D; ++d) dz[k * D + d] = T(scale * (a[d] - double(zk[d]) * iv * proj) * iv);
  }
}

}  // namespace

template <class T>
void launch_nt_xent(T* loss, T* lse, T* inv, const T* z, T* u, double* row_loss, int64_t M, int64_t D,
                    double temperature, Variant v, cudaStream_t s) {
  if (M == 0) return;
  nx_norm<T><<<cuda_geom::blocks_for(M, kThreads), kThreads, 0, s>>>(inv, u, z, M, D);
  if (v == Variant::V2) {
    nx_fwd_v2<T><<<(M + kTile - 1) / kTile, kTileThreads, 0, s>>>(lse, row_loss, u, M, D, T(1.0 / temperature));
  } else {
    nx_fwd_v1<T><<<cuda_geom::blocks_for(M, kThreads), kThreads, 0, s>>>(lse, row_loss, u, M, D, 1.0 / temperature);
  }
  nx_mean<T><<<1, kThreads, 0, s>>>(loss, row_loss, M);
  FM_CUDA_CHECK_LAUNCH("nt_xent_loss (cuda)");
}

template <class T>
void launch_nt_xent_backward(T* dz, const T* z, const T* lse, const T* inv, const T* grad_loss, T* u, double* acc,
                             int64_t M, int64_t D, double temperature, Variant v, cudaStream_t s) {
  if (M == 0 || D == 0) return;
  nx_unorm<T><<<cuda_geom::blocks_for(M * D, kThreads), kThreads, 0, s>>>(u, z, inv, M * D, D);
  if (v == Variant::V2) {
    nx_bwd_v2<T><<<(M + kTile - 1) / kTile, kTileThreads, 0, s>>>(acc, u, lse, M, D, T(1.0 / temperature));
  } else {
    nx_bwd_v1<T><<<cuda_geom::blocks_for(M, kThreads), kThreads, 0, s>>>(acc, u, lse, M, D, 1.0 / temperature);
  }
  nx_chain<T><<<cuda_geom::blocks_for(M, kThreads), kThreads, 0, s>>>(dz, acc, z, inv, grad_loss, M, D, temperature);
  FM_CUDA_CHECK_LAUNCH("nt_xent_backward (cuda)");
}

template void launch_nt_xent<float>(float*, float*, float*, const float*, float*, double*, int64_t, int64_t, double,
                                    Variant, cudaStream_t);
template void launch_nt_xent<double>(double*, double*, double*, const double*, double*, double*, int64_t, int64_t,
                                     double, Variant, cudaStream_t);
template void launch_nt_xent_backward<float>(float*, const float*, const float*, const float*, const float*, float*,
                                             double*, int64_t, int64_t, double, Variant, cudaStream_t);
template void launch_nt_xent_backward<double>(double*, const double*, const double*, const double*, const double*,
                                              double*, double*, int64_t, int64_t, double, Variant, cudaStream_t);

}  // namespace fm::kernels::cuda
