// Tensor-level CUDA LSTM/GRU (kernels/rnn.h): the CPU's argument checks (kernels/rnn_check.h),
// buffers from the caching allocator, cuBLAS GEMMs and the kernels of kernels/cuda/rnn.cu, on the
// current stream. The structure is kernels/cpu/rnn.cpp's:
// v1 (float32 and float64): per direction the input projections of all steps as ONE GEMM
//   X[T*N, in] @ W_ih^T into the saved gates; per step one GEMM h_{t-1} @ W_hh^T (accumulated into
//   the step's gates for LSTM, into a [N, 3H] buffer for GRU) and one fused gate kernel (biases
//   added there), h written straight into y. Backward per step in reverse processing order: the
//   fused gate-gradient kernel and one GEMM carrying dh (dG @ W_hh); then dX = dG W_ih,
//   dW_ih = dG^T X and dW_hh = dG^T H_prev as GEMMs over all steps, the biases as column sums in
//   double (fixed partial sums, deterministic).
// v2: the forward of float32 runs, after the same input GEMM, one persistent cooperative kernel
//   for the whole sequence and both directions (W_hh resident in shared memory, a grid barrier
//   per step) where rnn_forward_plan (kernels/cuda/rnn_plan.h) and the occupancy query allow,
//   otherwise v1; the persistent kernel computes the recurrent product in exact FP32 even when
//   TF32 is allowed (the cuBLAS GEMMs follow the TF32 switch through the handle, as mm does).
//   The backward is v1's.
#ifdef FERMATA_WITH_CUDA
#include <limits>
#include <type_traits>

#include "kernels/cuda/common.h"
#include "kernels/cuda/rnn_plan.h"
#include "kernels/rnn.h"
#include "kernels/rnn_check.h"
#include "tensor/factory.h"

namespace fm::kernels::cuda {

namespace {

// Every defined tensor of a group on x's CUDA device.
struct OnDevice {
  const char* op;
  const Tensor& x;
  void operator()(std::initializer_list<const Tensor*> ts) const {
    for (const Tensor* t : ts)
      if (t->defined())
        FM_CHECK(t->device().is_cuda() && t->device() == x.device(), op,
                 ": expected every tensor on one CUDA device, got ", t->describe(), " and x ", x.describe());
  }
};

void check_int(const char* op, int64_t v) {
  FM_CHECK(v <= std::numeric_limits<int>::max(), op, ": dimension ", v, " exceeds cuBLAS's 32-bit sizes");
}

// Row-major C[m, n] = op(A)[m, k] op(B)[k, n] + beta C (beta 0 or 1) on column-major cuBLAS:
// C^T = op(B)^T op(A)^T, B first, the row-major leading dimensions unchanged (see linalg.cpp).
// TF32 follows the handle's math mode (cuda_matmul_allow_tf32), as for mm.
template <class S>
void gemm(const char* op, cublasHandle_t h, cudaStream_t stream, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
          const S* A, int64_t lda, const S* B, int64_t ldb, S beta, S* C, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == S(0))
      FM_CUDA_CHECK(cudaMemset2DAsync(C, static_cast<size_t>(ldc) * sizeof(S), 0, static_cast<size_t>(n) * sizeof(S),
                                      static_cast<size_t>(m), stream),
                    op);
    return;
  }
  for (int64_t v : {m, n, k, lda, ldb, ldc}) check_int(op, v);
  const cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const S alpha = 1;
  if constexpr (std::is_same_v<S, float>)
    FM_CUBLAS_CHECK(cublasSgemm(h, opb, opa, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, B,
                                static_cast<int>(ldb), A, static_cast<int>(lda), &beta, C, static_cast<int>(ldc)),
                    op);
  else
    FM_CUBLAS_CHECK(cublasDgemm(h, opb, opa, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, B,
                                static_cast<int>(ldb), A, static_cast<int>(lda), &beta, C, static_cast<int>(ldc)),
                    op);
}

RnnDeviceInfo device_info(int dev) {
  const cudaDeviceProp& p = cuda_device_properties(dev);
  RnnDeviceInfo d;
  d.sms = p.multiProcessorCount;
  d.smem_per_block_optin = static_cast<int64_t>(p.sharedMemPerBlockOptin);
  d.cooperative = p.cooperativeLaunch != 0;
  return d;
}

struct Dims {
  bool lstm;
  int64_t D, T, N, I, H, G, GH, ldy;
};

// v1's recurrence of one direction, given A = X W_ih^T (no biases) for every step.
template <class S>
void forward_steps(const char* op, cublasHandle_t hb, cudaStream_t stream, const Dims& g, S* A, S* C, S* HN, S* HP,
                   const S* Whh, const S* bih, const S* bhh, const S* H0, const S* C0, S* Y, bool reverse) {
  const S* hprev = H0;
  int64_t ldh = g.H;
  const S* cprev = C0;
  for (int64_t s = 0; s < g.T; ++s) {
    const int64_t t = reverse ? g.T - 1 - s : s;
    S* a = A + t * g.N * g.GH;
    S* yt = Y + t * g.N * g.ldy;
    if (g.lstm) {
      if (hprev) gemm<S>(op, hb, stream, false, true, g.N, g.GH, g.H, hprev, ldh, Whh, g.H, S(1), a, g.GH);
      S* ct = C + t * g.N * g.H;
      launch_lstm_step<S>(a, ct, yt, g.ldy, cprev, bih, bhh, g.N, g.H, stream);
      cprev = ct;
    } else {
      if (hprev) gemm<S>(op, hb, stream, false, true, g.N, g.GH, g.H, hprev, ldh, Whh, g.H, S(0), HP, g.GH);
      launch_gru_step<S>(a, HN + t * g.N * g.H, yt, g.ldy, hprev ? HP : nullptr, hprev, ldh, bih, bhh, g.N, g.H,
                         stream);
    }
    hprev = yt;
    ldh = g.ldy;
  }
}

// v1's backward through time of one direction: fills dGi/dGh (the same buffer for LSTM) and
// leaves dL/dh0, dL/dc0 in dh, dc (which come in holding dL/dh_n, dL/dc_n).
template <class S>
void backward_steps(const char* op, cublasHandle_t hb, cudaStream_t stream, const Dims& g, const S* A, const S* C,
                    const S* HN, const S* Whh, const S* H0, const S* C0, const S* Y, const S* DY, bool reverse,
                    S* dGi, S* dGh, S* dh, S* dc) {
  for (int64_t s = g.T - 1; s >= 0; --s) {
    const int64_t t = reverse ? g.T - 1 - s : s;
    const int64_t tp = reverse ? t + 1 : t - 1;  // the step before this one (valid when s > 0)
    const S* a = A + t * g.N * g.GH;
    const S* dyt = DY + t * g.N * g.ldy;
    S* dgi = dGi + t * g.N * g.GH;
    S* dgh = dGh + t * g.N * g.GH;
    if (g.lstm) {
      const S* cp = s > 0 ? C + tp * g.N * g.H : C0;
      launch_lstm_step_backward<S>(dgi, dh, dc, a, C + t * g.N * g.H, cp, dyt, g.ldy, g.N, g.H, stream);
      gemm<S>(op, hb, stream, false, false, g.N, g.H, g.GH, dgi, g.GH, Whh, g.H, S(0), dh, g.H);  // dh = dG @ W_hh
    } else {
      const S* hp = s > 0 ? Y + tp * g.N * g.ldy : H0;
      const int64_t ldp = s > 0 ? g.ldy : g.H;
      launch_gru_step_backward<S>(dgi, dgh, dh, a, HN + t * g.N * g.H, hp, ldp, dyt, g.ldy, g.N, g.H, stream);
      gemm<S>(op, hb, stream, false, false, g.N, g.H, g.GH, dgh, g.GH, Whh, g.H, S(1), dh, g.H);  // += dGh @ W_hh
    }
  }
}

Dims dims_of(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w, const Tensor& y) {
  Dims g;
  g.lstm = mode == RnnMode::LSTM;
  g.D = static_cast<int64_t>(w.size());
  g.T = x.size(0), g.N = x.size(1), g.I = x.size(2), g.H = w[0].w_hh.size(1);
  g.G = rnn_gates(mode), g.GH = g.G * g.H, g.ldy = y.size(2);
  return g;
}

}  // namespace

std::vector<RnnDirResult> rnn_forward(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w,
                                      const std::vector<Tensor>& h0, const std::vector<Tensor>& c0, const Tensor& y) {
  const char* op = "rnn_forward";
  const int dev = same_cuda_device(op, {&x, &y});
  rnn_check_args(op, mode, x, w, h0, c0, y, OnDevice{op, x});
  const Dims g = dims_of(mode, x, w, y);
  const Options opt{.dtype = x.dtype(), .device = x.device()};
  std::vector<RnnDirResult> res(g.D);
  for (RnnDirResult& r : res) {
    r.saved.gates = empty({g.T, g.N, g.GH}, opt);
    if (g.lstm) r.saved.cells = empty({g.T, g.N, g.H}, opt);
    else r.saved.hn = empty({g.T, g.N, g.H}, opt);
    r.h_n = empty({g.N, g.H}, opt);
    if (g.lstm) r.c_n = empty({g.N, g.H}, opt);
  }
  const Tensor hp = g.lstm ? Tensor() : empty({std::max<int64_t>(g.N * g.GH, 1)}, opt);  // v1's GRU W_hh h
  CudaDeviceGuard guard(dev);
  const cudaStream_t stream = cuda_current_stream(dev);
  cublasHandle_t hb = cuda_cublas_handle(dev);
  dispatch_floating(x.dtype(), op, [&]<class S>() {
    // the input projections of all steps: one GEMM per direction
    for (int64_t d = 0; d < g.D; ++d)
      gemm<S>(op, hb, stream, false, true, g.T * g.N, g.GH, g.I, ptr<S>(x), g.I, ptr<S>(w[d].w_ih), g.I, S(0),
              ptr<S>(res[d].saved.gates), g.GH);
    bool done = false;
    if constexpr (std::is_same_v<S, float>) {
      const RnnForwardPlan plan =
          rnn_forward_plan(g.G, g.T, g.N, g.H, g.D, true, variant() == Variant::V2, device_info(dev));
      if (rnn_persistent_ready(plan, dev)) {
        RnnPersistentArgs a;
        a.T = g.T, a.N = g.N, a.H = g.H, a.ldy = g.ldy, a.units = plan.units, a.blocks_per_dir = plan.blocks_per_dir;
        a.lstm = g.lstm;
        for (int64_t d = 0; d < g.D; ++d) {
          RnnPersistentDir& pd = a.dir[d];
          pd.gates = ptr<float>(res[d].saved.gates);
          pd.cells = ptr<float>(res[d].saved.cells);
          pd.hn = ptr<float>(res[d].saved.hn);
          pd.y = ptr<float>(y) + d * g.H;
          pd.w_hh = ptr<float>(w[d].w_hh);
          pd.b_ih = ptr<float>(w[d].b_ih);
          pd.b_hh = ptr<float>(w[d].b_hh);
          pd.h0 = ptr<float>(h0[d]);
          pd.c0 = g.lstm ? ptr<float>(c0[d]) : nullptr;
          pd.reverse = d == 1;
        }
        done = launch_rnn_persistent(a, plan, stream);
      }
    }
    for (int64_t d = 0; d < g.D; ++d) {
      RnnDirResult& r = res[d];
      S* Y = ptr<S>(y) + d * g.H;
      if (!done)
        forward_steps<S>(op, hb, stream, g, ptr<S>(r.saved.gates), ptr<S>(r.saved.cells), ptr<S>(r.saved.hn),
                         ptr<S>(hp), ptr<S>(w[d].w_hh), ptr<S>(w[d].b_ih), ptr<S>(w[d].b_hh), ptr<S>(h0[d]),
                         g.lstm ? ptr<S>(c0[d]) : nullptr, Y, d == 1);
      if (g.N * g.H == 0) continue;
      const int64_t tl = d == 1 ? 0 : g.T - 1;  // the last step processed
      FM_CUDA_CHECK(cudaMemcpy2DAsync(ptr<S>(r.h_n), g.H * sizeof(S), Y + tl * g.N * g.ldy, g.ldy * sizeof(S),
                                      g.H * sizeof(S), g.N, cudaMemcpyDeviceToDevice, stream),
                    op);
      if (g.lstm)
        FM_CUDA_CHECK(cudaMemcpyAsync(ptr<S>(r.c_n), ptr<S>(r.saved.cells) + tl * g.N * g.H, g.N * g.H * sizeof(S),
                                      cudaMemcpyDeviceToDevice, stream),
                      op);
    }
  });
  return res;
}

std::vector<RnnDirGrads> rnn_backward(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w,
                                      const std::vector<Tensor>& h0, const std::vector<Tensor>& c0, const Tensor& y,
                                      const std::vector<RnnSaved>& saved, const Tensor& dy,
                                      const std::vector<Tensor>& dh_n, const std::vector<Tensor>& dc_n,
                                      const Tensor& dx, const std::vector<bool>& need_weights) {
  const char* op = "rnn_backward";
  const int dev = same_cuda_device(op, {&x, &y, &dy});
  rnn_check_args(op, mode, x, w, h0, c0, y, OnDevice{op, x});
  rnn_check_backward_args(mode, x, w, y, saved, dy, dh_n, dc_n, dx, need_weights, OnDevice{op, x});
  const Dims g = dims_of(mode, x, w, y);
  const Options opt{.dtype = x.dtype(), .device = x.device()};
  std::vector<RnnDirGrads> out(g.D);
  std::vector<Tensor> dgi(g.D), dgh(g.D);
  for (int64_t d = 0; d < g.D; ++d) {
    dgi[d] = empty({g.T, g.N, g.GH}, opt);
    dgh[d] = g.lstm ? dgi[d] : empty({g.T, g.N, g.GH}, opt);
    out[d].dh0 = dh_n[d].defined() ? contiguous_raw(dh_n[d], true) : zeros({g.N, g.H}, opt);
    if (g.lstm) out[d].dc0 = dc_n[d].defined() ? contiguous_raw(dc_n[d], true) : zeros({g.N, g.H}, opt);
  }
  const int64_t rows = g.T * g.N, parts = rnn_column_sum_parts(rows);
  CudaDeviceGuard guard(dev);
  const cudaStream_t stream = cuda_current_stream(dev);
  cublasHandle_t hb = cuda_cublas_handle(dev);
  dispatch_floating(x.dtype(), op, [&]<class S>() {
    for (int64_t d = 0; d < g.D; ++d) {
      const RnnSaved& sv = saved[d];
      backward_steps<S>(op, hb, stream, g, ptr<S>(sv.gates), ptr<S>(sv.cells), ptr<S>(sv.hn), ptr<S>(w[d].w_hh),
                        ptr<S>(h0[d]), g.lstm ? ptr<S>(c0[d]) : nullptr, ptr<S>(y) + d * g.H, ptr<S>(dy) + d * g.H,
                        d == 1, ptr<S>(dgi[d]), ptr<S>(dgh[d]), ptr<S>(out[d].dh0), ptr<S>(out[d].dc0));
    }
    // the large GEMMs over all steps
    for (int64_t d = 0; d < g.D; ++d) {
      const S* dGi = ptr<S>(dgi[d]);
      const S* dGh = ptr<S>(dgh[d]);
      const S* Y = ptr<S>(y) + d * g.H;
      const bool reverse = d == 1;
      // input gradient: dX (+)= dGi @ W_ih
      if (dx.defined())
        gemm<S>(op, hb, stream, false, false, rows, g.I, g.GH, dGi, g.GH, ptr<S>(w[d].w_ih), g.I, d > 0 ? S(1) : S(0),
                ptr<S>(dx), g.I);
      if (!need_weights[d]) continue;
      RnnDirGrads& r = out[d];
      r.dw_ih = empty({g.GH, g.I}, opt);
      gemm<S>(op, hb, stream, true, false, g.GH, g.I, rows, dGi, g.GH, ptr<S>(x), g.I, S(0), ptr<S>(r.dw_ih), g.I);
      r.dw_hh = zeros({g.GH, g.H}, opt);
      S* dWhh = ptr<S>(r.dw_hh);
      // every step but the first pairs dGh with an output h_prev: one GEMM
      if (g.T > 1) {
        const S* dg_from = reverse ? dGh : dGh + g.N * g.GH;
        const S* h_from = reverse ? Y + g.N * g.ldy : Y;
        gemm<S>(op, hb, stream, true, false, g.GH, g.H, (g.T - 1) * g.N, dg_from, g.GH, h_from, g.ldy, S(0), dWhh,
                g.H);
      }
      if (h0[d].defined()) {
        const int64_t t0 = reverse ? g.T - 1 : 0;
        gemm<S>(op, hb, stream, true, false, g.GH, g.H, g.N, dGh + t0 * g.N * g.GH, g.GH, ptr<S>(h0[d]), g.H, S(1),
                dWhh, g.H);
      }
      if (w[d].b_ih.defined()) {
        const Tensor partials =
            empty({std::max<int64_t>(parts * g.GH, 1)}, {.dtype = DType::Float64, .device = x.device()});
        auto colsum = [&](const S* dG) {
          Tensor b = empty({g.GH}, opt);
          launch_column_sums<S>(ptr<S>(b), dG, rows, g.GH, ptr<double>(partials), parts, stream);
          return b;
        };
        r.db_ih = colsum(dGi);
        r.db_hh = g.lstm ? contiguous_raw(r.db_ih, true) : colsum(dGh);
      }
    }
  });
  return out;
}

}  // namespace fm::kernels::cuda
#endif
