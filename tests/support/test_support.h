#pragma once
// Helpers shared by the tests: tolerant comparison with a readable failure message, and
// golden files written by tests/golden/make_golden.py.
#include <gtest/gtest.h>

#include <string>

#include "fermata.h"

namespace fm::testing {

// Passes when |a - b| <= atol + rtol * |b| everywhere and shapes match; otherwise reports the
// worst element.
::testing::AssertionResult close(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-6);

std::string data_path(const std::string& relative);

// A float64 leaf of the given shape, uniform in [lo, hi), requiring grad (for gradcheck).
Tensor leaf64(const Shape& shape, double lo = -1, double hi = 1, uint64_t seed = 7);
// The same values laid out non-contiguously: a transposed view of a [n, m] buffer.
Tensor noncontig64(int64_t rows, int64_t cols, double lo = -1, double hi = 1, uint64_t seed = 9);

}  // namespace fm::testing

#define EXPECT_CLOSE(a, b, ...) EXPECT_TRUE(::fm::testing::close((a), (b), ##__VA_ARGS__))
#define EXPECT_GRADCHECK(fn, inputs)                                          \
  do {                                                                        \
    auto r_ = ::fm::autograd::gradcheck((fn), (inputs));                      \
    EXPECT_TRUE(r_.ok) << r_.message;                                         \
  } while (0)
#define EXPECT_GRADGRADCHECK(fn, inputs)                                      \
  do {                                                                        \
    auto r_ = ::fm::autograd::gradgradcheck((fn), (inputs));                  \
    EXPECT_TRUE(r_.ok) << r_.message;                                         \
  } while (0)
#define EXPECT_THROW_MSG(stmt, substring)                                              \
  do {                                                                                 \
    try {                                                                              \
      stmt;                                                                            \
      ADD_FAILURE() << "expected fm::Error containing '" << (substring) << "'";      \
    } catch (const ::fm::Error& e) {                                                   \
      EXPECT_NE(std::string(e.what()).find(substring), std::string::npos)              \
          << "message was: " << e.what();                                              \
    }                                                                                  \
  } while (0)
