// Fused LSTM/GRU forward and backward through time on the CPU (see kernels/rnn.h). CUDA tensors
// go to kernels/cuda/rnn.cpp.
#include "kernels/rnn.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <vector>

#include <omp.h>

#include "kernels/cpu/fast_math.h"
#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "kernels/rnn_check.h"
#include "tensor/factory.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace fm::kernels {

namespace {

// ----- GEMM on raw row-major memory -----
template <class S>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, S alpha, const S* a, int64_t lda, const S* b,
          int64_t ldb, S beta, S* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == S(0)) {
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, S(0));
    } else if (beta != S(1)) {
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) c[i * ldc + j] *= beta;
    }
    return;
  }
  const auto TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<S, float>)
    cblas_sgemm(CblasRowMajor, TA, TB, m, n, k, alpha, a, std::max<int64_t>(lda, 1), b, std::max<int64_t>(ldb, 1),
                beta, c, std::max<int64_t>(ldc, 1));
  else
    cblas_dgemm(CblasRowMajor, TA, TB, m, n, k, alpha, a, std::max<int64_t>(lda, 1), b, std::max<int64_t>(ldb, 1),
                beta, c, std::max<int64_t>(ldc, 1));
}

// ----- activations over contiguous runs -----
// float32: vectorised (fast_math.h's exp; tanh as Cephes' tanhf: an odd polynomial below
// 0.625, 1 - 2 / (exp(2|x|) + 1) above), within a few ulp of libm. float64: libm.
inline vec::vfloat vsigmoid(vec::vfloat x) { return 1.0f / (1.0f + vec::exp(-x)); }
inline vec::vfloat vtanh(vec::vfloat x) {
  const vec::vfloat ax = x < 0 ? -x : x;
  const vec::vfloat z = x * x;
  const vec::vfloat small =
      ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z -
       3.33332819422e-1f) * z * x + x;
  vec::vfloat big = 1.0f - 2.0f / (vec::exp(2.0f * ax) + 1.0f);
  big = x < 0 ? -big : big;
  return ax < 0.625f ? small : big;
}

template <class S>
void sigmoid_run(const S* in, S* out, int64_t n) {
  if constexpr (std::is_same_v<S, float>) {
    vec::map(in, out, n, vsigmoid);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = S(1) / (S(1) + std::exp(-in[i]));
  }
}
template <class S>
void tanh_run(const S* in, S* out, int64_t n) {
  if constexpr (std::is_same_v<S, float>) {
    vec::map(in, out, n, vtanh);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
  }
}

// ----- the recurrent product for small batches -----
// c[m, 0:nc] (+)= a[m, 0:K] @ b[0:K, 0:nc] for m < M (all row-major). OpenBLAS packs b on every
// call, which at a batch of 4..16 rows costs more than the product itself; here b is streamed
// from cache as it lies, MR rows of a at a time against NV vectors of b's columns, the
// accumulators in registers.
template <class S>
struct vec_type;
template <>
struct vec_type<float> {
  typedef float type __attribute__((vector_size(64)));
};
template <>
struct vec_type<double> {
  typedef double type __attribute__((vector_size(64)));
};
template <class S>
using vec_of = typename vec_type<S>::type;
template <class S>
constexpr int64_t lanes_of = 64 / sizeof(S);

template <class S>
inline vec_of<S> vload(const S* p) {
  vec_of<S> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class S>
inline void vstore(S* p, vec_of<S> v) {
  std::memcpy(p, &v, sizeof v);
}

template <class S, int MR, int NV>
inline void gemm_tile(int64_t K, const S* a, int64_t lda, const S* b, int64_t ldb, S* c, int64_t ldc, bool acc) {
  using V = vec_of<S>;
  constexpr int64_t L = lanes_of<S>;
  V sum[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) sum[r][v] = acc ? vload(c + r * ldc + v * L) : V{};
  for (int64_t k = 0; k < K; ++k) {
    V bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = vload(b + k * ldb + v * L);
    for (int r = 0; r < MR; ++r) {
      const V av = V{} + a[r * lda + k];
      for (int v = 0; v < NV; ++v) sum[r][v] += av * bv[v];
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) vstore(c + r * ldc + v * L, sum[r][v]);
}

template <class S, int MR, int NV>
void gemm_rows(int64_t nc, int64_t K, const S* a, int64_t lda, const S* b, int64_t ldb, S* c, int64_t ldc, bool acc) {
  constexpr int64_t L = lanes_of<S>;
  int64_t j = 0;
  for (; j + NV * L <= nc; j += NV * L) gemm_tile<S, MR, NV>(K, a, lda, b + j, ldb, c + j, ldc, acc);
  for (; j + L <= nc; j += L) gemm_tile<S, MR, 1>(K, a, lda, b + j, ldb, c + j, ldc, acc);
  for (; j < nc; ++j)
    for (int r = 0; r < MR; ++r) {
      S sum = acc ? c[r * ldc + j] : S(0);
      for (int64_t k = 0; k < K; ++k) sum += a[r * lda + k] * b[k * ldb + j];
      c[r * ldc + j] = sum;
    }
}

template <class S>
void small_gemm(int64_t M, int64_t nc, int64_t K, const S* a, int64_t lda, const S* b, int64_t ldb, S* c, int64_t ldc,
                bool acc) {
  int64_t m = 0;
  for (; m + 8 <= M; m += 8) gemm_rows<S, 8, 2>(nc, K, a + m * lda, lda, b, ldb, c + m * ldc, ldc, acc);
  for (; m + 4 <= M; m += 4) gemm_rows<S, 4, 4>(nc, K, a + m * lda, lda, b, ldb, c + m * ldc, ldc, acc);
  switch (M - m) {
    case 3: gemm_rows<S, 3, 4>(nc, K, a + m * lda, lda, b, ldb, c + m * ldc, ldc, acc); break;
    case 2: gemm_rows<S, 2, 4>(nc, K, a + m * lda, lda, b, ldb, c + m * ldc, ldc, acc); break;
    case 1: gemm_rows<S, 1, 4>(nc, K, a + m * lda, lda, b, ldb, c + m * ldc, ldc, acc); break;
    default: break;
  }
}

// The recurrent weight as the product reads it. For small batches (N <= kSmallBatch) it is
// packed in 64-byte-aligned panels of P = 4 vectors of columns (panel p: [K, min(P, nc - p*P)],
// contiguous), so each register tile streams contiguous memory; larger batches go to BLAS,
// which reads a plain row-major [K, nc] matrix.
constexpr int64_t kSmallBatch = 16;

template <class S>
struct RecurrentWeight {
  int64_t K = 0, nc = 0;
  Tensor storage;             // owns the panels, or the plain copy when one was made
  const S* plain = nullptr;   // row-major [K, nc], for BLAS
  const S* panels = nullptr;  // for small_gemm
};

// b(k, j) = src[k * sk + j * sj]
template <class S>
RecurrentWeight<S> make_recurrent_weight(int64_t N, int64_t K, int64_t nc, const S* src, int64_t sk, int64_t sj) {
  RecurrentWeight<S> w;
  w.K = K;
  w.nc = nc;
  if (N > kSmallBatch && sj == 1 && sk == nc) {
    w.plain = src;  // already row-major
    return w;
  }
  w.storage = empty({K * nc}, {.dtype = dtype_of<S>::value});
  S* out = w.storage.template data_ptr<S>();
  if (N <= kSmallBatch) {
    constexpr int64_t P = 4 * lanes_of<S>;
    for (int64_t p0 = 0; p0 < nc; p0 += P) {
      const int64_t width = std::min(P, nc - p0);
      S* panel = out + p0 * K;
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < width; ++j) panel[k * width + j] = src[k * sk + (p0 + j) * sj];
    }
    w.panels = out;
  } else {
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < nc; ++j) out[k * nc + j] = src[k * sk + j * sj];
    w.plain = out;
  }
  return w;
}

// c[N, nc] (+)= a[N, K] @ b[K, nc]
template <class S>
void recurrent_mm(int64_t N, const S* a, int64_t lda, const RecurrentWeight<S>& b, S* c, int64_t ldc, bool acc) {
  if (b.panels) {
    constexpr int64_t P = 4 * lanes_of<S>;
    for (int64_t p0 = 0; p0 < b.nc; p0 += P) {
      const int64_t width = std::min(P, b.nc - p0);
      small_gemm<S>(N, width, b.K, a, lda, b.panels + p0 * b.K, width, c + p0, ldc, acc);
    }
  } else {
    gemm<S>(false, false, N, b.nc, b.K, S(1), a, lda, b.plain, b.nc, acc ? S(1) : S(0), c, ldc);
  }
}

// Threads. A step of the recurrence depends on the one before, so its parallelism is inside
// the step: the gate kernels run batch rows on several threads when a step has at least
// kParallelElems gate elements (below that a parallel region costs more than it saves, and a
// barrier per step stalls badly whenever the machine is busy). A bidirectional layer runs its two
// directions at once on two threads (no barrier per step, one join per layer) when the batch is
// small enough that the recurrence uses no BLAS.
constexpr int64_t kParallelElems = 32768;
constexpr double kParallelDirectionsFma = 1 << 20;

template <class F>
void for_rows(int64_t N, int64_t H, F&& f) {
  if (N > 1 && N * H >= kParallelElems && !omp_in_parallel()) {
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; ++n) f(n);
  } else {
    for (int64_t n = 0; n < N; ++n) f(n);
  }
}

bool directions_in_parallel(int64_t D, int64_t T, int64_t N, int64_t GH, int64_t H) {
  return D == 2 && N <= kSmallBatch && double(T) * N * GH * H >= kParallelDirectionsFma &&
         omp_get_max_threads() >= 2 && !omp_in_parallel();
}

template <class F>
void for_directions(int64_t D, bool parallel, F&& f) {
  if (!parallel) {
    for (int64_t d = 0; d < D; ++d) f(d);
    return;
  }
  std::exception_ptr err[2];  // an exception must not leave an OpenMP region
#pragma omp parallel for num_threads(2) schedule(static, 1)
  for (int64_t d = 0; d < 2; ++d) {
    try {
      f(d);
    } catch (...) {
      err[d] = std::current_exception();
    }
  }
  for (auto& e : err)
    if (e) std::rethrow_exception(e);
}

template <class S>
const S* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<S>() : nullptr;
}

// ----- forward -----
// One direction's recurrence, given A = X W_ih^T + biases for every step.
template <class S>
void recur_forward(bool lstm, int64_t T, int64_t N, int64_t H, S* A, S* C, S* HN, const RecurrentWeight<S>& WT,
                   const S* bhh,
                   const S* H0, const S* C0, S* Y, int64_t ldy, bool reverse) {
  const int64_t GH = (lstm ? 4 : 3) * H;
  std::vector<S> hp_buf(lstm ? 0 : N * GH);
  S* HP = hp_buf.data();
  const S* hprev = H0;
  int64_t ldh = H;
  const S* cprev = C0;
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = reverse ? T - 1 - s : s;
    S* a = A + t * N * GH;
    S* yt = Y + t * N * ldy;
    if (lstm) {
      if (hprev) recurrent_mm<S>(N, hprev, ldh, WT, a, GH, true);
      S* ct = C + t * N * H;
      const S* cp = cprev;
      for_rows(N, H, [&](int64_t n) {
        S* ar = a + n * GH;
        S *ig = ar, *fg = ar + H, *gg = ar + 2 * H, *og = ar + 3 * H;
        sigmoid_run(ig, ig, 2 * H);  // i, f
        tanh_run(gg, gg, H);
        sigmoid_run(og, og, H);
        S* c = ct + n * H;
        S* h = yt + n * ldy;
        if (cp) {
          const S* cpr = cp + n * H;
          for (int64_t j = 0; j < H; ++j) c[j] = fg[j] * cpr[j] + ig[j] * gg[j];
        } else {
          for (int64_t j = 0; j < H; ++j) c[j] = ig[j] * gg[j];
        }
        tanh_run(c, h, H);
        for (int64_t j = 0; j < H; ++j) h[j] *= og[j];
      });
      cprev = ct;
    } else {
      for (int64_t n = 0; n < N; ++n) {
        if (bhh) std::memcpy(HP + n * GH, bhh, GH * sizeof(S));
        else std::fill(HP + n * GH, HP + (n + 1) * GH, S(0));
      }
      if (hprev) recurrent_mm<S>(N, hprev, ldh, WT, HP, GH, true);
      S* hnt = HN + t * N * H;
      const S* hp_prev = hprev;
      const int64_t ldp = ldh;
      for_rows(N, H, [&](int64_t n) {
        S* ar = a + n * GH;
        const S* hr = HP + n * GH;
        for (int64_t j = 0; j < 2 * H; ++j) ar[j] += hr[j];
        sigmoid_run(ar, ar, 2 * H);  // r, z
        const S *rg = ar, *zg = ar + H;
        S* ng = ar + 2 * H;
        const S* hn = hr + 2 * H;
        for (int64_t j = 0; j < H; ++j) ng[j] += rg[j] * hn[j];
        tanh_run(ng, ng, H);
        std::memcpy(hnt + n * H, hn, H * sizeof(S));
        S* h = yt + n * ldy;
        if (hp_prev) {
          const S* hpr = hp_prev + n * ldp;
          for (int64_t j = 0; j < H; ++j) h[j] = ng[j] + zg[j] * (hpr[j] - ng[j]);
        } else {
          for (int64_t j = 0; j < H; ++j) h[j] = ng[j] - zg[j] * ng[j];
        }
      });
    }
    hprev = yt;
    ldh = ldy;
  }
}

template <class S>
std::vector<RnnDirResult> forward_impl(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w,
                                       const std::vector<Tensor>& h0, const std::vector<Tensor>& c0, const Tensor& y) {
  const bool lstm = mode == RnnMode::LSTM;
  const int64_t D = static_cast<int64_t>(w.size());
  const int64_t T = x.size(0), N = x.size(1), I = x.size(2), H = w[0].w_hh.size(1), GH = rnn_gates(mode) * H;
  const int64_t ldy = y.size(2);
  const Options opt{.dtype = x.dtype()};
  const S* X = x.data_ptr<S>();

  // serial part: buffers, the input projections of all steps (one BLAS GEMM per direction), W_hh^T
  std::vector<RnnDirResult> res(D);
  std::vector<RecurrentWeight<S>> wt(D);
  for (int64_t d = 0; d < D; ++d) {
    RnnDirResult& r = res[d];
    r.saved.gates = empty({T, N, GH}, opt);
    S* A = r.saved.gates.data_ptr<S>();
    const S* bih = ptr_or_null<S>(w[d].b_ih);
    const S* bhh = ptr_or_null<S>(w[d].b_hh);
    if (bih) {  // LSTM: b_ih + b_hh; GRU: b_ih (b_hh goes with the hidden product)
      std::vector<S> bias(bih, bih + GH);
      if (lstm)
        for (int64_t j = 0; j < GH; ++j) bias[j] += bhh[j];
      for (int64_t row = 0; row < T * N; ++row) std::memcpy(A + row * GH, bias.data(), GH * sizeof(S));
    }
    gemm<S>(false, true, T * N, GH, I, S(1), X, I, w[d].w_ih.data_ptr<S>(), I, bih ? S(1) : S(0), A, GH);
    if (lstm) r.saved.cells = empty({T, N, H}, opt);
    else r.saved.hn = empty({T, N, H}, opt);
    // W_hh^T [H, G*H]: b(k, j) = W_hh[j, k]
    wt[d] = make_recurrent_weight<S>(N, H, GH, w[d].w_hh.data_ptr<S>(), 1, H);
    r.h_n = empty({N, H}, opt);
    if (lstm) r.c_n = empty({N, H}, opt);
  }

  for_directions(D, directions_in_parallel(D, T, N, GH, H), [&](int64_t d) {
    RnnDirResult& r = res[d];
    S* Y = y.data_ptr<S>() + d * H;
    S* C = lstm ? r.saved.cells.data_ptr<S>() : nullptr;
    recur_forward<S>(lstm, T, N, H, r.saved.gates.data_ptr<S>(), C, lstm ? nullptr : r.saved.hn.data_ptr<S>(),
                     wt[d], ptr_or_null<S>(w[d].b_hh), ptr_or_null<S>(h0[d]), ptr_or_null<S>(c0[d]), Y, ldy,
                     d == 1);
    const int64_t tl = d == 1 ? 0 : T - 1;  // the last step processed
    S* hn_out = r.h_n.data_ptr<S>();
    for (int64_t n = 0; n < N; ++n) std::memcpy(hn_out + n * H, Y + (tl * N + n) * ldy, H * sizeof(S));
    if (lstm) std::memcpy(r.c_n.data_ptr<S>(), C + tl * N * H, N * H * sizeof(S));
  });
  return res;
}

// ----- backward -----
// One direction's backward through time: fills dGi/dGh (gradients of the gate pre-activations,
// input and hidden side: the same buffer for LSTM) and leaves dL/dh0, dL/dc0 in dh, dc (which
// come in holding dL/dh_n, dL/dc_n).
template <class S>
void recur_backward(bool lstm, int64_t T, int64_t N, int64_t H, const S* A, const S* C, const S* HN,
                    const RecurrentWeight<S>& Whh,
                    const S* H0, const S* C0, const S* Y, const S* DY, int64_t ldy, bool reverse, S* dGi, S* dGh,
                    S* dh, S* dc) {
  const int64_t GH = (lstm ? 4 : 3) * H;
  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = reverse ? T - 1 - s : s;
    const int64_t tp = reverse ? t + 1 : t - 1;  // the step before this one (valid when s > 0)
    const S* a = A + t * N * GH;
    const S* dyt = DY + t * N * ldy;
    S* dgi = dGi + t * N * GH;
    S* dgh = dGh + t * N * GH;
    if (lstm) {
      const S* ct = C + t * N * H;
      const S* cp = s > 0 ? C + tp * N * H : C0;
      for_rows(N, H, [&](int64_t n) {
        const S* ar = a + n * GH;
        const S *ig = ar, *fg = ar + H, *gg = ar + 2 * H, *og = ar + 3 * H;
        S* d = dgi + n * GH;
        S* tc = d + 3 * H;  // tanh(c_t), kept in the o slot until do is known
        tanh_run(ct + n * H, tc, H);
        S* dhr = dh + n * H;
        S* dcr = dc + n * H;
        const S* dyr = dyt + n * ldy;
        const S* cpr = cp ? cp + n * H : nullptr;
        for (int64_t j = 0; j < H; ++j) {
          const S i = ig[j], f = fg[j], g = gg[j], o = og[j], th = tc[j];
          const S dht = dhr[j] + dyr[j];
          const S dct = dcr[j] + dht * o * (S(1) - th * th);
          const S cprev = cpr ? cpr[j] : S(0);
          d[j] = dct * g * i * (S(1) - i);
          d[H + j] = dct * cprev * f * (S(1) - f);
          d[2 * H + j] = dct * i * (S(1) - g * g);
          d[3 * H + j] = dht * th * o * (S(1) - o);
          dcr[j] = dct * f;
        }
      });
      recurrent_mm<S>(N, dgi, GH, Whh, dh, H, false);  // dh_{t-1} = dG_t @ W_hh
    } else {
      const S* hp = s > 0 ? Y + tp * N * ldy : H0;
      const int64_t ldp = s > 0 ? ldy : H;
      const S* hnt = HN + t * N * H;
      for_rows(N, H, [&](int64_t n) {
        const S* ar = a + n * GH;
        const S *rg = ar, *zg = ar + H, *ng = ar + 2 * H;
        const S* hn = hnt + n * H;
        S* di = dgi + n * GH;
        S* dhh = dgh + n * GH;
        S* dhr = dh + n * H;
        const S* dyr = dyt + n * ldy;
        const S* hpr = hp ? hp + n * ldp : nullptr;
        for (int64_t j = 0; j < H; ++j) {
          const S r = rg[j], z = zg[j], nn = ng[j];
          const S dht = dhr[j] + dyr[j];
          const S hprev = hpr ? hpr[j] : S(0);
          const S dnp = dht * (S(1) - z) * (S(1) - nn * nn);
          const S drp = dnp * hn[j] * r * (S(1) - r);
          const S dzp = dht * (hprev - nn) * z * (S(1) - z);
          di[j] = drp;
          di[H + j] = dzp;
          di[2 * H + j] = dnp;
          dhh[j] = drp;
          dhh[H + j] = dzp;
          dhh[2 * H + j] = dnp * r;
          dhr[j] = dht * z;
        }
      });
      recurrent_mm<S>(N, dgh, GH, Whh, dh, H, true);  // dh_{t-1} = dh z + dGh_t @ W_hh
    }
  }
}

template <class S>
std::vector<RnnDirGrads> backward_impl(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w,
                                       const std::vector<Tensor>& h0, const std::vector<Tensor>& c0, const Tensor& y,
                                       const std::vector<RnnSaved>& saved, const Tensor& dy,
                                       const std::vector<Tensor>& dh_n, const std::vector<Tensor>& dc_n,
                                       const Tensor& dx, const std::vector<bool>& need_weights) {
  const bool lstm = mode == RnnMode::LSTM;
  const int64_t D = static_cast<int64_t>(w.size());
  const int64_t T = x.size(0), N = x.size(1), I = x.size(2), H = w[0].w_hh.size(1), GH = rnn_gates(mode) * H;
  const int64_t ldy = y.size(2);
  const Options opt{.dtype = x.dtype()};
  const S* X = x.data_ptr<S>();

  std::vector<RnnDirGrads> out(D);
  std::vector<Tensor> dgi_t(D), dgh_t(D);
  std::vector<RecurrentWeight<S>> whh(D);
  for (int64_t d = 0; d < D; ++d) {
    whh[d] = make_recurrent_weight<S>(N, GH, H, w[d].w_hh.data_ptr<S>(), H, 1);  // W_hh [G*H, H]
    dgi_t[d] = empty({T, N, GH}, opt);
    dgh_t[d] = lstm ? dgi_t[d] : empty({T, N, GH}, opt);
    out[d].dh0 = dh_n[d].defined() ? contiguous_raw(dh_n[d], true) : zeros({N, H}, opt);
    if (lstm) out[d].dc0 = dc_n[d].defined() ? contiguous_raw(dc_n[d], true) : zeros({N, H}, opt);
  }

  for_directions(D, directions_in_parallel(D, T, N, GH, H), [&](int64_t d) {
    const RnnSaved& sv = saved[d];
    recur_backward<S>(lstm, T, N, H, sv.gates.data_ptr<S>(), lstm ? sv.cells.data_ptr<S>() : nullptr,
                      lstm ? nullptr : sv.hn.data_ptr<S>(), whh[d], ptr_or_null<S>(h0[d]),
                      ptr_or_null<S>(c0[d]), y.data_ptr<S>() + d * H, dy.data_ptr<S>() + d * H, ldy, d == 1,
                      dgi_t[d].data_ptr<S>(), dgh_t[d].data_ptr<S>(), out[d].dh0.data_ptr<S>(),
                      lstm ? out[d].dc0.data_ptr<S>() : nullptr);
  });

  // the large GEMMs over all steps
  for (int64_t d = 0; d < D; ++d) {
    const S* dGi = dgi_t[d].data_ptr<S>();
    const S* dGh = dgh_t[d].data_ptr<S>();
    const S* Y = y.data_ptr<S>() + d * H;
    const bool reverse = d == 1;
    // input gradient: dX (+)= dGi @ W_ih
    if (dx.defined())
      gemm<S>(false, false, T * N, I, GH, S(1), dGi, GH, w[d].w_ih.data_ptr<S>(), I, d > 0 ? S(1) : S(0),
              dx.data_ptr<S>(), I);
    if (!need_weights[d]) continue;
    RnnDirGrads& g = out[d];
    g.dw_ih = empty({GH, I}, opt);
    gemm<S>(true, false, GH, I, T * N, S(1), dGi, GH, X, I, S(0), g.dw_ih.data_ptr<S>(), I);
    g.dw_hh = zeros({GH, H}, opt);
    S* dWhh = g.dw_hh.data_ptr<S>();
    // every step but the first pairs dGh with an output h_prev: one GEMM
    if (T > 1) {
      const S* dg_from = reverse ? dGh : dGh + N * GH;
      const S* h_from = reverse ? Y + N * ldy : Y;
      gemm<S>(true, false, GH, H, (T - 1) * N, S(1), dg_from, GH, h_from, ldy, S(0), dWhh, H);
    }
    if (h0[d].defined()) {
      const int64_t t0 = reverse ? T - 1 : 0;
      gemm<S>(true, false, GH, H, N, S(1), dGh + t0 * N * GH, GH, h0[d].data_ptr<S>(), H, S(1), dWhh, H);
    }
    if (w[d].b_ih.defined()) {
      auto colsum = [&](const S* dg) {
        Tensor b = empty({GH}, opt);
        std::vector<double> acc(GH, 0.0);
        for (int64_t row = 0; row < T * N; ++row) {
          const S* p = dg + row * GH;
          for (int64_t j = 0; j < GH; ++j) acc[j] += p[j];
        }
        S* bp = b.data_ptr<S>();
        for (int64_t j = 0; j < GH; ++j) bp[j] = static_cast<S>(acc[j]);
        return b;
      };
      g.db_ih = colsum(dGi);
      g.db_hh = lstm ? contiguous_raw(g.db_ih, true) : colsum(dGh);
    }
  }
  return out;
}

// Every defined tensor of a group on the CPU (CUDA inputs were dispatched to kernels/cuda/rnn.cpp
// already, so a CUDA tensor here is mixed with CPU ones).
struct OnCpu {
  const char* op;
  const Tensor& x;
  void operator()(std::initializer_list<const Tensor*> ts) const {
    for (const Tensor* t : ts)
      if (t->defined())
        FM_CHECK(t->device().is_cpu(), op, ": expected every tensor on one device, got ", t->describe(), " and x ",
                 x.describe());
  }
};

}  // namespace

std::vector<RnnDirResult> rnn_forward(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w,
                                      const std::vector<Tensor>& h0, const std::vector<Tensor>& c0, const Tensor& y) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x, &y}), cuda::rnn_forward(mode, x, w, h0, c0, y));
  rnn_check_args("rnn_forward", mode, x, w, h0, c0, y, OnCpu{"rnn_forward", x});
  std::vector<RnnDirResult> r;
  dispatch_floating(x.dtype(), "rnn_forward", [&]<class S>() { r = forward_impl<S>(mode, x, w, h0, c0, y); });
  return r;
}

std::vector<RnnDirGrads> rnn_backward(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w,
                                      const std::vector<Tensor>& h0, const std::vector<Tensor>& c0, const Tensor& y,
                                      const std::vector<RnnSaved>& saved, const Tensor& dy,
                                      const std::vector<Tensor>& dh_n, const std::vector<Tensor>& dc_n,
                                      const Tensor& dx, const std::vector<bool>& need_weights) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x, &y, &dy}),
                   cuda::rnn_backward(mode, x, w, h0, c0, y, saved, dy, dh_n, dc_n, dx, need_weights));
  rnn_check_args("rnn_backward", mode, x, w, h0, c0, y, OnCpu{"rnn_backward", x});
  rnn_check_backward_args(mode, x, w, y, saved, dy, dh_n, dc_n, dx, need_weights, OnCpu{"rnn_backward", x});
  std::vector<RnnDirGrads> g;
  dispatch_floating(x.dtype(), "rnn_backward", [&]<class S>() {
    g = backward_impl<S>(mode, x, w, h0, c0, y, saved, dy, dh_n, dc_n, dx, need_weights);
  });
  return g;
}

}  // namespace fm::kernels

#pragma GCC diagnostic pop
