// CUDA dropout against the CPU kernel: for the same (seed, base) the mask is the same bit for
// bit, and so is the output, at sizes that end in a partial Philox block, p in {0, 0.1, 0.5},
// strided and misaligned inputs, Philox counters past 2^32, both variants (label gpu).
#include "cuda_parity.h"
#include "kernels/dropout.h"

using namespace fm;
using namespace fm::cuda_test;

namespace {

::testing::AssertionResult bit_equal(const Tensor& a, const Tensor& ref) {
  if (a.sizes() != ref.sizes())
    return ::testing::AssertionFailure() << "shape " << shape_str(a.sizes()) << ", expected " << shape_str(ref.sizes());
  const std::vector<double> x = to(a, Device::cpu()).to_vector<double>();
  const std::vector<double> r = to(ref, Device::cpu()).to_vector<double>();
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < r.size(); ++i)
    if (!(x[i] == r[i] || (std::isnan(x[i]) && std::isnan(r[i]))) && bad++ == 0) first = i;
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << r.size() << " elements differ; first at flat index "
                                       << first << ": got " << x[first] << ", expected " << r[first];
}

// One element past a fresh allocation: contiguous, but not 16-byte aligned.
Tensor misaligned_cuda(const Tensor& x) {
  NoGradGuard ng;
  Tensor buf = to(zeros({x.numel() + 1}, {.dtype = x.dtype()}), Device::cuda());
  Tensor v = reshape(slice(buf, 0, 1, x.numel() + 1), x.sizes());
  copy_(v, to(x, Device::cuda()));
  return v;
}

}  // namespace

class CudaDropout : public CudaParity {};

TEST_P(CudaDropout, MaskAndOutputEqualCpu) {
  const std::vector<Shape> shapes = {{1}, {3}, {5}, {7, 13}, {1023}, {4097}, {3, 5, 67}, {101, 333}};
  for (DType dt : {kFloat32, kFloat64}) {
    for (double p : {0.0, 0.1, 0.5}) {
      for (const Shape& shape : shapes) {
        for (int layout : {0, 1, 2, 3}) {
          const uint64_t seed = fresh_seed();
          // a base past 2^32 checks that the counter's high word reaches the device
          const uint64_t base = layout == 1 ? (uint64_t{1} << 32) - 3 : seed % 100000;
          const std::string what = "dropout p " + std::to_string(p) + " " + shape_str(shape) + " " +
                                   std::string(dtype_name(dt)) + " layout " + std::to_string(layout) + " base " +
                                   std::to_string(base);
          const Tensor x = random_cpu(shape, dt, seed);
          const auto [y, mask] = kernels::dropout(x, p, seed, base);
          const Tensor xg = layout == 3 ? misaligned_cuda(x) : to_cuda(x, layout);
          const auto [yg, maskg] = kernels::dropout(xg, p, seed, base);
          ASSERT_TRUE(yg.device().is_cuda() && maskg.device().is_cuda()) << what;
          EXPECT_TRUE(bit_equal(maskg, mask)) << what << " mask, seed " << seed;
          EXPECT_TRUE(bit_equal(yg, y)) << what << " output, seed " << seed;
        }
      }
    }
  }
}

TEST_P(CudaDropout, KeepsAboutOneMinusP) {
  const uint64_t seed = fresh_seed();
  const Tensor x = to_cuda(ones({100003}), 0);
  const auto [y, mask] = kernels::dropout(x, 0.3, seed, 0);
  int64_t kept = 0;
  for (float m : to(mask, Device::cpu()).to_vector<float>()) kept += m != 0;
  EXPECT_NEAR(static_cast<double>(kept) / 100003, 0.7, 0.01) << "seed " << seed;
  EXPECT_THROW(kernels::dropout(x, 1.0, seed, 0), Error);
}

FM_CUDA_PARITY_SUITE(CudaDropout);
