#include "support/test_support.h"

#include <cmath>
#include <sstream>

namespace fm::testing {

::testing::AssertionResult close(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.sizes() != b.sizes())
    return ::testing::AssertionFailure() << "shapes differ: " << a.describe() << " vs " << b.describe();
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double worst = -1;
  size_t at = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const bool both_nan = std::isnan(x[i]) && std::isnan(y[i]);
    if (both_nan || x[i] == y[i]) continue;
    const double err = std::abs(x[i] - y[i]) - (atol + rtol * std::abs(y[i]));
    if (std::isnan(err) || err > worst) {
      worst = std::isnan(err) ? INFINITY : err;
      at = i;
    }
  }
  if (worst <= 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "tensors differ at flat index " << at << ": " << x[at]
                                       << " vs " << y[at] << " (rtol " << rtol << ", atol " << atol
                                       << ", shape " << shape_str(a.sizes()) << ")";
}

Tensor leaf64(const Shape& shape, double lo, double hi, uint64_t seed) {
  Generator g(seed);
  Tensor t = add(mul(rand(shape, {.dtype = kFloat64}, &g), hi - lo), lo);
  t = t.detach();
  t.requires_grad_(true);
  return t;
}

Tensor noncontig64(int64_t rows, int64_t cols, double lo, double hi, uint64_t seed) {
  Tensor base = leaf64({cols, rows}, lo, hi, seed).detach();
  Tensor t = fm::t(base);  // [rows, cols], strides (1, rows)
  t.requires_grad_(true);
  return t;
}

std::string data_path(const std::string& relative) { return std::string(FERMATA_TEST_DATA) + "/" + relative; }

}  // namespace fm::testing
