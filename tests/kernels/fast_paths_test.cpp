// The float32 fast paths added for speed (vectorised exp/gelu/softmax, blocked float sums,
// the CPU allocator's block cache) against float64 references, at sizes that exercise the
// 16-lane tails and the parallel split, with special values and strided inputs.
#include <cmath>
#include <limits>

#include "support/test_support.h"

namespace fm {
namespace {

Tensor f32(const Tensor& t) { return to(t, DType::Float32); }
Tensor f64(const Tensor& t) { return to(t, DType::Float64); }

Tensor uniform64(const Shape& s, double lo, double hi, uint64_t seed) {
  Generator g(seed);
  return add(mul(rand(s, {.dtype = DType::Float64}, &g), hi - lo), lo);
}

TEST(FastPaths, ExpFloat32MatchesFloat64AtEverySize) {
  for (int64_t n : {1, 15, 16, 17, 33, 1000, 40001}) {
    const Tensor x = f32(uniform64({n}, -87, 88.5, n));
    EXPECT_CLOSE(f64(exp(x)), exp(f64(x)), 4e-7, 0) << "n = " << n;
  }
}

TEST(FastPaths, ExpSpecialValues) {
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor x = from_vector(std::vector<float>{-INFINITY, INFINITY, NAN, -200.f, 200.f, 0.f, -103.f, 88.7f},
                               {8}, {.dtype = DType::Float32});
  const auto y = exp(x).to_vector<float>();
  EXPECT_EQ(y[0], 0.f);
  EXPECT_EQ(y[1], inf);
  EXPECT_TRUE(std::isnan(y[2]));
  EXPECT_EQ(y[3], 0.f);
  EXPECT_EQ(y[4], inf);
  EXPECT_EQ(y[5], 1.f);
  EXPECT_GT(y[6], 0.f);  // subnormal, as expf
  EXPECT_NEAR(y[7] / std::exp(static_cast<double>(88.7f)), 1.0, 3e-7);
}

TEST(FastPaths, GeluFloat32MatchesFloat64) {
  for (int64_t n : {1, 17, 1000, 40001}) {
    const Tensor x = f32(uniform64({n}, -8, 8, n + 1));
    EXPECT_CLOSE(f64(gelu(x)), gelu(f64(x)), 1e-6, 1e-6) << "n = " << n;
  }
}

TEST(FastPaths, StridedInputsGiveTheContiguousResult) {
  const Tensor x = f32(uniform64({37, 41}, -5, 5, 3));
  const Tensor xt = transpose(x, 0, 1);
  EXPECT_TRUE(equal(exp(xt), transpose(exp(x), 0, 1)));
  EXPECT_TRUE(equal(gelu(xt), transpose(gelu(x), 0, 1)));
}

TEST(FastPaths, SoftmaxFloat32MatchesFloat64) {
  for (Shape s : {Shape{1, 1}, Shape{3, 15}, Shape{5, 17}, Shape{40, 1024}, Shape{64, 1000}}) {
    const Tensor x = f32(uniform64(s, -20, 20, s[1]));
    EXPECT_CLOSE(f64(softmax(x, -1)), softmax(f64(x), -1), 1e-5, 1e-7) << shape_str(s);
    EXPECT_CLOSE(f64(log_softmax(x, -1)), log_softmax(f64(x), -1), 1e-5, 1e-5) << shape_str(s);
  }
}

TEST(FastPaths, SoftmaxMaskedRows) {
  // -inf entries get exactly 0; a fully masked row is NaN (as PyTorch), a NaN poisons its row only
  const Tensor x = from_vector(std::vector<float>{0, -INFINITY, 1, -INFINITY, -INFINITY, -INFINITY, 1, NAN, 2},
                               {3, 3}, {.dtype = DType::Float32});
  const auto y = softmax(x, -1).to_vector<float>();
  EXPECT_EQ(y[1], 0.f);
  EXPECT_NEAR(y[0] + y[2], 1.f, 1e-6);
  for (int k = 3; k < 9; ++k) EXPECT_TRUE(std::isnan(y[k])) << k;
}

TEST(FastPaths, Float32SumKeepsDoubleAccuracy) {
  for (int64_t n : {1, 511, 512, 513, 100000, 1000003}) {
    const Tensor x = f32(uniform64({n}, -1, 1, n + 2));
    EXPECT_CLOSE(f64(sum(x)), sum(f64(x)), 1e-6, 1e-6) << "n = " << n;
  }
  const Tensor big = full({3000000}, 0.1, {.dtype = DType::Float32});
  EXPECT_NEAR(sum(big).item<float>(), 3000000 * 0.1f, 1.0);  // float accumulation would drift
  const Tensor m = f32(uniform64({300, 1029}, -1, 1, 5));
  EXPECT_CLOSE(f64(sum(m, {-1})), sum(f64(m), {-1}), 1e-6, 1e-6);
}

TEST(FastPaths, ReusedLargeBlocksAreIndependentTensors) {
  // a freed 8 MB block comes back from the allocator's cache: the new tensor must not alias a
  // live one, and the values written into it are the new ones
  Tensor a = full({2 << 20}, 1.0, {.dtype = DType::Float32});
  const void* pa = a.raw_data();
  a = Tensor();
  Tensor b = full({2 << 20}, 2.0, {.dtype = DType::Float32});
  Tensor c = full({2 << 20}, 3.0, {.dtype = DType::Float32});
  EXPECT_NE(b.raw_data(), c.raw_data());
  EXPECT_EQ(pa, b.raw_data());  // reused
  EXPECT_EQ(sum(b).item<float>(), 2.0f * (2 << 20));
  EXPECT_EQ(sum(c).item<float>(), 3.0f * (2 << 20));
  release_cached_cpu_memory();
  Tensor d = zeros({2 << 20}, {.dtype = DType::Float32});
  EXPECT_EQ(sum(d).item<float>(), 0.0f);
}

}  // namespace
}  // namespace fm
