// CUDA LSTM/GRU kernels (kernels/rnn.h; the host side in kernels/cuda/rnn.cpp, the plan in
// rnn_plan.h, the per-thread code in rnn_cell.h).
// v1: the fused gate kernels of one step, forward and backward, one thread per (batch row,
// hidden unit); the recurrent products around them are cuBLAS GEMMs issued by rnn.cpp. The bias
// gradients are column sums in double through fixed partial sums (deterministic, no atomics).
// v2 (float32 forward): one cooperative launch for the whole sequence and both directions,
// each block keeping its rows of W_hh in shared memory across all steps and a grid-wide barrier
// (cooperative_groups grid.sync) between steps; see rnn_plan.h. The backward is v1's in both
// variants.
#include <cooperative_groups.h>

#include <mutex>
#include <set>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/rnn_cell.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

namespace cg = cooperative_groups;

constexpr int kThreads = 256;

// ----- v1: one step's gates -----
// gates: this step's [N, 4H] (in: X W_ih^T + h W_hh^T, out: activated); c: [N, H] out; cprev:
// [N, H] or null; y: rows ldy apart.
template <class T>
__global__ void lstm_step_kernel(T* __restrict__ gates, T* __restrict__ c, T* __restrict__ y, int64_t ldy,
                                 const T* __restrict__ cprev, const T* __restrict__ b_ih,
                                 const T* __restrict__ b_hh, int64_t N, int64_t H) {
  const int64_t total = N * H;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t n = e / H, j = e - n * H;
    T* a = gates + n * 4 * H;
    T pre[4];
#pragma unroll
    for (int g = 0; g < 4; ++g) {
      pre[g] = a[g * H + j];
      if (b_ih) pre[g] += b_ih[g * H + j] + b_hh[g * H + j];
    }
    const LstmCell<T> r = lstm_cell(pre[0], pre[1], pre[2], pre[3], cprev ? cprev[e] : T(0), cprev != nullptr);
    a[j] = r.i;
    a[H + j] = r.f;
    a[2 * H + j] = r.g;
    a[3 * H + j] = r.o;
    c[e] = r.c;
    y[n * ldy + j] = r.h;
  }
}

// gates: this step's [N, 3H] (in: X W_ih^T, out: activated); hp: [N, 3H] h W_hh^T or null (no
// h_{t-1}); hprev rows ldh apart or null; hn: [N, H] out.
template <class T>
__global__ void gru_step_kernel(T* __restrict__ gates, T* __restrict__ hn, T* __restrict__ y, int64_t ldy,
                                const T* __restrict__ hp, const T* __restrict__ hprev, int64_t ldh,
                                const T* __restrict__ b_ih, const T* __restrict__ b_hh, int64_t N, int64_t H) {
  const int64_t total = N * H;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t n = e / H, j = e - n * H;
    T* a = gates + n * 3 * H;
    T pre[3], p[3];
#pragma unroll
    for (int g = 0; g < 3; ++g) {
      pre[g] = a[g * H + j];
      if (b_ih) pre[g] += b_ih[g * H + j];
      p[g] = hp ? hp[n * 3 * H + g * H + j] : T(0);
      if (b_hh) p[g] += b_hh[g * H + j];
    }
    const GruCell<T> r =
        gru_cell(pre[0], pre[1], pre[2], p[0], p[1], p[2], hprev ? hprev[n * ldh + j] : T(0), hprev != nullptr);
    a[j] = r.r;
    a[H + j] = r.z;
    a[2 * H + j] = r.n;
    hn[e] = p[2];
    y[n * ldy + j] = r.h;
  }
}

// ----- v1: one step's gate gradients -----
// dg: [N, 4H] out; dh, dc: [N, H] in dL/dh_t (without dy) and dL/dc_t, out dL/dc_{t-1} in dc (dh
// is left for the GEMM that overwrites it with dG @ W_hh).
template <class T>
__global__ void lstm_step_backward_kernel(T* __restrict__ dg, const T* __restrict__ dh, T* __restrict__ dc,
                                          const T* __restrict__ gates, const T* __restrict__ c,
                                          const T* __restrict__ cprev, const T* __restrict__ dy, int64_t ldy,
                                          int64_t N, int64_t H) {
  const int64_t total = N * H;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t n = e / H, j = e - n * H;
    const T* a = gates + n * 4 * H;
    const LstmCellGrad<T> r = lstm_cell_backward(a[j], a[H + j], a[2 * H + j], a[3 * H + j], c[e],
                                                 cprev ? cprev[e] : T(0), cprev != nullptr, dh[e] + dy[n * ldy + j],
                                                 dc[e]);
    T* d = dg + n * 4 * H;
    d[j] = r.di;
    d[H + j] = r.df;
    d[2 * H + j] = r.dg;
    d[3 * H + j] = r.do_;
    dc[e] = r.dc_prev;
  }
}

// dgi, dgh: [N, 3H] out (input and hidden side); dh: [N, H] in dL/dh_t (without dy), out dht * z
// (the GEMM then adds dGh @ W_hh).
template <class T>
__global__ void gru_step_backward_kernel(T* __restrict__ dgi, T* __restrict__ dgh, T* __restrict__ dh,
                                         const T* __restrict__ gates, const T* __restrict__ hn,
                                         const T* __restrict__ hprev, int64_t ldh, const T* __restrict__ dy,
                                         int64_t ldy, int64_t N, int64_t H) {
  const int64_t total = N * H;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t n = e / H, j = e - n * H;
    const T* a = gates + n * 3 * H;
    const GruCellGrad<T> r = gru_cell_backward(a[j], a[H + j], a[2 * H + j], hn[e], hprev ? hprev[n * ldh + j] : T(0),
                                               hprev != nullptr, dh[e] + dy[n * ldy + j]);
    T* di = dgi + n * 3 * H;
    T* dhh = dgh + n * 3 * H;
    di[j] = r.dr;
    di[H + j] = r.dz;
    di[2 * H + j] = r.dn;
    dhh[j] = r.dr;
    dhh[H + j] = r.dz;
    dhh[2 * H + j] = r.dn_hidden;
    dh[e] = r.dh_prev;
  }
}

// ----- column sums (bias gradients) -----
// partials[p * cols + j] = sum of x[r, j] over part p's rows, in double.
template <class T>
__global__ void column_partials_kernel(double* __restrict__ partials, const T* __restrict__ x, int64_t rows,
                                       int64_t cols, int64_t parts) {
  const int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  const int64_t p = blockIdx.y;
  if (j >= cols) return;
  const int64_t r0 = p * rows / parts, r1 = (p + 1) * rows / parts;
  double acc = 0;
  for (int64_t r = r0; r < r1; ++r) acc += static_cast<double>(x[r * cols + j]);
  partials[p * cols + j] = acc;
}

template <class T>
__global__ void column_finish_kernel(T* __restrict__ out, const double* __restrict__ partials, int64_t cols,
                                     int64_t parts) {
  const int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (j >= cols) return;
  double acc = 0;
  for (int64_t p = 0; p < parts; ++p) acc += partials[p * cols + j];
  out[j] = static_cast<T>(acc);
}

// ----- v2: the persistent forward -----
struct LoadPastL1 {
  __device__ __forceinline__ float operator()(const float* p) const { return __ldcg(p); }
};

__global__ void __launch_bounds__(kRnnPersistentThreads) rnn_persistent_kernel(RnnPersistentArgs a) {
  extern __shared__ float smem[];
  cg::grid_group grid = cg::this_grid();
  const int64_t G = a.lstm ? 4 : 3, N = a.N, H = a.H, T = a.T;
  const RnnBlockSlice sl = rnn_block_slice(blockIdx.x, a.blocks_per_dir, a.units, H);
  const RnnPersistentDir d = sl.dir == 0 ? a.dir[0] : a.dir[1];
  const RnnSmem sm = rnn_smem(smem, G, a.units, H, N);
  const int tid = threadIdx.x, nthreads = blockDim.x;
  const int lane = tid & 31, warp = tid >> 5, nwarps = nthreads >> 5;
  const int64_t rows = G * sl.units;

  for (int64_t i = tid; i < rows * H; i += nthreads) rnn_load_weight(sm.w, d.w_hh, sl, H, i);

  for (int64_t s = 0; s < T; ++s) {
    if (s > 0) grid.sync();  // every block has written h_{t-1} (and is done reading shared memory)
    const int64_t t = d.reverse ? T - 1 - s : s;
    const int64_t tp = d.reverse ? t + 1 : t - 1;
    const float* hprev = s > 0 ? d.y + tp * N * a.ldy : d.h0;
    const int64_t ldh = s > 0 ? a.ldy : H;
    const bool has_rec = hprev != nullptr;
    if (has_rec) {
      for (int64_t i = tid; i < N * H; i += nthreads) rnn_stage_h(sm.h, hprev, ldh, H, i, LoadPastL1{});
      __syncthreads();  // h staged (and, at the first step, the weights loaded)
      const int64_t items = rnn_dot_items(rows, N);
      for (int64_t item = warp; item < items; item += nwarps) {
        float acc[kRnnBatchGroup];
        rnn_dot_partial(sm.w, sm.h, rows, N, H, item, lane, 32, acc);
#pragma unroll
        for (int b = 0; b < kRnnBatchGroup; ++b) acc[b] = warp_reduce(acc[b], [](float x, float y) { return x + y; });
        if (lane == 0) rnn_dot_store(sm.rec, rows, N, item, acc);
      }
      __syncthreads();  // the products are in shared memory
    }
    for (int64_t i = tid; i < N * sl.units; i += nthreads)
      rnn_gates(d, sl, a.lstm, N, H, a.ldy, t, tp, s > 0, sm.h, sm.rec, has_rec, i);
  }
}

int64_t grid_for(int64_t n) { return cuda_geom::blocks_for(n, kThreads); }

}  // namespace

template <class T>
void launch_lstm_step(T* gates, T* c, T* y, int64_t ldy, const T* cprev, const T* b_ih, const T* b_hh, int64_t N,
                      int64_t H, cudaStream_t s) {
  if (N * H == 0) return;
  lstm_step_kernel<T><<<grid_for(N * H), kThreads, 0, s>>>(gates, c, y, ldy, cprev, b_ih, b_hh, N, H);
  FM_CUDA_CHECK_LAUNCH("rnn_forward (cuda, LSTM step)");
}

template <class T>
void launch_gru_step(T* gates, T* hn, T* y, int64_t ldy, const T* hp, const T* hprev, int64_t ldh, const T* b_ih,
                     const T* b_hh, int64_t N, int64_t H, cudaStream_t s) {
  if (N * H == 0) return;
  gru_step_kernel<T><<<grid_for(N * H), kThreads, 0, s>>>(gates, hn, y, ldy, hp, hprev, ldh, b_ih, b_hh, N, H);
  FM_CUDA_CHECK_LAUNCH("rnn_forward (cuda, GRU step)");
}

template <class T>
void launch_lstm_step_backward(T* dg, const T* dh, T* dc, const T* gates, const T* c, const T* cprev, const T* dy,
                               int64_t ldy, int64_t N, int64_t H, cudaStream_t s) {
  if (N * H == 0) return;
  lstm_step_backward_kernel<T><<<grid_for(N * H), kThreads, 0, s>>>(dg, dh, dc, gates, c, cprev, dy, ldy, N, H);
  FM_CUDA_CHECK_LAUNCH("rnn_backward (cuda, LSTM step)");
}

template <class T>
void launch_gru_step_backward(T* dgi, T* dgh, T* dh, const T* gates, const T* hn, const T* hprev, int64_t ldh,
                              const T* dy, int64_t ldy, int64_t N, int64_t H, cudaStream_t s) {
  if (N * H == 0) return;
  gru_step_backward_kernel<T><<<grid_for(N * H), kThreads, 0, s>>>(dgi, dgh, dh, gates, hn, hprev, ldh, dy, ldy, N,
                                                                     H);
  FM_CUDA_CHECK_LAUNCH("rnn_backward (cuda, GRU step)");
}

template <class T>
void launch_column_sums(T* out, const T* x, int64_t rows, int64_t cols, double* partials, int64_t parts,
                        cudaStream_t s) {
  if (cols == 0) return;
  constexpr int kCols = 128;
  const unsigned gx = static_cast<unsigned>((cols + kCols - 1) / kCols);
  column_partials_kernel<T><<<dim3(gx, static_cast<unsigned>(parts)), kCols, 0, s>>>(partials, x, rows, cols, parts);
  FM_CUDA_CHECK_LAUNCH("rnn_backward (cuda, bias gradient)");
  column_finish_kernel<T><<<gx, kCols, 0, s>>>(out, partials, cols, parts);
  FM_CUDA_CHECK_LAUNCH("rnn_backward (cuda, bias gradient)");
}

bool rnn_persistent_ready(const RnnForwardPlan& p, int device) {
  if (p.path != RnnForwardPath::Persistent) return false;
  const char* op = "rnn_forward (cuda, persistent)";
  {
    // Raised once per device to the opt-in maximum and never lowered: setting it per plan would
    // let a host thread with a smaller plan lower it between another thread's check and launch.
    static std::mutex mutex;
    static std::set<int> raised;
    std::lock_guard<std::mutex> lock(mutex);
    if (!raised.count(device)) {
      FM_CUDA_CHECK(cudaFuncSetAttribute(rnn_persistent_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(cuda_device_properties(device).sharedMemPerBlockOptin)),
                    op);
      raised.insert(device);
    }
  }
  int per_sm = 0;
  FM_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, rnn_persistent_kernel, p.threads,
                                                              static_cast<size_t>(p.smem_bytes)),
                op);
  return rnn_persistent_fits(p, per_sm, cuda_device_properties(device).multiProcessorCount);
}

bool launch_rnn_persistent(const RnnPersistentArgs& args, const RnnForwardPlan& p, cudaStream_t s) {
  RnnPersistentArgs a = args;
  void* params[] = {&a};
  const cudaError_t e = cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(rnn_persistent_kernel),
                                                    dim3(static_cast<unsigned>(p.blocks)), dim3(p.threads), params,
                                                    static_cast<size_t>(p.smem_bytes), s);
  if (e == cudaErrorCooperativeLaunchTooLarge) {
    (void)cudaGetLastError();  // not sticky: clear it, the caller runs v1
    return false;
  }
  FM_CUDA_CHECK(e, "rnn_forward (cuda, persistent)");
  FM_CUDA_CHECK_LAUNCH("rnn_forward (cuda, persistent)");
  return true;
}

template void launch_lstm_step<float>(float*, float*, float*, int64_t, const float*, const float*, const float*,
                                      int64_t, int64_t, cudaStream_t);
template void launch_lstm_step<double>(double*, double*, double*, int64_t, const double*, const double*,
                                       const double*, int64_t, int64_t, cudaStream_t);
template void launch_gru_step<float>(float*, float*, float*, int64_t, const float*, const float*, int64_t,
                                     const float*, const float*, int64_t, int64_t, cudaStream_t);
template void launch_gru_step<double>(double*, double*, double*, int64_t, const double*, const double*, int64_t,
                                      const double*, const double*, int64_t, int64_t, cudaStream_t);
template void launch_lstm_step_backward<float>(float*, const float*, float*, const float*, const float*, const float*,
                                               const float*, int64_t, int64_t, int64_t, cudaStream_t);
template void launch_lstm_step_backward<double>(double*, const double*, double*, const double*, const double*,
                                                const double*, const double*, int64_t, int64_t, int64_t,
                                                cudaStream_t);
template void launch_gru_step_backward<float>(float*, float*, float*, const float*, const float*, const float*,
                                              int64_t, const float*, int64_t, int64_t, int64_t, cudaStream_t);
template void launch_gru_step_backward<double>(double*, double*, double*, const double*, const double*,
                                               const double*, int64_t, const double*, int64_t, int64_t, int64_t,
                                               cudaStream_t);
template void launch_column_sums<float>(float*, const float*, int64_t, int64_t, double*, int64_t, cudaStream_t);
template void launch_column_sums<double>(double*, const double*, int64_t, int64_t, double*, int64_t, cudaStream_t);

}  // namespace fm::kernels::cuda
