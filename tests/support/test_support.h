#pragma once
// Helpers shared by the tests: tolerant comparison with a readable failure message, and
// golden files written by tests/golden/make_golden.py.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "fermata.h"

namespace fm::testing {

// Passes when |a - b| <= atol + rtol * |b| everywhere and shapes match; otherwise reports the
// worst element.
::testing::AssertionResult close(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-6);

std::string data_path(const std::string& relative);

// Replays every file of fuzz/corpus/<name> through `parse` (which parses the bytes, and for a
// file that parses also checks a write/read round trip). Seeds named valid_* must parse,
// invalid_* must be rejected; any other file (one the fuzzer found) may do either, but only by
// returning or by an fm::Error that names "<bytes>". Expects at least min_files files and
// min_valid that parse.
void replay_fuzz_corpus(const std::string& name,
                        const std::function<void(const std::vector<uint8_t>& bytes, const std::string& file)>& parse,
                        int min_files, int min_valid);

// A float64 leaf of the given shape, uniform in [lo, hi), requiring grad (for gradcheck).
Tensor leaf64(const Shape& shape, double lo = -1, double hi = 1, uint64_t seed = 7);
// The same values laid out non-contiguously: a transposed view of a [n, m] buffer.
Tensor noncontig64(int64_t rows, int64_t cols, double lo = -1, double hi = 1, uint64_t seed = 9);

}  // namespace fm::testing

#define EXPECT_CLOSE(a, b, ...) EXPECT_TRUE(::fm::testing::close((a), (b), ##__VA_ARGS__))
// gpu-labelled tests: skipped, with the reason, on a machine without a CUDA device.
#define FM_SKIP_WITHOUT_GPU() \
  if (::fm::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device on this machine"

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
