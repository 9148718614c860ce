#pragma once
// The per-thread code of the CUDA LSTM/GRU (kernels/cuda/rnn.cu), host and device, so that a CPU
// unit test (tests/kernels/rnn_cuda_plan_test.cpp) runs it thread by thread: the gate formulas
// of one (batch row, hidden unit), forward and backward, exactly as kernels/cpu/rnn.cpp writes
// them (PyTorch's gate order: LSTM i, f, g, o; GRU r, z, n with n = tanh(W_in x + b_in +
// r * (W_hn h + b_hn))), and the phases of one step of the persistent kernel (rnn_plan.h).
#include <math.h>

#include <cstdint>

#include "kernels/cuda/rnn_plan.h"

#if defined(__CUDACC__)
#define FM_RNN_HD __host__ __device__ __forceinline__
#define FM_RNN_UNROLL _Pragma("unroll")
#else
#define FM_RNN_HD inline
#define FM_RNN_UNROLL
#endif

namespace fm::kernels::cuda {

FM_RNN_HD float rnn_exp(float x) { return expf(x); }
FM_RNN_HD double rnn_exp(double x) { return exp(x); }
FM_RNN_HD float rnn_tanh(float x) { return tanhf(x); }
FM_RNN_HD double rnn_tanh(double x) { return tanh(x); }
template <class T>
FM_RNN_HD T rnn_sigmoid(T x) {
  return T(1) / (T(1) + rnn_exp(-x));
}

// ----- forward of one (n, unit) -----
// LSTM from the gate pre-activations; cprev is ignored unless has_c (zeros).
template <class T>
struct LstmCell {
  T i, f, g, o, c, h;
};
template <class T>
FM_RNN_HD LstmCell<T> lstm_cell(T pi, T pf, T pg, T po, T cprev, bool has_c) {
  LstmCell<T> r;
  r.i = rnn_sigmoid(pi);
  r.f = rnn_sigmoid(pf);
  r.g = rnn_tanh(pg);
  r.o = rnn_sigmoid(po);
  r.c = has_c ? r.f * cprev + r.i * r.g : r.i * r.g;
  r.h = rnn_tanh(r.c) * r.o;
  return r;
}

// GRU from the input side a (x W_ih^T + b_ih) and the hidden side p (h W_hh^T + b_hh) of each
// gate; hprev is ignored unless has_h (zeros).
template <class T>
struct GruCell {
  T r, z, n, h;
};
template <class T>
FM_RNN_HD GruCell<T> gru_cell(T ar, T az, T an, T pr, T pz, T pn, T hprev, bool has_h) {
  GruCell<T> o;
  o.r = rnn_sigmoid(ar + pr);
  o.z = rnn_sigmoid(az + pz);
  o.n = rnn_tanh(an + o.r * pn);
  o.h = has_h ? o.n + o.z * (hprev - o.n) : o.n - o.z * o.n;
  return o;
}

// ----- backward of one (n, unit) -----
// dht = dL/dh_t (from the step after and from y), dct_in = dL/dc_t from the step after. Gives
// the gradients of the four pre-activations and dL/dc_{t-1}.
template <class T>
struct LstmCellGrad {
  T di, df, dg, do_, dc_prev;
};
template <class T>
FM_RNN_HD LstmCellGrad<T> lstm_cell_backward(T i, T f, T g, T o, T c, T cprev, bool has_c, T dht, T dct_in) {
  const T th = rnn_tanh(c);
  const T dct = dct_in + dht * o * (T(1) - th * th);
  const T cp = has_c ? cprev : T(0);
  LstmCellGrad<T> r;
  r.di = dct * g * i * (T(1) - i);
  r.df = dct * cp * f * (T(1) - f);
  r.dg = dct * i * (T(1) - g * g);
  r.do_ = dht * th * o * (T(1) - o);
  r.dc_prev = dct * f;
  return r;
}

// hn = W_hn h_{t-1} + b_hn as saved. Gives the pre-activation gradients of the input side
// (dr, dz, dn) and of the hidden side (dr, dz, dn * r), and the direct part dht * z of
// dL/dh_{t-1} (the rest is dG_hidden @ W_hh).
template <class T>
struct GruCellGrad {
  T dr, dz, dn, dn_hidden, dh_prev;
};
template <class T>
FM_RNN_HD GruCellGrad<T> gru_cell_backward(T r, T z, T n, T hn, T hprev, bool has_h, T dht) {
  const T hp = has_h ? hprev : T(0);
  GruCellGrad<T> o;
  o.dn = dht * (T(1) - z) * (T(1) - n * n);
  o.dr = o.dn * hn * r * (T(1) - r);
  o.dz = dht * (hp - n) * z * (T(1) - z);
  o.dn_hidden = o.dn * r;
  o.dh_prev = dht * z;
  return o;
}

// ----- one step of the persistent kernel -----
// The hidden units of a block: direction `dir`, units [u0, u0 + units).
struct RnnBlockSlice {
  int dir;
  int64_t u0, units;
};
FM_RNN_HD RnnBlockSlice rnn_block_slice(int64_t block, int64_t blocks_per_dir, int64_t units_per_block, int64_t H) {
  RnnBlockSlice s;
  s.dir = static_cast<int>(block / blocks_per_dir);
  s.u0 = (block % blocks_per_dir) * units_per_block;
  const int64_t left = H - s.u0;
  s.units = left < units_per_block ? left : units_per_block;
  return s;
}

// Where the block's shared memory keeps what (offsets in floats; rnn_persistent_smem_floats
// is the total): W_hh rows [G*U, H] (local row lr = g * units + u is global row g*H + u0 + u),
// h_{t-1} [N, H], the recurrent products [N, G*units].
struct RnnSmem {
  float *w, *h, *rec;
};
FM_RNN_HD RnnSmem rnn_smem(float* base, int64_t G, int64_t U, int64_t H, int64_t N) {
  RnnSmem s;
  s.w = base;
  s.h = base + G * U * H;
  s.rec = s.h + N * H;
  return s;
}

// Once per launch, element i of the block's weight rows, i < G * units * H.
FM_RNN_HD void rnn_load_weight(float* ws, const float* w_hh, const RnnBlockSlice& sl, int64_t H, int64_t i) {
  const int64_t lr = i / H, k = i - lr * H;
  const int64_t g = lr / sl.units, u = lr - g * sl.units;
  ws[i] = w_hh[(g * H + sl.u0 + u) * H + k];
}

// Per step, element i < N * H of h_{t-1} (rows ldh apart). `Load` reads global memory: on the
// device past L1, since other blocks wrote h_{t-1} during this launch.
template <class Load>
FM_RNN_HD void rnn_stage_h(float* hs, const float* hprev, int64_t ldh, int64_t H, int64_t i, Load load) {
  const int64_t n = i / H, k = i - n * H;
  hs[i] = load(hprev + n * ldh + k);
}

// Per step, the lane's share (k = lane, lane + lanes, ...) of item `item` of the recurrent
// product: local row lr against batch rows n0 .. n0 + kRnnBatchGroup - 1 (those < N).
// Items: rows * groups with rows = G * units, groups = ceil(N / kRnnBatchGroup);
// lr = item % rows, n0 = (item / rows) * kRnnBatchGroup.
FM_RNN_HD int64_t rnn_dot_items(int64_t rows, int64_t N) {
  return rows * ((N + kRnnBatchGroup - 1) / kRnnBatchGroup);
}
FM_RNN_HD void rnn_dot_partial(const float* ws, const float* hs, int64_t rows, int64_t N, int64_t H, int64_t item,
                               int lane, int lanes, float (&acc)[kRnnBatchGroup]) {
  const int64_t lr = item % rows, n0 = (item / rows) * kRnnBatchGroup;
  FM_RNN_UNROLL
  for (int b = 0; b < kRnnBatchGroup; ++b) acc[b] = 0.0f;
  const float* w = ws + lr * H;
  const float* h = hs + n0 * H;
  if (n0 + kRnnBatchGroup <= N) {
    for (int64_t k = lane; k < H; k += lanes) {
      const float wk = w[k];
      FM_RNN_UNROLL
      for (int b = 0; b < kRnnBatchGroup; ++b) acc[b] += wk * h[b * H + k];
    }
  } else {
    const int64_t nb = N - n0;
    for (int64_t k = lane; k < H; k += lanes) {
      const float wk = w[k];
      FM_RNN_UNROLL
      for (int b = 0; b < kRnnBatchGroup; ++b)
        if (b < nb) acc[b] += wk * h[b * H + k];
    }
  }
}
// After the lanes' shares are summed (sum[b]): store the item's results.
FM_RNN_HD void rnn_dot_store(float* rec, int64_t rows, int64_t N, int64_t item, const float (&sum)[kRnnBatchGroup]) {
  const int64_t lr = item % rows, n0 = (item / rows) * kRnnBatchGroup;
  FM_RNN_UNROLL
  for (int b = 0; b < kRnnBatchGroup; ++b)
    if (n0 + b < N) rec[(n0 + b) * rows + lr] = sum[b];
}

// Per step, element i < N * units of the block's gates: batch row n = i / units, unit
// j = u0 + i % units, at time t (the previous step's time tp, valid when has_prev_step).
// has_rec: the recurrent products in `rec` exist (h_{t-1} is not all zeros).
FM_RNN_HD void rnn_gates(const RnnPersistentDir& d, const RnnBlockSlice& sl, bool lstm, int64_t N, int64_t H,
                         int64_t ldy, int64_t t, int64_t tp, bool has_prev_step, const float* hs, const float* rec,
                         bool has_rec, int64_t i) {
  const int64_t n = i / sl.units, u = i - n * sl.units, j = sl.u0 + u;
  const int64_t G = lstm ? 4 : 3, GH = G * H, rows = G * sl.units;
  float* a = d.gates + (t * N + n) * GH;
  float pre[4];
  for (int64_t g = 0; g < G; ++g) pre[g] = a[g * H + j];
  float* yt = d.y + (t * N + n) * ldy;
  if (lstm) {
    for (int64_t g = 0; g < 4; ++g) {
      if (d.b_ih) pre[g] += d.b_ih[g * H + j] + d.b_hh[g * H + j];
      if (has_rec) pre[g] += rec[n * rows + g * sl.units + u];
    }
    const float* cp = has_prev_step ? d.cells + (tp * N + n) * H + j : d.c0 ? d.c0 + n * H + j : nullptr;
    const LstmCell<float> c = lstm_cell(pre[0], pre[1], pre[2], pre[3], cp ? *cp : 0.0f, cp != nullptr);
    a[j] = c.i;
    a[H + j] = c.f;
    a[2 * H + j] = c.g;
    a[3 * H + j] = c.o;
    d.cells[(t * N + n) * H + j] = c.c;
    yt[j] = c.h;
  } else {
    float p[3];
    for (int64_t g = 0; g < 3; ++g) {
      if (d.b_ih) pre[g] += d.b_ih[g * H + j];
      p[g] = has_rec ? rec[n * rows + g * sl.units + u] : 0.0f;
      if (d.b_hh) p[g] += d.b_hh[g * H + j];
    }
    const GruCell<float> c = gru_cell(pre[0], pre[1], pre[2], p[0], p[1], p[2], has_rec ? hs[n * H + j] : 0.0f,
                                      has_rec);
    a[j] = c.r;
    a[H + j] = c.z;
    a[2 * H + j] = c.n;
    d.hn[(t * N + n) * H + j] = p[2];
    yt[j] = c.h;
  }
}

}  // namespace fm::kernels::cuda
