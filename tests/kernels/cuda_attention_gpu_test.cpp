// CUDA fused attention (kernels/cuda/attention.cu) against the CPU reference (kernels/cpu/
// attention.cpp): forward (out, lse) and backward (dq, dk, dv), both variants (v2's tiled
// forward for float32 with head dims 64 and 128; odd head dims run v1), causal, key padding,
// L != S, odd lengths, float32 and float64, strided inputs, poisoned allocations (label gpu).
#include "cuda_parity.h"
#include "kernels/attention.h"

using namespace fm;
using namespace fm::cuda_test;

class CudaAttention : public CudaParity {};

namespace {

// [B, S] bool: every third key masked from key 1 on (key 0 stays, so no causal row is empty)
Tensor padding(int64_t B, int64_t S) {
  std::vector<int64_t> m(static_cast<size_t>(B * S));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < S; ++j) m[static_cast<size_t>(b * S + j)] = j > 0 && (j + b) % 3 == 0;
  return ne(from_vector(m, {B, S}), 0.0);
}

}  // namespace

TEST_P(CudaAttention, ForwardAndBackwardMatchCpu) {
  struct Case {
    int64_t B, L, S, E, Ev;
  };
  const std::vector<Case> cases = {{3, 37, 53, 64, 64}, {2, 130, 130, 128, 128}, {2, 65, 31, 64, 64},
                                   {4, 1, 5, 128, 128}, {2, 29, 41, 13, 7},     {1, 100, 100, 64, 32}};
  for (DType dt : {kFloat32, kFloat64}) {
    for (const Case& c : cases) {
      for (bool causal : {false, true}) {
        for (bool pad : {false, true}) {
          const uint64_t seed = fresh_seed();
          const std::string what = std::string(dtype_name(dt)) + " B " + std::to_string(c.B) + " L " +
                                   std::to_string(c.L) + " S " + std::to_string(c.S) + " E " + std::to_string(c.E) +
                                   " Ev " + std::to_string(c.Ev) + (causal ? " causal" : "") + (pad ? " pad" : "");
          const Tensor q = random_cpu({c.B, c.L, c.E}, dt, seed, -1, 1);
          const Tensor k = random_cpu({c.B, c.S, c.E}, dt, seed + 1, -1, 1);
          const Tensor v = random_cpu({c.B, c.S, c.Ev}, dt, seed + 2);
          const Tensor g = random_cpu({c.B, c.L, c.Ev}, dt, seed + 3);
          const Tensor m = pad ? padding(c.B, c.S) : Tensor();
          const double scale = 1.0 / std::sqrt(double(c.E)) * 2;
          const auto [out, lse] = kernels::flash_attention_forward(q, k, v, scale, causal, m);
          const int layout = static_cast<int>(seed % 2);  // contiguous or a transposed view
          const Tensor mg = pad ? to(m, Device::cuda()) : Tensor();
          const auto [outg, lseg] = kernels::flash_attention_forward(to_cuda(q, layout), to_cuda(k, 0),
                                                                     to_cuda(v, layout), scale, causal, mg);
          const double rtol = dt == kFloat32 ? 1e-4 : 1e-10, atol = dt == kFloat32 ? 1e-5 : 1e-12;
          EXPECT_CUDA_CLOSE(outg, out, rtol, atol, seed, what + " out");
          EXPECT_CUDA_CLOSE(lseg, lse, rtol, atol, seed, what + " lse");
          // backward at the CPU forward's results, so both sides see the same out and lse
          const auto [dq, dk, dv] = kernels::flash_attention_backward(q, k, v, out, lse, g, scale, causal, m);
          const auto [dqg, dkg, dvg] =
              kernels::flash_attention_backward(to_cuda(q, 0), to_cuda(k, layout), to_cuda(v, 0), to_cuda(out, 0),
                                                to_cuda(lse, 0), to_cuda(g, layout), scale, causal, mg);
          const double brtol = dt == kFloat32 ? 1e-3 : 1e-9, batol = dt == kFloat32 ? 1e-4 : 1e-11;
          EXPECT_CUDA_CLOSE(dqg, dq, brtol, batol, seed, what + " dq");
          EXPECT_CUDA_CLOSE(dkg, dk, brtol, batol, seed, what + " dk");
          EXPECT_CUDA_CLOSE(dvg, dv, brtol, batol, seed, what + " dv");
        }
      }
    }
  }
}

TEST_P(CudaAttention, AllMaskedRowsGiveNaNAsOnTheCpu) {
  for (int64_t E : {64, 5}) {
    const Tensor q = random_cpu({1, 70, E}, kFloat32, 1), k = random_cpu({1, 70, E}, kFloat32, 2),
                 v = random_cpu({1, 70, E}, kFloat32, 3);
    const Tensor m = ne(from_vector(std::vector<int64_t>(70, 0), {1, 70}), 0.0);
    copy_(select(select(m, 0, 0), 0, 0), full({}, 1.0, {.dtype = DType::Bool}));  // key 0: query 0 sees nothing
    const auto [out, lse] = kernels::flash_attention_forward(q, k, v, 0.125, true, m);
    const auto [outg, lseg] =
        kernels::flash_attention_forward(to_cuda(q, 0), to_cuda(k, 0), to_cuda(v, 0), 0.125, true, to(m, Device::cuda()));
    EXPECT_EQ(count_nonfinite(outg), E);
    EXPECT_CUDA_CLOSE(outg, out, 1e-4, 1e-5, 0, "masked row, E " + std::to_string(E));
    EXPECT_CUDA_CLOSE(lseg, lse, 1e-4, 1e-5, 0, "masked row lse");
  }
}

FM_CUDA_PARITY_SUITE(CudaAttention);
