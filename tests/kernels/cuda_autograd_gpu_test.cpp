// A small model's forward and backward pass run on CUDA through autograd (matmul, bias add,
// relu, log_softmax, mean) and compared with the same pass on the CPU: the CUDA kernels
// working together, including the ones only backward passes call (where, sum_to, transposed
// matmuls). Label gpu.
#include <array>

#include "cuda_parity.h"

using namespace fm;
using namespace fm::cuda_test;

class CudaAutograd : public CudaParity {};

TEST_P(CudaAutograd, MlpForwardAndBackwardMatchCpu) {
  for (DType dt : {kFloat32, kFloat64}) {
    const uint64_t seed = fresh_seed();
    const Tensor x0 = random_cpu({33, 17}, dt, seed), w0 = random_cpu({17, 9}, dt, seed + 1, -0.5, 0.5);
    const Tensor b0 = random_cpu({9}, dt, seed + 2), t0 = random_cpu({33, 9}, dt, seed + 3);
    auto run = [&](Device d) {
      Tensor w = to(w0, d).detach(), b = to(b0, d).detach();
      w.requires_grad_();
      b.requires_grad_();
      const Tensor h = relu(add(matmul(to(x0, d), w), b));
      const Tensor loss = mean(mul(log_softmax(h, -1), to(t0, d)));
      loss.backward();
      return std::array<Tensor, 3>{loss.detach(), w.grad(), b.grad()};
    };
    const auto cpu = run(Device::cpu());
    const auto gpu = run(Device::cuda());
    const char* names[] = {"loss", "grad w", "grad b"};
    for (int k = 0; k < 3; ++k) {
      ASSERT_TRUE(gpu[k].defined()) << names[k];
      EXPECT_EQ(gpu[k].device(), Device::cuda()) << names[k];
      EXPECT_CUDA_CLOSE(gpu[k], cpu[k], dt == kFloat32 ? 1e-4 : 1e-10, dt == kFloat32 ? 1e-6 : 1e-13, seed,
                        std::string(names[k]) + " " + std::string(dtype_name(dt)));
    }
  }
}

FM_CUDA_PARITY_SUITE(CudaAutograd);
