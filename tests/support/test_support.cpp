#include "support/test_support.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
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

void replay_fuzz_corpus(const std::string& name,
                        const std::function<void(const std::vector<uint8_t>&, const std::string&)>& parse,
                        int min_files, int min_valid) {
  namespace fs = std::filesystem;
  const fs::path corpus = fs::path(FERMATA_TEST_DATA) / ".." / "fuzz" / "corpus" / name;
  ASSERT_TRUE(fs::is_directory(corpus)) << corpus;
  int files = 0, valid = 0;
  for (const auto& e : fs::directory_iterator(corpus)) {
    if (!e.is_regular_file()) continue;
    ++files;
    const std::string file = e.path().filename().string();
    std::ifstream in(e.path(), std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bool parsed = false;
    try {
      parse(bytes, file);
      parsed = true;
      ++valid;
    } catch (const Error& err) {
      EXPECT_NE(std::string(err.what()).find("<bytes>"), std::string::npos) << file << ": " << err.what();
    }
    if (file.rfind("valid_", 0) == 0) EXPECT_TRUE(parsed) << file << " should parse";
    if (file.rfind("invalid_", 0) == 0) EXPECT_FALSE(parsed) << file << " should be rejected";
  }
  EXPECT_GE(files, min_files);
  EXPECT_GE(valid, min_valid);
}

}  // namespace fm::testing
