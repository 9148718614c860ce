// CUDA LSTM/GRU (kernels/rnn.h) against the CPU kernels: rnn_forward (outputs, final states and
// every saved tensor) and rnn_backward (input, state and weight gradients) for both modes, one
// and two directions, with and without biases and initial states, at odd sizes, float32 and
// float64, both variants (v2's float32 forward is the persistent kernel where it fits, v1
// otherwise: N = 65 is over its batch limit); then nn::LSTM / nn::GRU (bidirectional, 2 layers)
// forward and backward end to end on CUDA. Label gpu.
#include "cuda_parity.h"
#ifdef FERMATA_WITH_CUDA
#include "kernels/cuda/launch.h"
#include "kernels/cuda/rnn_plan.h"
#include "tensor/cuda_runtime.h"
#endif
#include "kernels/rnn.h"
#include "layers/rnn.h"

using namespace fm;
using namespace fm::cuda_test;
using fm::kernels::RnnMode;
using fm::kernels::RnnWeights;

namespace {

// Relative L2 tolerances: the float32 recurrences sum in other orders (cuBLAS, the persistent
// kernel's lanes) and use other sigmoid/tanh roundings than the CPU's vectorised ones.
double fwd_tol(DType dt) { return dt == kFloat32 ? 1e-4 : 1e-10; }
double bwd_tol(DType dt) { return dt == kFloat32 ? 5e-4 : 1e-10; }

Tensor cuda_of(const Tensor& t) { return t.defined() ? to_cuda(t, 0) : Tensor(); }

std::vector<Tensor> cuda_of(const std::vector<Tensor>& ts) {
  std::vector<Tensor> r;
  for (const Tensor& t : ts) r.push_back(cuda_of(t));
  return r;
}

std::vector<RnnWeights> cuda_of(const std::vector<RnnWeights>& ws) {
  std::vector<RnnWeights> r;
  for (const RnnWeights& w : ws) r.push_back({cuda_of(w.w_ih), cuda_of(w.w_hh), cuda_of(w.b_ih), cuda_of(w.b_hh)});
  return r;
}

void expect_both_or_neither(const Tensor& g, const Tensor& c, const std::string& what) {
  EXPECT_EQ(g.defined(), c.defined()) << what;
}

}  // namespace

class CudaRnn : public CudaParity {};

TEST_P(CudaRnn, ForwardAndBackwardMatchCpu) {
  struct Size {
    int64_t T, N, H, I;
  };
  const std::vector<Size> sizes = {{1, 1, 1, 5},    {7, 3, 31, 40},  {33, 16, 128, 5}, {7, 1, 256, 40},
                                   {33, 3, 1, 40},  {1, 16, 31, 5},  {7, 16, 256, 5},  {33, 1, 128, 40},
                                   {5, 65, 31, 5}};
  for (DType dt : {kFloat32, kFloat64})
    for (RnnMode mode : {RnnMode::LSTM, RnnMode::GRU})
      for (int64_t D : {1, 2})
        for (int flags = 0; flags < 4; ++flags)
          for (const Size& z : sizes) {
            const bool bias = (flags & 1) == 0, states = (flags & 2) != 0, lstm = mode == RnnMode::LSTM;
            const uint64_t seed = fresh_seed();
            const int64_t T = z.T, N = z.N, H = z.H, I = z.I, GH = kernels::rnn_gates(mode) * H;
            const std::string what = std::string(lstm ? "LSTM" : "GRU") + " T " + std::to_string(T) + " N " +
                                     std::to_string(N) + " H " + std::to_string(H) + " in " + std::to_string(I) +
                                     " D " + std::to_string(D) + (bias ? " bias" : " no bias") +
                                     (states ? " h0/c0" : "") + " " + std::string(dtype_name(dt));
            const double k = 1 / std::sqrt(static_cast<double>(H));
            const Tensor x = random_cpu({T, N, I}, dt, seed, -1, 1);
            std::vector<RnnWeights> w;
            std::vector<Tensor> h0, c0, dh_n, dc_n;
            for (int64_t d = 0; d < D; ++d) {
              const uint64_t s = seed + 16 * (d + 1);
              RnnWeights wd{random_cpu({GH, I}, dt, s + 1, -k, k), random_cpu({GH, H}, dt, s + 2, -k, k), Tensor(),
                            Tensor()};
              if (bias) wd.b_ih = random_cpu({GH}, dt, s + 3, -k, k), wd.b_hh = random_cpu({GH}, dt, s + 4, -k, k);
              w.push_back(wd);
              h0.push_back(states ? random_cpu({N, H}, dt, s + 5, -1, 1) : Tensor());
              c0.push_back(states && lstm ? random_cpu({N, H}, dt, s + 6, -1, 1) : Tensor());
              // final-state gradients: given for direction 0 only when the layer has initial states
              dh_n.push_back(d == 0 || states ? random_cpu({N, H}, dt, s + 7, -1, 1) : Tensor());
              dc_n.push_back(lstm && (d == 1 || states) ? random_cpu({N, H}, dt, s + 8, -1, 1) : Tensor());
            }
            const Tensor y = empty({T, N, D * H}, {.dtype = dt});
            const auto fc = kernels::rnn_forward(mode, x, w, h0, c0, y);
            const Tensor xg = cuda_of(x), yg = empty({T, N, D * H}, {.dtype = dt, .device = Device::cuda()});
            const std::vector<RnnWeights> wg = cuda_of(w);
            const std::vector<Tensor> h0g = cuda_of(h0), c0g = cuda_of(c0);
            const auto fg = kernels::rnn_forward(mode, xg, wg, h0g, c0g, yg);
            ASSERT_EQ(fg.size(), static_cast<size_t>(D)) << what;
            EXPECT_CUDA_MATCHES(yg, y, fwd_tol(dt), seed, what + ": y");
            for (int64_t d = 0; d < D; ++d) {
              const std::string wd = what + " direction " + std::to_string(d);
              EXPECT_EQ(fg[d].h_n.device(), Device::cuda()) << wd;
              EXPECT_CUDA_MATCHES(fg[d].h_n, fc[d].h_n, fwd_tol(dt), seed, wd + ": h_n");
              EXPECT_CUDA_MATCHES(fg[d].saved.gates, fc[d].saved.gates, fwd_tol(dt), seed, wd + ": saved gates");
              if (lstm) {
                EXPECT_CUDA_MATCHES(fg[d].c_n, fc[d].c_n, fwd_tol(dt), seed, wd + ": c_n");
                EXPECT_CUDA_MATCHES(fg[d].saved.cells, fc[d].saved.cells, fwd_tol(dt), seed, wd + ": saved cells");
              } else {
                EXPECT_FALSE(fg[d].c_n.defined()) << wd;
                EXPECT_CUDA_MATCHES(fg[d].saved.hn, fc[d].saved.hn, fwd_tol(dt), seed, wd + ": saved hn");
              }
            }

            // backward, each side from its own forward
            const Tensor dy = random_cpu({T, N, D * H}, dt, seed + 3, -1, 1);
            std::vector<kernels::RnnSaved> sc, sg;
            for (int64_t d = 0; d < D; ++d) sc.push_back(fc[d].saved), sg.push_back(fg[d].saved);
            // direction 1 of a two-direction layer without initial states skips its weights
            std::vector<bool> need(static_cast<size_t>(D), true);
            if (D == 2 && !states) need[1] = false;
            const Tensor dx = empty({T, N, I}, {.dtype = dt});
            const Tensor dxg = empty({T, N, I}, {.dtype = dt, .device = Device::cuda()});
            const auto bc = kernels::rnn_backward(mode, x, w, h0, c0, y, sc, dy, dh_n, dc_n, dx, need);
            const auto bg = kernels::rnn_backward(mode, xg, wg, h0g, c0g, yg, sg, cuda_of(dy), cuda_of(dh_n),
                                                  cuda_of(dc_n), dxg, need);
            ASSERT_EQ(bg.size(), static_cast<size_t>(D)) << what;
            EXPECT_CUDA_MATCHES(dxg, dx, bwd_tol(dt), seed, what + ": dx");
            for (int64_t d = 0; d < D; ++d) {
              const std::string wd = what + " direction " + std::to_string(d);
              const auto &gc = bc[d], &gg = bg[d];
              EXPECT_CUDA_MATCHES(gg.dh0, gc.dh0, bwd_tol(dt), seed, wd + ": dh0");
              if (lstm) EXPECT_CUDA_MATCHES(gg.dc0, gc.dc0, bwd_tol(dt), seed, wd + ": dc0");
              const std::pair<const Tensor*, const Tensor*> grads[] = {
                  {&gg.dw_ih, &gc.dw_ih}, {&gg.dw_hh, &gc.dw_hh}, {&gg.db_ih, &gc.db_ih}, {&gg.db_hh, &gc.db_hh}};
              const char* names[] = {"dw_ih", "dw_hh", "db_ih", "db_hh"};
              for (int q = 0; q < 4; ++q) {
                expect_both_or_neither(*grads[q].first, *grads[q].second, wd + ": " + names[q]);
                if (grads[q].second->defined() && grads[q].first->defined())
                  EXPECT_CUDA_MATCHES(*grads[q].first, *grads[q].second, bwd_tol(dt), seed, wd + ": " + names[q]);
              }
              EXPECT_EQ(gg.dw_ih.defined(), static_cast<bool>(need[d])) << wd;
            }
          }
}

// Without dx the input gradient is skipped; the state and weight gradients are unchanged.
#ifdef FERMATA_WITH_CUDA
// v2's persistent kernel must really run on the device the parity tests use: a plan that falls
// back to v1 everywhere (occupancy 0, the shared-memory attribute refused) would let the v2
// cases above pass without testing it.
TEST(CudaRnnPlan, PersistentKernelIsUsedForSmallBatches) {
  FM_SKIP_WITHOUT_GPU();
  const cudaDeviceProp& prop = cuda_device_properties(0);
  const kernels::cuda::RnnDeviceInfo info{.sms = prop.multiProcessorCount,
                                          .smem_per_block_optin = static_cast<int64_t>(prop.sharedMemPerBlockOptin),
                                          .cooperative = prop.cooperativeLaunch != 0};
  for (int64_t G : {int64_t{4}, int64_t{3}}) {
    const auto plan = kernels::cuda::rnn_forward_plan(G, 7, 16, 256, 2, true, true, info);
    EXPECT_EQ(plan.path, kernels::cuda::RnnForwardPath::Persistent) << "G " << G << ": " << plan.why;
    EXPECT_TRUE(kernels::cuda::rnn_persistent_ready(plan, 0)) << "G " << G;
  }
}
#endif

TEST_P(CudaRnn, BackwardWithoutInputGradient) {
  for (RnnMode mode : {RnnMode::LSTM, RnnMode::GRU}) {
    const uint64_t seed = fresh_seed();
    const int64_t T = 9, N = 4, H = 33, I = 7, GH = kernels::rnn_gates(mode) * H;
    const DType dt = kFloat32;
    const Tensor x = random_cpu({T, N, I}, dt, seed, -1, 1);
    const std::vector<RnnWeights> w = {{random_cpu({GH, I}, dt, seed + 1, -0.2, 0.2),
                                        random_cpu({GH, H}, dt, seed + 2, -0.2, 0.2), Tensor(), Tensor()}};
    const std::vector<Tensor> none = {Tensor()};
    const Tensor y = empty({T, N, H}, {.dtype = dt});
    const Tensor yg = empty({T, N, H}, {.dtype = dt, .device = Device::cuda()});
    const auto fc = kernels::rnn_forward(mode, x, w, none, none, y);
    const auto fg = kernels::rnn_forward(mode, cuda_of(x), cuda_of(w), none, none, yg);
    const Tensor dy = random_cpu({T, N, H}, dt, seed + 3, -1, 1);
    const auto bc = kernels::rnn_backward(mode, x, w, none, none, y, {fc[0].saved}, dy, none, none, Tensor(), {true});
    const auto bg = kernels::rnn_backward(mode, cuda_of(x), cuda_of(w), none, none, yg, {fg[0].saved}, cuda_of(dy),
                                          none, none, Tensor(), {true});
    const std::string what = mode == RnnMode::LSTM ? "LSTM" : "GRU";
    EXPECT_CUDA_MATCHES(bg[0].dh0, bc[0].dh0, 5e-4, seed, what + ": dh0");
    EXPECT_CUDA_MATCHES(bg[0].dw_ih, bc[0].dw_ih, 5e-4, seed, what + ": dw_ih");
    EXPECT_CUDA_MATCHES(bg[0].dw_hh, bc[0].dw_hh, 5e-4, seed, what + ": dw_hh");
    EXPECT_FALSE(bg[0].db_ih.defined()) << what;
  }
}

TEST_P(CudaRnn, ErrorsNameTheOpAndDevices) {
  const Tensor x = random_cpu({3, 2, 5}, kFloat32, 1);
  const std::vector<RnnWeights> w = {{random_cpu({16, 5}, kFloat32, 2), random_cpu({16, 4}, kFloat32, 3), Tensor(),
                                      Tensor()}};
  const std::vector<Tensor> none = {Tensor()};
  // weights left on the CPU
  EXPECT_THROW_MSG(kernels::rnn_forward(RnnMode::LSTM, cuda_of(x), w, none, none,
                                        empty({3, 2, 4}, {.device = Device::cuda()})),
                   "rnn_forward: expected every tensor on one CUDA device");
  // a wrong output shape
  EXPECT_THROW_MSG(kernels::rnn_forward(RnnMode::LSTM, cuda_of(x), cuda_of(w), none, none,
                                        empty({3, 2, 5}, {.device = Device::cuda()})),
                   "rnn_forward: output float32[3, 2, 5]");
}

// nn::LSTM and nn::GRU, bidirectional with 2 layers, forward and backward through autograd on
// CUDA against the same modules on the CPU: outputs, final states and every gradient.
TEST_P(CudaRnn, LayersEndToEndMatchCpu) {
  for (DType dt : {kFloat32, kFloat64})
    for (RnnMode mode : {RnnMode::LSTM, RnnMode::GRU}) {
      const bool lstm = mode == RnnMode::LSTM;
      const uint64_t seed = fresh_seed();
      const int64_t T = 11, N = 5, I = 13, H = 40, LD = 4;
      const nn::RNNOptions o{.num_layers = 2, .batch_first = !lstm, .bidirectional = true, .dtype = dt};
      std::unique_ptr<nn::RNNBase> mc, mg;
      if (lstm) mc = std::make_unique<nn::LSTM>(I, H, o), mg = std::make_unique<nn::LSTM>(I, H, o);
      else mc = std::make_unique<nn::GRU>(I, H, o), mg = std::make_unique<nn::GRU>(I, H, o);
      mg->load_state_dict(mc->state_dict());
      mg->to(Device::cuda());
      const Shape xs = lstm ? Shape{T, N, I} : Shape{N, T, I};
      const Tensor x0 = random_cpu(xs, dt, seed, -1, 1), h00 = random_cpu({LD, N, H}, dt, seed + 1, -1, 1);
      const Tensor c00 = random_cpu({LD, N, H}, dt, seed + 2, -1, 1);
      const Tensor gy = random_cpu(lstm ? Shape{T, N, 2 * H} : Shape{N, T, 2 * H}, dt, seed + 3, -1, 1);
      const Tensor gh = random_cpu({LD, N, H}, dt, seed + 4, -1, 1), gcn = random_cpu({LD, N, H}, dt, seed + 5, -1, 1);
      struct Out {
        Tensor y, h_n, c_n, dx, dh0, dc0;
        std::vector<Tensor> grads;
      };
      auto run = [&](nn::RNNBase& m, Device dev) {
        Tensor x = to(x0, dev).detach(), h0 = to(h00, dev).detach(), c0 = to(c00, dev).detach();
        x.requires_grad_();
        h0.requires_grad_();
        c0.requires_grad_();
        Out o;
        Tensor loss;
        if (lstm) {
          auto r = static_cast<nn::LSTM&>(m)(x, {h0, c0});
          o.y = r.output, o.h_n = r.h_n, o.c_n = r.c_n;
          loss = add(add(sum(mul(r.output, to(gy, dev))), sum(mul(r.h_n, to(gh, dev)))),
                     sum(mul(r.c_n, to(gcn, dev))));
        } else {
          auto r = static_cast<nn::GRU&>(m)(x, h0);
          o.y = r.output, o.h_n = r.h_n;
          loss = add(sum(mul(r.output, to(gy, dev))), sum(mul(r.h_n, to(gh, dev))));
        }
        loss.backward();
        o.dx = x.grad(), o.dh0 = h0.grad(), o.dc0 = lstm ? c0.grad() : Tensor();
        for (auto& [name, p] : m.named_parameters()) o.grads.push_back(p.grad());
        return o;
      };
      const Out c = run(*mc, Device::cpu());
      const Out g = run(*mg, Device::cuda());
      const std::string what = std::string(lstm ? "LSTM" : "GRU") + " " + std::string(dtype_name(dt));
      EXPECT_EQ(g.y.device(), Device::cuda()) << what;
      EXPECT_CUDA_MATCHES(g.y, c.y, fwd_tol(dt), seed, what + ": output");
      EXPECT_CUDA_MATCHES(g.h_n, c.h_n, fwd_tol(dt), seed, what + ": h_n");
      if (lstm) EXPECT_CUDA_MATCHES(g.c_n, c.c_n, fwd_tol(dt), seed, what + ": c_n");
      ASSERT_TRUE(g.dx.defined() && g.dh0.defined()) << what;
      EXPECT_EQ(g.dx.device(), Device::cuda()) << what;
      EXPECT_CUDA_MATCHES(g.dx, c.dx, bwd_tol(dt), seed, what + ": x.grad");
      EXPECT_CUDA_MATCHES(g.dh0, c.dh0, bwd_tol(dt), seed, what + ": h0.grad");
      if (lstm) EXPECT_CUDA_MATCHES(g.dc0, c.dc0, bwd_tol(dt), seed, what + ": c0.grad");
      const auto names = mc->named_parameters();
      ASSERT_EQ(g.grads.size(), c.grads.size()) << what;
      for (size_t i = 0; i < c.grads.size(); ++i) {
        ASSERT_TRUE(g.grads[i].defined() && c.grads[i].defined()) << what << ": " << names[i].first;
        EXPECT_EQ(g.grads[i].device(), Device::cuda()) << what << ": " << names[i].first;
        EXPECT_CUDA_MATCHES(g.grads[i], c.grads[i], bwd_tol(dt), seed, what + ": grad of " + names[i].first);
      }
    }
}

FM_CUDA_PARITY_SUITE(CudaRnn);
