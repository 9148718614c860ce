// CUDA fused cross-entropy (kernels/loss.h) against the CPU kernels: short and long rows, many
// and few rows, zero row weights (ignored targets), strided logits, class indices and weights
// on the host or the device, both variants (label gpu); and nn's cross_entropy on CUDA logits.
#include <random>

#include "cuda_parity.h"
#include "kernels/loss.h"

using namespace fm;
using namespace fm::cuda_test;

namespace {

Tensor random_targets(int64_t N, int64_t C, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> v(static_cast<size_t>(N));
  for (int64_t& e : v) e = static_cast<int64_t>(rng() % static_cast<uint64_t>(C));
  return from_vector(v, {N});
}

// Row weights in [0.5, 2), a few of them 0 (ignored rows).
Tensor random_weights(int64_t N, DType dt, uint64_t seed) {
  std::vector<double> v = random_cpu({N}, kFloat64, seed, 0.5, 2).to_vector<double>();
  for (size_t i = 0; i < v.size(); i += 5) v[i] = 0;
  return to(from_vector(v, {N}), dt);
}

}  // namespace

class CudaLoss : public CudaParity {};

TEST_P(CudaLoss, CrossEntropyRowsMatchCpu) {
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{1, 1},    {7, 5},    {33, 129}, {3, 50000},
                                                           {2000, 7}, {5, 1000}, {1, 257}};
  for (DType dt : {kFloat32, kFloat64})
    for (const auto& [N, C] : shapes)
      for (int layout : {0, 1, 2}) {
        const uint64_t seed = fresh_seed();
        const std::string what = "cross_entropy [" + std::to_string(N) + ", " + std::to_string(C) + "] " +
                                 std::string(dtype_name(dt)) + " layout " + std::to_string(layout);
        const Tensor x = random_cpu({N, C}, dt, seed, -8, 8);
        const Tensor t = random_targets(N, C, seed + 1);
        const Tensor wt = random_weights(N, dt, seed + 2);
        const auto [loss, lse] = kernels::cross_entropy_rows(x, t, wt);
        // targets and weights from the host (as layers/loss.cpp passes them) or the device
        const bool host = layout != 1;
        const auto [loss_g, lse_g] =
            kernels::cross_entropy_rows(to_cuda(x, layout), host ? t : to_cuda(t, 0), host ? wt : to_cuda(wt, 0));
        ASSERT_TRUE(loss_g.device().is_cuda() && lse_g.device().is_cuda()) << what;
        // float32: up to 50000 exponentials summed in different orders, the CPU's exp vectorised
        const double rtol = dt == kFloat32 ? 1e-4 : 1e-10, atol = dt == kFloat32 ? 1e-5 : 1e-11;
        EXPECT_CUDA_CLOSE(lse_g, lse, rtol, atol, seed, what + " lse");
        EXPECT_CUDA_CLOSE(loss_g, loss, rtol, atol, seed, what + " loss");

        // backward at the CPU's lse, so that both sides see the same values
        const Tensor g = random_cpu({N}, dt, seed + 3);
        const Tensor gx = kernels::cross_entropy_rows_backward(g, x, t, wt, lse);
        const Tensor gx_g = kernels::cross_entropy_rows_backward(to_cuda(g, 0), to_cuda(x, 2 - layout),
                                                                 host ? t : to_cuda(t, 0), host ? wt : to_cuda(wt, 0),
                                                                 to_cuda(lse, 0));
        EXPECT_CUDA_CLOSE(gx_g, gx, rtol, atol, seed, what + " backward");
      }
}

TEST_P(CudaLoss, RowsOfMinusInfinityAgreeWithCpu) {
  const Tensor x = full({3, 40}, -INFINITY);
  const Tensor t = from_vector(std::vector<int64_t>{0, 5, 39}, {3});
  const Tensor wt = from_vector(std::vector<float>{1, 0, 2}, {3});
  const auto [loss, lse] = kernels::cross_entropy_rows(x, t, wt);
  const auto [loss_g, lse_g] = kernels::cross_entropy_rows(to_cuda(x, 0), t, wt);
  EXPECT_CUDA_CLOSE(lse_g, lse, 0, 0, 0, "lse");
  EXPECT_EQ(count_nonfinite(loss_g), count_nonfinite(loss));
}

TEST_P(CudaLoss, NnCrossEntropyOnCudaLogitsMatchesCpu) {
  for (DType dt : {kFloat32, kFloat64})
    for (const std::string reduction : {"mean", "sum", "none"}) {
      const uint64_t seed = fresh_seed();
      const int64_t N = 37, C = 11;
      const Tensor x = random_cpu({N, C}, dt, seed, -4, 4);
      std::vector<int64_t> tv = random_targets(N, C, seed + 1).to_vector<int64_t>();
      tv[3] = -100;  // ignored
      const Tensor t = from_vector(tv, {N});
      const Tensor w = random_cpu({C}, dt, seed + 2, 0.5, 2);
      auto run = [&](Device d) {
        Tensor xv = to(x, d);
        xv.requires_grad_(true);
        Tensor l = nn::cross_entropy(xv, t, {.weight = to(w, d), .reduction = reduction});
        sum(l).backward();
        return std::pair{to(l.detach(), Device::cpu()), to(xv.grad(), Device::cpu())};
      };
      const auto [l_cpu, g_cpu] = run(Device::cpu());
      const auto [l_gpu, g_gpu] = run(Device::cuda());
      const std::string what = "cross_entropy " + reduction + " " + std::string(dtype_name(dt));
      const double rtol = dt == kFloat32 ? 1e-4 : 1e-10, atol = dt == kFloat32 ? 1e-5 : 1e-11;
      EXPECT_CUDA_CLOSE(l_gpu, l_cpu, rtol, atol, seed, what);
      EXPECT_CUDA_CLOSE(g_gpu, g_cpu, rtol, atol, seed, what + " grad");
    }
}

TEST_P(CudaLoss, RejectsBadShapesNamingTheOp) {
  const Tensor x = to_cuda(random_cpu({4, 5}, kFloat32, 1), 0);
  EXPECT_THROW_MSG(kernels::cross_entropy_rows(x, from_vector(std::vector<int64_t>{0, 1, 2}, {3}),
                                               from_vector(std::vector<float>{1, 1, 1}, {3})),
                   "cross_entropy");
}

FM_CUDA_PARITY_SUITE(CudaLoss);
