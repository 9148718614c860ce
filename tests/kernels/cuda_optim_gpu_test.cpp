// CUDA optimizer steps against the CPU kernels: several steps in a row from the same start, with
// fresh gradients each step (strided on the GPU side), comparing the parameter and every state
// after each step. Adam with amsgrad on and off, AdamW's decoupled decay, maximize; SGD with
// momentum, dampening, nesterov; RMSprop plain, centered, with momentum. Odd sizes (scalar
// tails of the 16-byte packs), a misaligned parameter, float32 and float64, both variants
// (label gpu).
#include <algorithm>
#include <cmath>

#include "cuda_parity.h"
#include "kernels/optim.h"

using namespace fm;
using namespace fm::cuda_test;

namespace {

const std::vector<int64_t> kSizes = {1, 7, 1023, 4099, 100003};
constexpr int kSteps = 5;

// A contiguous CUDA copy of x starting one element past an allocation (16-byte alignment lost),
// or a plain copy.
Tensor state_cuda(const Tensor& x, bool misaligned) {
  NoGradGuard ng;
  if (!misaligned) return to(contiguous(x), Device::cuda());
  Tensor buf = to(zeros({x.numel() + 1}, {.dtype = x.dtype()}), Device::cuda());
  Tensor v = reshape(slice(buf, 0, 1, x.numel() + 1), x.sizes());
  copy_(v, to(x, Device::cuda()));
  EXPECT_TRUE(v.is_contiguous());
  return v;
}

// The CPU state and its CUDA twin (undefined when the update does not use the state).
struct Pair {
  Tensor cpu, gpu;
};
Pair state(const Tensor& init, bool used, bool misaligned = false) {
  if (!used) return {};
  return {clone(init), state_cuda(init, misaligned)};
}

// Float32 updates differ by a rounding here and there (nvcc fuses multiply-adds), which a few
// steps carry forward without growing.
double rtol(DType dt) { return dt == kFloat32 ? 2e-5 : 1e-11; }
double atol(DType dt) { return dt == kFloat32 ? 2e-6 : 1e-13; }

void expect_states_close(const std::vector<std::pair<const char*, Pair*>>& states, DType dt, uint64_t seed,
                         const std::string& what) {
  for (const auto& [name, s] : states) {
    if (!s->cpu.defined()) continue;
    // a state of size ~10 (RMSprop's momentum of g / sqrt(avg)) that cancels to near zero in
    // places keeps the absolute rounding of its size there
    double scale = 1;
    for (double v : s->cpu.to_vector<double>()) scale = std::max(scale, std::abs(v));
    EXPECT_CUDA_CLOSE(s->gpu, s->cpu, rtol(dt), atol(dt) * scale, seed, what + " " + name);
  }
}

std::string describe(const char* op, int64_t n, DType dt, int step, int config) {
  return std::string(op) + " config " + std::to_string(config) + " n " + std::to_string(n) + " " +
         std::string(dtype_name(dt)) + " step " + std::to_string(step);
}

}  // namespace

class CudaOptim : public CudaParity {};

TEST_P(CudaOptim, AdamStepsMatchCpu) {
  struct Config {
    bool amsgrad, decoupled, maximize;
    double weight_decay;
  };
  const std::vector<Config> configs = {
      {false, false, false, 0.0}, {true, false, false, 0.0}, {false, false, false, 0.01},
      {false, true, false, 0.05}, {true, true, true, 0.01}, {false, false, true, 0.0},
  };
  for (DType dt : {kFloat32, kFloat64}) {
    for (size_t ci = 0; ci < configs.size(); ++ci) {
      const Config& c = configs[ci];
      for (int64_t n : kSizes) {
        const uint64_t seed = fresh_seed();
        const bool misaligned = n == 4099 && ci % 2 == 1;
        Pair p = state(random_cpu({n}, dt, seed), true, misaligned);
        Pair m = state(zeros({n}, {.dtype = dt}), true), v = state(zeros({n}, {.dtype = dt}), true);
        Pair vmax = state(zeros({n}, {.dtype = dt}), c.amsgrad);
        for (int step = 1; step <= kSteps; ++step) {
          const Tensor g = random_cpu({n}, dt, seed + static_cast<uint64_t>(step));
          const kernels::AdamHyper h{.lr = 1e-2,
                                     .beta1 = 0.9,
                                     .beta2 = 0.999,
                                     .eps = 1e-8,
                                     .weight_decay = c.weight_decay,
                                     .step = step,
                                     .amsgrad = c.amsgrad,
                                     .decoupled = c.decoupled,
                                     .maximize = c.maximize};
          kernels::adam_step(p.cpu, g, m.cpu, v.cpu, vmax.cpu, h);
          kernels::adam_step(p.gpu, to_cuda(g, 2), m.gpu, v.gpu, vmax.gpu, h);
          expect_states_close({{"param", &p}, {"exp_avg", &m}, {"exp_avg_sq", &v}, {"max_exp_avg_sq", &vmax}}, dt,
                              seed, describe("adam", n, dt, step, static_cast<int>(ci)));
        }
      }
    }
  }
}

TEST_P(CudaOptim, SgdStepsMatchCpu) {
  struct Config {
    double momentum, dampening, weight_decay;
    bool nesterov, maximize;
  };
  const std::vector<Config> configs = {
      {0.0, 0.0, 0.0, false, false},  {0.0, 0.0, 0.01, false, true}, {0.9, 0.0, 0.0, false, false},
      {0.9, 0.1, 0.01, false, false}, {0.9, 0.0, 0.01, true, false}, {0.5, 0.0, 0.0, true, true},
  };
  for (DType dt : {kFloat32, kFloat64}) {
    for (size_t ci = 0; ci < configs.size(); ++ci) {
      const Config& c = configs[ci];
      for (int64_t n : kSizes) {
        const uint64_t seed = fresh_seed();
        const bool misaligned = n == 4099 && ci % 2 == 1;
        Pair p = state(random_cpu({n}, dt, seed), true, misaligned);
        // poisoned-like start: the first step must overwrite the buffer, not read it
        Pair buf = state(full({n}, NAN, {.dtype = dt}), c.momentum != 0);
        for (int step = 1; step <= kSteps; ++step) {
          const Tensor g = random_cpu({n}, dt, seed + static_cast<uint64_t>(step));
          const kernels::SgdHyper h{.lr = 0.05,
                                    .momentum = c.momentum,
                                    .dampening = c.dampening,
                                    .weight_decay = c.weight_decay,
                                    .nesterov = c.nesterov,
                                    .maximize = c.maximize,
                                    .first = step == 1};
          kernels::sgd_step(p.cpu, g, buf.cpu, h);
          kernels::sgd_step(p.gpu, to_cuda(g, 2), buf.gpu, h);
          expect_states_close({{"param", &p}, {"momentum_buffer", &buf}}, dt, seed,
                              describe("sgd", n, dt, step, static_cast<int>(ci)));
        }
      }
    }
  }
}

TEST_P(CudaOptim, RmspropStepsMatchCpu) {
  struct Config {
    bool centered, maximize;
    double momentum, weight_decay;
  };
  const std::vector<Config> configs = {
      {false, false, 0.0, 0.0}, {true, false, 0.0, 0.0}, {false, false, 0.9, 0.01},
      {true, true, 0.9, 0.0},   {true, false, 0.5, 0.01},
  };
  for (DType dt : {kFloat32, kFloat64}) {
    for (size_t ci = 0; ci < configs.size(); ++ci) {
      const Config& c = configs[ci];
      for (int64_t n : kSizes) {
        const uint64_t seed = fresh_seed();
        const bool misaligned = n == 4099 && ci % 2 == 1;
        Pair p = state(random_cpu({n}, dt, seed), true, misaligned);
        Pair sq = state(zeros({n}, {.dtype = dt}), true);
        Pair gavg = state(zeros({n}, {.dtype = dt}), c.centered);
        Pair buf = state(zeros({n}, {.dtype = dt}), c.momentum > 0);
        for (int step = 1; step <= kSteps; ++step) {
          const Tensor g = random_cpu({n}, dt, seed + static_cast<uint64_t>(step));
          const kernels::RmspropHyper h{.lr = 1e-2,
                                        .alpha = 0.99,
                                        .eps = 1e-8,
                                        .weight_decay = c.weight_decay,
                                        .momentum = c.momentum,
                                        .centered = c.centered,
                                        .maximize = c.maximize};
          kernels::rmsprop_step(p.cpu, g, sq.cpu, gavg.cpu, buf.cpu, h);
          kernels::rmsprop_step(p.gpu, to_cuda(g, 2), sq.gpu, gavg.gpu, buf.gpu, h);
          expect_states_close({{"param", &p}, {"square_avg", &sq}, {"grad_avg", &gavg}, {"momentum_buffer", &buf}},
                              dt, seed, describe("rmsprop", n, dt, step, static_cast<int>(ci)));
        }
      }
    }
  }
}

TEST_P(CudaOptim, RejectsStateOnAnotherDeviceNamingTheOp) {
  const Tensor p = to_cuda(random_cpu({9}, kFloat32, 3), 0);
  const Tensor m = zeros({9}), v = to_cuda(zeros({9}), 0);
  const kernels::AdamHyper h{.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0, .step = 1,
                             .amsgrad = false, .decoupled = false, .maximize = false};
  try {
    kernels::adam_step(p, to_cuda(random_cpu({9}, kFloat32, 4), 0), m, v, Tensor(), h);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("adam"), std::string::npos) << e.what();
  }
}

FM_CUDA_PARITY_SUITE(CudaOptim);
