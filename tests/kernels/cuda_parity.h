#pragma once
// Helpers of the CUDA parity tests (tests/kernels/cuda_*_gpu_test.cpp): fresh random inputs
// (the seed is printed with every failure), CUDA copies laid out contiguously or not, the
// allocator's poisoning (every fresh CUDA block is NaN until a kernel writes it), both kernel
// variants, and a comparison that NaN never passes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/ops.h"
#include "support/test_support.h"
#include "tensor/cuda.h"

namespace fm::cuda_test {

// A new seed per call, from the OS: every run draws other inputs.
inline uint64_t fresh_seed() {
  static std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

// Uniform in [lo, hi) on the CPU.
inline Tensor random_cpu(const Shape& shape, DType dt, uint64_t seed, double lo = -3, double hi = 3) {
  Generator g(seed);
  Tensor u = rand(shape, {.dtype = DType::Float64}, &g);
  NoGradGuard ng;
  return to(add(mul(u, hi - lo), lo), dt);
}

// The CPU tensor x on the GPU; non-contiguous when `layout` is 1 (a transposed view of a
// buffer holding the last two dims swapped) or 2 (every other element of a buffer twice as
// long in the last dim).
inline Tensor to_cuda(const Tensor& x, int layout) {
  NoGradGuard ng;
  if (layout == 1 && x.dim() >= 2) {
    Tensor buf = to(contiguous(transpose(x, -1, -2)), Device::cuda());
    Tensor v = transpose(buf, -1, -2);
    EXPECT_FALSE(v.is_contiguous() && x.size(-1) > 1 && x.size(-2) > 1);
    return v;
  }
  if (layout == 2 && x.dim() >= 1) {
    Shape wide = x.sizes();
    wide.back() *= 2;
    Tensor buf = to(full(wide, NAN, {.dtype = x.dtype()}), Device::cuda());
    Tensor v = slice(buf, -1, 0, wide.back(), 2);
    copy_(v, to(x, Device::cuda()));
    return v;
  }
  return to(x, Device::cuda());
}

// Equal element for element, dtype and shape included (NaN where the reference has NaN): for
// data movement, which computes nothing.
inline ::testing::AssertionResult exactly_equal(const Tensor& a, const Tensor& ref) {
  if (a.sizes() != ref.sizes())
    return ::testing::AssertionFailure() << "shape " << shape_str(a.sizes()) << ", expected " << shape_str(ref.sizes());
  if (a.dtype() != ref.dtype())
    return ::testing::AssertionFailure() << "dtype " << a.dtype() << ", expected " << ref.dtype();
  const std::vector<double> x = to(a, Device::cpu()).to_vector<double>();
  const std::vector<double> r = to(ref, Device::cpu()).to_vector<double>();
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    const bool same = std::isnan(r[i]) ? std::isnan(x[i]) : x[i] == r[i];
    if (!same && bad++ == 0) first = i;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << r.size() << " elements differ; first at flat index "
                                       << first << ": got " << x[first] << ", expected " << r[first];
}

// Random data of any dtype: uniform floats, integers in [-1000, 1000), bools half true.
inline Tensor any_data(const Shape& shape, DType dt, uint64_t seed) {
  NoGradGuard ng;
  if (dt == DType::Bool) return gt(random_cpu(shape, DType::Float64, seed), 0.0);
  if (dt == DType::Int64) return to(random_cpu(shape, DType::Float64, seed, -1000, 1000), DType::Int64);
  return random_cpu(shape, dt, seed);
}

inline int64_t count_nonfinite(const Tensor& x) {
  int64_t n = 0;
  for (double v : to(x, Device::cpu()).to_vector<double>()) n += !std::isfinite(v);
  return n;
}

// ||a - ref|| / ||ref|| in double (ref nonzero), and NaN when a has a non-finite element the
// reference lacks.
inline double rel_err(const Tensor& a, const Tensor& ref) {
  const std::vector<double> x = to(a, Device::cpu()).to_vector<double>();
  const std::vector<double> r = to(ref, Device::cpu()).to_vector<double>();
  EXPECT_EQ(x.size(), r.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < std::min(x.size(), r.size()); ++i) {
    if (std::isfinite(r[i]) && !std::isfinite(x[i])) return NAN;
    if (!std::isfinite(r[i])) {
      if (!(std::isnan(r[i]) ? std::isnan(x[i]) : x[i] == r[i])) return NAN;
      continue;
    }
    num += (x[i] - r[i]) * (x[i] - r[i]);
    den += r[i] * r[i];
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

// Elementwise |a - ref| <= atol + rtol |ref| everywhere (a NaN or inf passes only where the
// reference has the same); the message names the worst element. Per-element tolerances, not
// a norm: a few wrong elements of a large output must fail.
inline ::testing::AssertionResult cuda_close(const Tensor& a, const Tensor& ref, double rtol, double atol) {
  const std::vector<double> x = to(a, Device::cpu()).to_vector<double>();
  const std::vector<double> r = to(ref, Device::cpu()).to_vector<double>();
  if (x.size() != r.size())
    return ::testing::AssertionFailure() << x.size() << " elements, the reference has " << r.size();
  double worst = 0;
  size_t at = 0, bad = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    double excess;
    if (!std::isfinite(r[i])) excess = (std::isnan(r[i]) ? std::isnan(x[i]) : x[i] == r[i]) ? 0 : INFINITY;
    else if (!std::isfinite(x[i])) excess = INFINITY;
    else excess = std::abs(x[i] - r[i]) / (atol + rtol * std::abs(r[i]));
    if (excess > 1) ++bad;
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << r.size() << " elements differ; worst at flat index " << at
                                       << ": got " << x[at] << ", expected " << r[at] << " (rtol " << rtol
                                       << ", atol " << atol << ")";
}

// Tolerances of float32 / float64 results that both sides compute with a few rounding steps.
inline double rtol_for(DType dt) { return dt == DType::Float32 ? 1e-5 : 1e-11; }
inline double atol_for(DType dt) { return dt == DType::Float32 ? 1e-6 : 1e-13; }

// Runs the test body for both kernel variants with poisoned allocations.
class CudaParity : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    FM_SKIP_WITHOUT_GPU();
    kernels::cuda::set_kernel_variant(GetParam());
    cuda_poison_allocations(true);
  }
  void TearDown() override {
    if (cuda_device_count() == 0) return;
    cuda_poison_allocations(false);
    kernels::cuda::set_kernel_variant(2);
    cuda_synchronize();
  }
};

inline std::string variant_name(const ::testing::TestParamInfo<int>& i) { return "v" + std::to_string(i.param); }

}  // namespace fm::cuda_test

#define FM_CUDA_PARITY_SUITE(Suite) \
  INSTANTIATE_TEST_SUITE_P(Variants, Suite, ::testing::Values(1, 2), ::fm::cuda_test::variant_name)

// EXPECT that a CUDA result matches the CPU reference elementwise, naming the seed.
#define EXPECT_CUDA_CLOSE(gpu, ref, rtol, atol, seed, what) \
  EXPECT_TRUE(::fm::cuda_test::cuda_close((gpu), (ref), (rtol), (atol))) << (what) << ", seed " << (seed)

// EXPECT that a CUDA result matches the CPU reference within tol (relative L2), naming the seed:
// for matrix products, whose elements can cancel to near zero.
#define EXPECT_CUDA_MATCHES(gpu, ref, tol, seed, what)                                           \
  do {                                                                                         \
    const double e_ = ::fm::cuda_test::rel_err((gpu), (ref));                                  \
    EXPECT_TRUE(e_ <= (tol)) << (what) << ": relative error " << e_ << " (tolerance " << (tol) \
                             << "), seed " << (seed);                                          \
  } while (0)
