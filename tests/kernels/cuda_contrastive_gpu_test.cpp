// CUDA fused NT-Xent (kernels/contrastive.h) against the CPU kernels: odd N and D, one pair,
// sizes across several 32-row tiles and 32-feature steps, a zero row (clamped norm), strided z,
// float32 and float64, both variants (label gpu); and nn::nt_xent_loss's value and gradient on
// CUDA against the CPU.
#include "cuda_parity.h"
#include "kernels/contrastive.h"
#include "layers/loss.h"

using namespace fm;
using namespace fm::cuda_test;

class CudaContrastive : public CudaParity {};

TEST_P(CudaContrastive, ForwardAndBackwardMatchCpu) {
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{1, 1}, {1, 7}, {3, 5}, {17, 33}, {45, 129}, {70, 16}};
  for (DType dt : {kFloat32, kFloat64})
    for (const auto& [N, D] : shapes)
      for (double tau : {0.1, 0.5})
        for (int layout : {0, 1, 2}) {
          const uint64_t seed = fresh_seed();
          const std::string what = "nt_xent [" + std::to_string(2 * N) + ", " + std::to_string(D) + "] " +
                                   std::string(dtype_name(dt)) + " tau " + std::to_string(tau) + " layout " +
                                   std::to_string(layout);
          Tensor z = random_cpu({2 * N, D}, dt, seed, -2, 2);
          if (N == 17) {
            NoGradGuard ng;
            fill_(select(z, 0, 5), 0.0);  // clamped norm
          }
          const auto [loss, lse, inv] = kernels::nt_xent_forward(z, tau);
          const auto [loss_g, lse_g, inv_g] = kernels::nt_xent_forward(to_cuda(z, layout), tau);
          ASSERT_TRUE(loss_g.device().is_cuda() && lse_g.device().is_cuda() && inv_g.device().is_cuda()) << what;
          // float32: the tiles accumulate in float, the CPU in double
          const double rtol = dt == kFloat32 ? 1e-4 : 1e-10, atol = dt == kFloat32 ? 1e-4 : 1e-11;
          EXPECT_CUDA_CLOSE(inv_g, inv, rtol, atol, seed, what + " inv_norms");
          EXPECT_CUDA_CLOSE(lse_g, lse, rtol, atol, seed, what + " lse");
          EXPECT_CUDA_CLOSE(loss_g, loss, rtol, atol, seed, what + " loss");

          const Tensor g = random_cpu({}, dt, seed + 1, 0.5, 2);
          const Tensor dz = kernels::nt_xent_backward(z, lse, inv, tau, g);
          const Tensor dz_g =
              kernels::nt_xent_backward(to_cuda(z, 2 - layout), to_cuda(lse, 0), to_cuda(inv, 0), tau, to_cuda(g, 0));
          ASSERT_TRUE(dz_g.device().is_cuda()) << what;
          // per row, at the row's own size: the clamped row's gradient is ~1e12 times the others'
          // and would swamp one tolerance for the whole matrix
          for (int64_t r = 0; r < 2 * N; ++r) {
            const Tensor ref = select(dz, 0, r);
            const double scale = std::max(1.0, cuda_test::rel_err(ref, zeros_like(ref)));  // ||dz_r||
            EXPECT_CUDA_CLOSE(select(dz_g, 0, r), ref, rtol, atol * scale, seed,
                              what + " backward row " + std::to_string(r));
          }
        }
}

TEST_P(CudaContrastive, NnNtXentOnCudaMatchesCpu) {
  for (DType dt : {kFloat32, kFloat64})
    for (int64_t N : {1, 9, 40}) {
      const uint64_t seed = fresh_seed();
      const int64_t D = 11;
      const Tensor a = random_cpu({N, D}, dt, seed), b = random_cpu({N, D}, dt, seed + 1);
      auto run = [&](Device d) {
        Tensor x1 = to(a, d), x2 = to(b, d);
        x1.requires_grad_(true);
        x2.requires_grad_(true);
        Tensor l = nn::nt_xent_loss(x1, x2, 0.2);
        l.backward();
        return std::tuple{to(l.detach(), Device::cpu()), to(x1.grad(), Device::cpu()), to(x2.grad(), Device::cpu())};
      };
      const auto [l_cpu, g1_cpu, g2_cpu] = run(Device::cpu());
      const auto [l_gpu, g1_gpu, g2_gpu] = run(Device::cuda());
      const std::string what = "nt_xent_loss N " + std::to_string(N) + " " + std::string(dtype_name(dt));
      const double rtol = dt == kFloat32 ? 1e-4 : 1e-10, atol = dt == kFloat32 ? 1e-5 : 1e-11;
      EXPECT_CUDA_CLOSE(l_gpu, l_cpu, rtol, atol, seed, what);
      EXPECT_CUDA_CLOSE(g1_gpu, g1_cpu, rtol, atol, seed, what + " grad z1");
      EXPECT_CUDA_CLOSE(g2_gpu, g2_cpu, rtol, atol, seed, what + " grad z2");
    }
}

TEST_P(CudaContrastive, RejectsOddRowsNamingTheOp) {
  const Tensor z = to_cuda(random_cpu({3, 4}, kFloat32, 1), 0);
  EXPECT_THROW_MSG(kernels::nt_xent_forward(z, 0.5), "nt_xent_loss");
}

FM_CUDA_PARITY_SUITE(CudaContrastive);
