// CUDA fused attention (kernels/attention.h), on contiguous q [B, L, E], k [B, S, E],
// v [B, S, Ev] and an optional bool key padding mask [B, S] (true = masked).
//
// Forward v1: one thread per (batch, query) row. A first pass over the keys keeps the running
// maximum and the sum of exponentials (online softmax), giving the row's log-sum-exp; a second
// pass adds p_j v_j into the output row (global memory, the thread's own row). Any E, Ev,
// float and double.
// Forward v2 (float, E == Ev in {64, 128}; others run v1): FlashAttention-2's structure on CUDA
// cores. A block per (batch, tile of Br = 64 queries), 256 threads = 4 per query row. The query
// tile stays in shared memory; tiles of Bc = 32 keys and values are staged in shared memory,
// each thread computing 8 of the tile's 32 logits of its row, then the row's tile maximum by
// two quad shuffles, the running max/sum rescaled once per tile, and the D/4 output columns the
// thread owns accumulated in registers. Causal: key tiles past the tile's last query are never
// loaded. Rows are padded by one float in shared memory (no bank conflicts).
// Backward (both variants: v2 reuses v1): pass 1, one thread per query row: rowdot_i =
// dout_i . out_i and dq_i = scale sum_j p_ij (dout_i . v_j - rowdot_i) k_j; pass 2, one thread
// per key column: dv_j = sum_i p_ij dout_i, dk_j = scale sum_i ds_ij q_i. Both recompute
// p = exp(scale q.k - lse); each output element has one writer (deterministic, no atomics).
// A row with lse = -inf (all keys masked: NaN output) contributes nothing to the gradients.
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

constexpr int kThreads = 128;

__device__ __forceinline__ bool allowed(int64_t i, int64_t j, bool causal, const bool* mrow) {
  return !(causal && j > i) && !(mrow != nullptr && mrow[j]);
}

template <class T>
__device__ __forceinline__ T dot(const T* a, const T* b, int64_t n) {
  T s = 0;
  for (int64_t d = 0; d < n; ++d) s += a[d] * b[d];
  return s;
}

template <class T>
__global__ void fa_forward_v1(T* out, T* lse, const T* q, const T* k, const T* v, const bool* kpm, int64_t B,
                              int64_t L, int64_t S, int64_t E, int64_t Ev, T scale, bool causal) {
  const int64_t rows = B * L;
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r < rows; r += int64_t{gridDim.x} * blockDim.x) {
    const int64_t b = r / L, i = r - b * L;
    const T* qi = q + r * E;
    const T* kb = k + b * S * E;
    const T* vb = v + b * S * Ev;
    const bool* mrow = kpm ? kpm + b * S : nullptr;
    T m = -T(INFINITY), l = 0;
    for (int64_t j = 0; j < S; ++j) {
      if (!allowed(i, j, causal, mrow)) continue;
      const T x = scale * dot(qi, kb + j * E, E);
      if (x > m) {
        l *= exp(m - x);
        m = x;
      }
      l += exp(x - m);
    }
    T* oi = out + r * Ev;
    for (int64_t d = 0; d < Ev; ++d) oi[d] = 0;
    if (l > 0) {
      const T inv = T(1) / l;
      for (int64_t j = 0; j < S; ++j) {
        if (!allowed(i, j, causal, mrow)) continue;
        const T p = exp(scale * dot(qi, kb + j * E, E) - m) * inv;
        const T* vj = vb + j * Ev;
        for (int64_t d = 0; d < Ev; ++d) oi[d] += p * vj[d];
      }
      lse[r] = m + log(l);
    } else {
      for (int64_t d = 0; d < Ev; ++d) oi[d] = T(NAN);  // no allowed key: NaN, as PyTorch
      lse[r] = -T(INFINITY);
    }
  }
}

constexpr int kBr = 64, kBc = 32, kQuad = 4, kV2Threads = kBr * kQuad;

template <int D>
constexpr size_t fa_v2_smem() {
  return sizeof(float) * (size_t(kBr) * (D + 1) + 2 * size_t(kBc) * (D + 1) + size_t(kBr) * (kBc + 1));
}

template <int D>
__global__ void __launch_bounds__(kV2Threads) fa_forward_v2(float* __restrict__ out, float* __restrict__ lse,
                                                            const float* __restrict__ q, const float* __restrict__ k,
                                                            const float* __restrict__ v, const bool* __restrict__ kpm,
                                                            int64_t L, int64_t S, float scale, bool causal) {
  constexpr int P = D + 1;  // padded row stride
  extern __shared__ float smem[];
  float* sq = smem;                // [kBr][P]
  float* sk = sq + kBr * P;        // [kBc][P]
  float* sv = sk + kBc * P;        // [kBc][P]
  float* sp = sv + kBc * P;        // [kBr][kBc + 1]
  const int64_t b = blockIdx.y;
  const int64_t i0 = int64_t{blockIdx.x} * kBr;
  const int tid = threadIdx.x, row = tid / kQuad, t = tid % kQuad;
  const int64_t i = i0 + row;
  const float* qb = q + b * L * D;
  const float* kb = k + b * S * D;
  const float* vb = v + b * S * D;
  const bool* mrow = kpm ? kpm + b * S : nullptr;
  for (int e = tid; e < kBr * D; e += kV2Threads) {
    const int r = e / D, d = e % D;
    sq[r * P + d] = i0 + r < L ? qb[(i0 + r) * D + d] * scale : 0.f;  // the scale folded into q
  }
  float acc[D / kQuad];
#pragma unroll
  for (int c = 0; c < D / kQuad; ++c) acc[c] = 0.f;
  float m = -INFINITY, l = 0.f;
  const int64_t s_end = causal ? min(S, i0 + kBr) : S;  // causal: later key tiles are skipped
  for (int64_t j0 = 0; j0 < s_end; j0 += kBc) {
    __syncthreads();  // the previous tile's readers are done
    for (int e = tid; e < kBc * D; e += kV2Threads) {
      const int r = e / D, d = e % D;
      const bool in = j0 + r < S;
      sk[r * P + d] = in ? kb[(j0 + r) * D + d] : 0.f;
      sv[r * P + d] = in ? vb[(j0 + r) * D + d] : 0.f;
    }
    __syncthreads();
    // logits of keys j0 + t + 4 n for this thread's row
    float x[kBc / kQuad];
    float tmax = -INFINITY;
#pragma unroll
    for (int n = 0; n < kBc / kQuad; ++n) {
      const int jj = t + kQuad * n;
      const int64_t j = j0 + jj;
      float s = 0.f;
#pragma unroll 16
      for (int d = 0; d < D; ++d) s += sq[row * P + d] * sk[jj * P + d];
      x[n] = (j < S && allowed(i, j, causal, mrow)) ? s : -INFINITY;
      tmax = fmaxf(tmax, x[n]);
    }
    tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
    tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 2));
    const float m_new = fmaxf(m, tmax);
    const float base = m_new == -INFINITY ? 0.f : m_new;  // all masked so far: exp(-inf) = 0, no NaN
    const float alpha = __expf(m - base);
    float psum = 0.f;
#pragma unroll
    for (int n = 0; n < kBc / kQuad; ++n) {
      const float p = __expf(x[n] - base);
      sp[row * (kBc + 1) + t + kQuad * n] = p;
      psum += p;
    }
    psum += __shfl_xor_sync(0xffffffffu, psum, 1);
    psum += __shfl_xor_sync(0xffffffffu, psum, 2);
    l = l * alpha + psum;
    m = m_new;
    __syncwarp();  // the quad's probabilities are written (a quad lies in one warp)
#pragma unroll
    for (int c = 0; c < D / kQuad; ++c) acc[c] *= alpha;
    for (int jj = 0; jj < kBc; ++jj) {
      const float p = sp[row * (kBc + 1) + jj];
#pragma unroll
      for (int c = 0; c < D / kQuad; ++c) acc[c] += p * sv[jj * P + t + kQuad * c];
    }
  }
  if (i < L) {
    float* oi = out + (b * L + i) * D;
    const float inv = l > 0.f ? 1.f / l : NAN;  // no allowed key: NaN output, lse -inf
#pragma unroll
    for (int c = 0; c < D / kQuad; ++c) oi[t + kQuad * c] = l > 0.f ? acc[c] * inv : NAN;
    if (t == 0) lse[b * L + i] = l > 0.f ? m + logf(l) : -INFINITY;
  }
}

template <class T>
__global__ void fa_backward_dq_v1(T* dq, T* rowdot, const T* q, const T* k, const T* v, const bool* kpm,
                                  const T* out, const T* lse, const T* dout, int64_t B, int64_t L, int64_t S,
                                  int64_t E, int64_t Ev, T scale, bool causal) {
  const int64_t rows = B * L;
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r < rows; r += int64_t{gridDim.x} * blockDim.x) {
    const int64_t b = r / L, i = r - b * L;
    T* dqi = dq + r * E;
    for (int64_t d = 0; d < E; ++d) dqi[d] = 0;
    const T li = lse[r];
    if (!isfinite(li)) {
      rowdot[r] = 0;
      continue;
    }
    const T* qi = q + r * E;
    const T* gi = dout + r * Ev;
    const T Di = dot(gi, out + r * Ev, Ev);
    rowdot[r] = Di;
    const bool* mrow = kpm ? kpm + b * S : nullptr;
    for (int64_t j = 0; j < S; ++j) {
      if (!allowed(i, j, causal, mrow)) continue;
      const T* kj = k + (b * S + j) * E;
      const T p = exp(scale * dot(qi, kj, E) - li);
      const T ds = scale * p * (dot(gi, v + (b * S + j) * Ev, Ev) - Di);
      for (int64_t d = 0; d < E; ++d) dqi[d] += ds * kj[d];
    }
  }
}

template <class T>
__global__ void fa_backward_dkv_v1(T* dk, T* dv, const T* rowdot, const T* q, const T* k, const T* v,
                                   const bool* kpm, const T* lse, const T* dout, int64_t B, int64_t L, int64_t S,
                                   int64_t E, int64_t Ev, T scale, bool causal) {
  const int64_t cols = B * S;
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < cols; c += int64_t{gridDim.x} * blockDim.x) {
    const int64_t b = c / S, j = c - b * S;
    T* dkj = dk + c * E;
    T* dvj = dv + c * Ev;
    for (int64_t d = 0; d < E; ++d) dkj[d] = 0;
    for (int64_t d = 0; d < Ev; ++d) dvj[d] = 0;
    if (kpm && kpm[c]) continue;
    const T* kj = k + c * E;
    const T* vj = v + c * Ev;
    for (int64_t i = causal ? j : 0; i < L; ++i) {
      const int64_t r = b * L + i;
      const T li = lse[r];
      if (!isfinite(li)) continue;
      const T* qi = q + r * E;
      const T* gi = dout + r * Ev;
      const T p = exp(scale * dot(qi, kj, E) - li);
      const T ds = scale * p * (dot(gi, vj, Ev) - rowdot[r]);
      for (int64_t d = 0; d < Ev; ++d) dvj[d] += p * gi[d];
      for (int64_t d = 0; d < E; ++d) dkj[d] += ds * qi[d];
    }
  }
}

template <int D>
void launch_v2(float* out, float* lse, const float* q, const float* k, const float* v, const bool* kpm, int64_t B,
               int64_t L, int64_t S, float scale, bool causal, cudaStream_t s) {
  constexpr size_t smem = fa_v2_smem<D>();
  FM_CUDA_CHECK(cudaFuncSetAttribute(fa_forward_v2<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
                "flash_attention_forward (cuda)");
  const dim3 grid(static_cast<unsigned>((L + kBr - 1) / kBr), static_cast<unsigned>(B));
  fa_forward_v2<D><<<grid, kV2Threads, smem, s>>>(out, lse, q, k, v, kpm, L, S, scale, causal);
}

}  // namespace

template <class T>
void launch_flash_attention_forward(T* out, T* lse, const T* q, const T* k, const T* v, const bool* kpm, int64_t B,
                                    int64_t L, int64_t S, int64_t E, int64_t Ev, T scale, bool causal, Variant var,
                                    cudaStream_t s) {
  if (B * L == 0) return;
  bool done = false;
  if constexpr (std::is_same_v<T, float>) {
    if (var == Variant::V2 && E == Ev && (E == 64 || E == 128) && B <= 65535) {
      if (E == 64) launch_v2<64>(out, lse, q, k, v, kpm, B, L, S, scale, causal, s);
      else launch_v2<128>(out, lse, q, k, v, kpm, B, L, S, scale, causal, s);
      done = true;
    }
  }
  if (!done) {
    const int64_t grid = cuda_geom::blocks_for(B * L, kThreads);
    fa_forward_v1<T><<<grid, kThreads, 0, s>>>(out, lse, q, k, v, kpm, B, L, S, E, Ev, scale, causal);
  }
  FM_CUDA_CHECK_LAUNCH("flash_attention_forward (cuda)");
}

template <class T>
void launch_flash_attention_backward(T* dq, T* dk, T* dv, T* rowdot, const T* q, const T* k, const T* v,
                                     const bool* kpm, const T* out, const T* lse, const T* dout, int64_t B,
                                     int64_t L, int64_t S, int64_t E, int64_t Ev, T scale, bool causal, Variant,
                                     cudaStream_t s) {
  if (B * L > 0)
    fa_backward_dq_v1<T><<<cuda_geom::blocks_for(B * L, kThreads), kThreads, 0, s>>>(
        dq, rowdot, q, k, v, kpm, out, lse, dout, B, L, S, E, Ev, scale, causal);
  FM_CUDA_CHECK_LAUNCH("flash_attention_backward dq (cuda)");
  if (B * S > 0)
    fa_backward_dkv_v1<T><<<cuda_geom::blocks_for(B * S, kThreads), kThreads, 0, s>>>(
        dk, dv, rowdot, q, k, v, kpm, lse, dout, B, L, S, E, Ev, scale, causal);
  FM_CUDA_CHECK_LAUNCH("flash_attention_backward dk/dv (cuda)");
}

#define FM_FA_INSTANTIATE(T)                                                                                        \
  template void launch_flash_attention_forward<T>(T*, T*, const T*, const T*, const T*, const bool*, int64_t,     \
                                                  int64_t, int64_t, int64_t, int64_t, T, bool, Variant,           \
                                                  cudaStream_t);                                                  \
  template void launch_flash_attention_backward<T>(T*, T*, T*, T*, const T*, const T*, const T*, const bool*,     \
                                                   const T*, const T*, const T*, int64_t, int64_t, int64_t,       \
                                                   int64_t, int64_t, T, bool, Variant, cudaStream_t);
FM_FA_INSTANTIATE(float)
FM_FA_INSTANTIATE(double)
#undef FM_FA_INSTANTIATE

}  // namespace fm::kernels::cuda
