// The host side of the CUDA LSTM/GRU on the CPU (kernels/cuda/rnn_plan.h, rnn_cell.h):
// - rnn_forward_plan's choice of path, units per block, grid and shared memory, and the
//   co-residency check;
// - the persistent forward (v2) emulated block by block and thread by thread with the kernel's
//   own per-thread functions (shared memory and outputs start as NaN, so a value read before it
//   was written, or an output never written, shows), against the CPU kernels::rnn_forward;
// - the per-step gate-gradient functions of v1's backward, run in rnn.cpp's order with plain
//   products in float64, against the CPU kernels::rnn_backward.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/cuda/rnn_cell.h"
#include "kernels/cuda/rnn_plan.h"
#include "kernels/rnn.h"
#include "support/test_support.h"

using namespace fm;
using namespace fm::kernels::cuda;
using fm::kernels::RnnMode;
using fm::kernels::RnnWeights;

namespace {

RnnDeviceInfo h100() { return {132, 227 * 1024, true}; }

TEST(RnnCudaPlan, PathChoice) {
  EXPECT_EQ(rnn_forward_plan(4, 10, 16, 256, 1, true, false, h100()).path, RnnForwardPath::Steps);   // v1
  EXPECT_EQ(rnn_forward_plan(4, 10, 16, 256, 1, false, true, h100()).path, RnnForwardPath::Steps);   // float64
  RnnDeviceInfo no_coop = h100();
  no_coop.cooperative = false;
  EXPECT_EQ(rnn_forward_plan(4, 10, 16, 256, 1, true, true, no_coop).path, RnnForwardPath::Steps);
  EXPECT_EQ(rnn_forward_plan(4, 10, kRnnPersistentMaxBatch + 1, 256, 1, true, true, h100()).path,
            RnnForwardPath::Steps);
  EXPECT_EQ(rnn_forward_plan(4, 10, kRnnPersistentMaxBatch, 256, 1, true, true, h100()).path,
            RnnForwardPath::Persistent);
  // H = 2048: 16 units per block, their 64 rows of W_hh alone are 512 KiB
  EXPECT_EQ(rnn_forward_plan(4, 10, 16, 2048, 1, true, true, h100()).path, RnnForwardPath::Steps);
  RnnDeviceInfo none = h100();
  none.sms = 1;
  EXPECT_EQ(rnn_forward_plan(4, 10, 4, 8, 2, true, true, none).path, RnnForwardPath::Steps);  // 0 blocks per direction

  // H = 256, both directions: 66 multiprocessors each, 4 units per block, 64 blocks each
  const RnnForwardPlan p = rnn_forward_plan(4, 10, 16, 256, 2, true, true, h100());
  ASSERT_EQ(p.path, RnnForwardPath::Persistent);
  EXPECT_EQ(p.units, 4);
  EXPECT_EQ(p.blocks_per_dir, 64);
  EXPECT_EQ(p.blocks, 128);
  EXPECT_EQ(p.smem_bytes, 4 * (16 * 256 + 16 * 256 + 16 * 16));
  // H = 1024 LSTM: 8 units per block, 32 rows of W_hh (128 KiB) + h (64 KiB) fit in 227 KiB
  const RnnForwardPlan q = rnn_forward_plan(4, 10, 16, 1024, 1, true, true, h100());
  ASSERT_EQ(q.path, RnnForwardPath::Persistent);
  EXPECT_EQ(q.units, 8);
  EXPECT_EQ(q.blocks, 128);
  EXPECT_LE(q.smem_bytes, h100().smem_per_block_optin);
}

TEST(RnnCudaPlan, GridCoversEveryUnitOnceWithinTheMultiprocessors) {
  for (int64_t sms : {1, 5, 132})
    for (int64_t G : {3, 4})
      for (int64_t D : {1, 2})
        for (int64_t H : {1, 2, 31, 65, 128, 256, 1000})
          for (int64_t N : {1, 3, 16, 64}) {
            const RnnDeviceInfo dev{sms, 227 * 1024, true};
            const RnnForwardPlan p = rnn_forward_plan(G, 7, N, H, D, true, true, dev);
            const std::string what = "sms " + std::to_string(sms) + " G " + std::to_string(G) + " D " +
                                     std::to_string(D) + " H " + std::to_string(H) + " N " + std::to_string(N);
            if (p.path != RnnForwardPath::Persistent) {
              EXPECT_TRUE(sms < D || rnn_persistent_smem_floats(G, (H + sms / D - 1) / (sms / D), H, N) * 4 >
                                         dev.smem_per_block_optin)
                  << what << ": " << p.why;
              continue;
            }
            EXPECT_LE(p.blocks, sms) << what;
            EXPECT_EQ(p.blocks, D * p.blocks_per_dir) << what;
            EXPECT_EQ(p.smem_bytes, rnn_persistent_smem_floats(G, p.units, H, N) * 4) << what;
            EXPECT_TRUE(rnn_persistent_fits(p, 1, sms)) << what;
            std::vector<int> owner(static_cast<size_t>(D * H), 0);
            for (int64_t b = 0; b < p.blocks; ++b) {
              const RnnBlockSlice sl = rnn_block_slice(b, p.blocks_per_dir, p.units, H);
              ASSERT_GE(sl.units, 1) << what << " block " << b;
              ASSERT_LE(sl.units, p.units) << what;
              for (int64_t u = 0; u < sl.units; ++u) ++owner[static_cast<size_t>(sl.dir * H + sl.u0 + u)];
            }
            for (int o : owner) EXPECT_EQ(o, 1) << what;
          }
}

TEST(RnnCudaPlan, CoResidency) {
  RnnForwardPlan p = rnn_forward_plan(4, 10, 16, 256, 2, true, true, h100());
  EXPECT_TRUE(rnn_persistent_fits(p, 1, 132));
  EXPECT_FALSE(rnn_persistent_fits(p, 0, 132));  // the shared memory does not fit at all
  EXPECT_FALSE(rnn_persistent_fits(p, 1, 100));  // fewer multiprocessors than blocks
  EXPECT_TRUE(rnn_persistent_fits(p, 2, 100));
  p.path = RnnForwardPath::Steps;
  EXPECT_FALSE(rnn_persistent_fits(p, 4, 132));
}

TEST(RnnCudaPlan, ColumnSumParts) {
  EXPECT_EQ(rnn_column_sum_parts(0), 1);
  EXPECT_EQ(rnn_column_sum_parts(1), 1);
  EXPECT_EQ(rnn_column_sum_parts(64 * 7), 7);
  EXPECT_EQ(rnn_column_sum_parts(int64_t{1} << 30), 128);
}

// ----- emulations -----

Tensor uniform(const Shape& s, uint64_t seed, double scale, DType dt) {
  Generator g(seed);
  NoGradGuard ng;
  return to(mul(add(rand(s, {.dtype = kFloat64}, &g), -0.5), 2 * scale), dt);
}

struct Layer {
  RnnMode mode;
  int64_t T, N, I, H, D;
  Tensor x;
  std::vector<RnnWeights> w;
  std::vector<Tensor> h0, c0;
  std::string what;
};

Layer make_layer(RnnMode mode, int64_t T, int64_t N, int64_t I, int64_t H, int64_t D, bool bias, bool states,
                 DType dt, uint64_t seed) {
  Layer L{mode, T, N, I, H, D, uniform({T, N, I}, seed, 2, dt), {}, {}, {}, ""};
  const int64_t GH = kernels::rnn_gates(mode) * H;
  const double k = 1 / std::sqrt(static_cast<double>(H));
  for (int64_t d = 0; d < D; ++d) {
    RnnWeights w{uniform({GH, I}, seed + 10 * d + 1, k, dt), uniform({GH, H}, seed + 10 * d + 2, k, dt), Tensor(),
                 Tensor()};
    if (bias) w.b_ih = uniform({GH}, seed + 10 * d + 3, k, dt), w.b_hh = uniform({GH}, seed + 10 * d + 4, k, dt);
    L.w.push_back(w);
    L.h0.push_back(states ? uniform({N, H}, seed + 10 * d + 5, 1, dt) : Tensor());
    L.c0.push_back(states && mode == RnnMode::LSTM ? uniform({N, H}, seed + 10 * d + 6, 1, dt) : Tensor());
  }
  L.what = std::string(mode == RnnMode::LSTM ? "LSTM" : "GRU") + " T " + std::to_string(T) + " N " +
           std::to_string(N) + " in " + std::to_string(I) + " H " + std::to_string(H) + " D " + std::to_string(D) +
           (bias ? " bias" : " no bias") + (states ? " h0/c0" : " no h0/c0");
  return L;
}

// C[m, n] (+)= op(A) op(B) with plain loops, row-major, accumulated in double.
template <class S>
void plain_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const S* A, int64_t lda, const S* B, int64_t ldb,
                bool acc, S* C, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = acc ? static_cast<double>(C[i * ldc + j]) : 0.0;
      for (int64_t q = 0; q < k; ++q)
        s += static_cast<double>(ta ? A[q * lda + i] : A[i * lda + q]) *
             static_cast<double>(tb ? B[j * ldb + q] : B[q * ldb + j]);
      C[i * ldc + j] = static_cast<S>(s);
    }
}

template <class S>
S* p(const Tensor& t) {
  return t.defined() ? t.data_ptr<S>() : nullptr;
}

struct Emulated {
  Tensor y;
  std::vector<Tensor> gates, state;  // state: LSTM cells, GRU hn
};

// rnn.cpp's v2 forward: the input GEMM, then rnn_persistent_kernel's phases for every block at
// every step (blocks in any order within a step: they read only the previous step's outputs).
Emulated emulate_persistent(const Layer& L, const RnnForwardPlan& plan) {
  const bool lstm = L.mode == RnnMode::LSTM;
  const int64_t G = kernels::rnn_gates(L.mode), GH = G * L.H, T = L.T, N = L.N, H = L.H, ldy = L.D * H;
  Emulated e;
  e.y = full({T, N, ldy}, NAN, {.dtype = kFloat32});
  RnnPersistentArgs a;
  a.T = T, a.N = N, a.H = H, a.ldy = ldy, a.units = plan.units, a.blocks_per_dir = plan.blocks_per_dir, a.lstm = lstm;
  for (int64_t d = 0; d < L.D; ++d) {
    e.gates.push_back(full({T, N, GH}, NAN, {.dtype = kFloat32}));
    e.state.push_back(full({T, N, H}, NAN, {.dtype = kFloat32}));
    plain_gemm<float>(false, true, T * N, GH, L.I, p<float>(L.x), L.I, p<float>(L.w[d].w_ih), L.I, false,
                      p<float>(e.gates[d]), GH);
    RnnPersistentDir& pd = a.dir[d];
    pd.gates = p<float>(e.gates[d]);
    (lstm ? pd.cells : pd.hn) = p<float>(e.state[d]);
    pd.y = p<float>(e.y) + d * H;
    pd.w_hh = p<float>(L.w[d].w_hh);
    pd.b_ih = p<float>(L.w[d].b_ih);
    pd.b_hh = p<float>(L.w[d].b_hh);
    pd.h0 = p<float>(L.h0[d]);
    pd.c0 = lstm ? p<float>(L.c0[d]) : nullptr;
    pd.reverse = d == 1;
  }
  const int lanes = 32, threads = plan.threads;
  std::vector<std::vector<float>> smem(static_cast<size_t>(plan.blocks),
                                       std::vector<float>(rnn_persistent_smem_floats(G, plan.units, H, N), NAN));
  for (int64_t b = 0; b < plan.blocks; ++b) {
    const RnnBlockSlice sl = rnn_block_slice(b, plan.blocks_per_dir, plan.units, H);
    const RnnSmem sm = rnn_smem(smem[b].data(), G, plan.units, H, N);
    for (int64_t i = 0; i < G * sl.units * H; ++i) rnn_load_weight(sm.w, a.dir[sl.dir].w_hh, sl, H, i);
  }
  for (int64_t s = 0; s < T; ++s) {
    for (int64_t b = plan.blocks - 1; b >= 0; --b) {
      const RnnBlockSlice sl = rnn_block_slice(b, plan.blocks_per_dir, plan.units, H);
      const RnnPersistentDir& d = a.dir[sl.dir];
      const RnnSmem sm = rnn_smem(smem[b].data(), G, plan.units, H, N);
      const int64_t t = d.reverse ? T - 1 - s : s, tp = d.reverse ? t + 1 : t - 1;
      const float* hprev = s > 0 ? d.y + tp * N * ldy : d.h0;
      const int64_t ldh = s > 0 ? ldy : H;
      const bool has_rec = hprev != nullptr;
      const int64_t rows = G * sl.units;
      if (has_rec) {
        for (int64_t i = 0; i < N * H; ++i) rnn_stage_h(sm.h, hprev, ldh, H, i, [](const float* q) { return *q; });
        for (int64_t item = 0; item < rnn_dot_items(rows, N); ++item) {
          float sum[kRnnBatchGroup] = {};
          for (int lane = 0; lane < lanes; ++lane) {
            float acc[kRnnBatchGroup];
            rnn_dot_partial(sm.w, sm.h, rows, N, H, item, lane, lanes, acc);
            for (int q = 0; q < kRnnBatchGroup; ++q) sum[q] += acc[q];
          }
          rnn_dot_store(sm.rec, rows, N, item, sum);
        }
      }
      // thread by thread in the kernel's order (each thread's items stride by the block size)
      for (int tid = 0; tid < threads; ++tid)
        for (int64_t i = tid; i < N * sl.units; i += threads)
          rnn_gates(d, sl, lstm, N, H, ldy, t, tp, s > 0, sm.h, sm.rec, has_rec, i);
    }
  }
  return e;
}

TEST(RnnCudaPersistent, EmulationMatchesCpuForward) {
  struct Size {
    int64_t T, N, I, H;
  };
  const std::vector<Size> sizes = {{1, 1, 5, 1}, {7, 3, 5, 31}, {4, 6, 40, 40}, {3, 5, 4, 65}};
  uint64_t seed = 100;
  for (RnnMode mode : {RnnMode::LSTM, RnnMode::GRU})
    for (int64_t D : {1, 2})
      for (bool bias : {true, false})
        for (bool states : {false, true})
          for (const Size& z : sizes)
            for (int64_t sms : {5, 132}) {
              const Layer L = make_layer(mode, z.T, z.N, z.I, z.H, D, bias, states, kFloat32, seed += 100);
              const RnnForwardPlan plan =
                  rnn_forward_plan(kernels::rnn_gates(mode), z.T, z.N, z.H, D, true, true, {sms, 227 * 1024, true});
              ASSERT_EQ(plan.path, RnnForwardPath::Persistent) << L.what;
              const std::string what = L.what + " sms " + std::to_string(sms);
              const Emulated e = emulate_persistent(L, plan);
              const Tensor y = empty({z.T, z.N, D * z.H}, {.dtype = kFloat32});
              const auto ref = kernels::rnn_forward(mode, L.x, L.w, L.h0, L.c0, y);
              EXPECT_TRUE(fm::testing::close(e.y, y, 1e-4, 1e-5)) << what << ": y";
              for (int64_t d = 0; d < D; ++d) {
                EXPECT_TRUE(fm::testing::close(e.gates[d], ref[d].saved.gates, 1e-4, 1e-5)) << what << ": gates " << d;
                const Tensor& st = mode == RnnMode::LSTM ? ref[d].saved.cells : ref[d].saved.hn;
                EXPECT_TRUE(fm::testing::close(e.state[d], st, 1e-4, 1e-5)) << what << ": cells/hn " << d;
              }
            }
}

// rnn.cpp's v1 backward with the per-step functions of rnn_cell.h (one call per (n, unit), as
// the kernels make them) and plain products, in float64.
TEST(RnnCudaPersistent, StepBackwardFunctionsMatchCpuBackward) {
  uint64_t seed = 7;
  for (RnnMode mode : {RnnMode::LSTM, RnnMode::GRU})
    for (int64_t D : {1, 2})
      for (bool states : {false, true}) {
        const int64_t T = 5, N = 3, I = 4, H = 6;
        const Layer L = make_layer(mode, T, N, I, H, D, true, states, kFloat64, seed += 100);
        const bool lstm = mode == RnnMode::LSTM;
        const int64_t GH = kernels::rnn_gates(mode) * H, ldy = D * H;
        const Tensor y = empty({T, N, ldy}, {.dtype = kFloat64});
        const auto fwd = kernels::rnn_forward(mode, L.x, L.w, L.h0, L.c0, y);
        std::vector<kernels::RnnSaved> saved;
        for (const auto& r : fwd) saved.push_back(r.saved);
        const Tensor dy = uniform({T, N, ldy}, seed + 1, 1, kFloat64);
        std::vector<Tensor> dh_n, dc_n;
        for (int64_t d = 0; d < D; ++d) {
          dh_n.push_back(uniform({N, H}, seed + 2 + d, 1, kFloat64));
          dc_n.push_back(lstm ? uniform({N, H}, seed + 4 + d, 1, kFloat64) : Tensor());
        }
        const Tensor dx = empty({T, N, I}, {.dtype = kFloat64});
        const auto ref = kernels::rnn_backward(mode, L.x, L.w, L.h0, L.c0, y, saved, dy, dh_n, dc_n, dx,
                                               std::vector<bool>(static_cast<size_t>(D), true));

        Tensor dx_e = zeros({T, N, I}, {.dtype = kFloat64});
        for (int64_t d = 0; d < D; ++d) {
          const bool reverse = d == 1;
          Tensor dgi = full({T, N, GH}, NAN, {.dtype = kFloat64}), dgh = full({T, N, GH}, NAN, {.dtype = kFloat64});
          Tensor dh = contiguous_raw(dh_n[d], true), dc = lstm ? contiguous_raw(dc_n[d], true) : Tensor();
          const double *A = p<double>(saved[d].gates), *C = p<double>(saved[d].cells), *HN = p<double>(saved[d].hn);
          const double *Y = p<double>(y) + d * H, *DY = p<double>(dy) + d * H;
          for (int64_t s = T - 1; s >= 0; --s) {
            const int64_t t = reverse ? T - 1 - s : s, tp = reverse ? t + 1 : t - 1;
            for (int64_t e = 0; e < N * H; ++e) {
              const int64_t n = e / H, j = e % H;
              const double* a = A + (t * N + n) * GH;
              const double dht = p<double>(dh)[e] + DY[(t * N + n) * ldy + j];
              double* gi = p<double>(dgi) + (t * N + n) * GH;
              double* gh = p<double>(dgh) + (t * N + n) * GH;
              if (lstm) {
                const double* cp = s > 0 ? C + tp * N * H : p<double>(L.c0[d]);
                const auto r = lstm_cell_backward(a[j], a[H + j], a[2 * H + j], a[3 * H + j], C[t * N * H + e],
                                                  cp ? cp[e] : 0.0, cp != nullptr, dht, p<double>(dc)[e]);
                gi[j] = r.di, gi[H + j] = r.df, gi[2 * H + j] = r.dg, gi[3 * H + j] = r.do_;
                for (int64_t g = 0; g < 4; ++g) gh[g * H + j] = gi[g * H + j];
                p<double>(dc)[e] = r.dc_prev;
              } else {
                const double* hp = s > 0 ? Y + tp * N * ldy : p<double>(L.h0[d]);
                const int64_t ldp = s > 0 ? ldy : H;
                const auto r = gru_cell_backward(a[j], a[H + j], a[2 * H + j], HN[t * N * H + e],
                                                 hp ? hp[n * ldp + j] : 0.0, hp != nullptr, dht);
                gi[j] = r.dr, gi[H + j] = r.dz, gi[2 * H + j] = r.dn;
                gh[j] = r.dr, gh[H + j] = r.dz, gh[2 * H + j] = r.dn_hidden;
                p<double>(dh)[e] = r.dh_prev;
              }
            }
            plain_gemm<double>(false, false, N, H, GH, p<double>(dgh) + t * N * GH, GH, p<double>(L.w[d].w_hh), H,
                               !lstm, p<double>(dh), H);
          }
          EXPECT_TRUE(fm::testing::close(dh, ref[d].dh0, 1e-10, 1e-12)) << L.what << ": dh0 " << d;
          if (lstm) {
            EXPECT_TRUE(fm::testing::close(dc, ref[d].dc0, 1e-10, 1e-12)) << L.what << ": dc0 " << d;
          }
          plain_gemm<double>(false, false, T * N, I, GH, p<double>(dgi), GH, p<double>(L.w[d].w_ih), I, true,
                             p<double>(dx_e), I);
          Tensor db_ih = zeros({GH}, {.dtype = kFloat64}), db_hh = zeros({GH}, {.dtype = kFloat64});
          for (int64_t r = 0; r < T * N; ++r)
            for (int64_t j = 0; j < GH; ++j) {
              p<double>(db_ih)[j] += p<double>(dgi)[r * GH + j];
              p<double>(db_hh)[j] += p<double>(dgh)[r * GH + j];
            }
          EXPECT_TRUE(fm::testing::close(db_ih, ref[d].db_ih, 1e-10, 1e-12)) << L.what << ": db_ih " << d;
          EXPECT_TRUE(fm::testing::close(db_hh, ref[d].db_hh, 1e-10, 1e-12)) << L.what << ": db_hh " << d;
        }
        EXPECT_TRUE(fm::testing::close(dx_e, dx, 1e-10, 1e-12)) << L.what << ": dx";
      }
}

}  // namespace
