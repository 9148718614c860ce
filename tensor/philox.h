#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
// counter-based generator. Output block b of seed s is a pure function of (s, b), so the CPU
// and the GPU produce the same numbers for the same (seed, offset) however work is split.
#include <array>
#include <cstdint>
#include <mutex>

#ifdef __CUDACC__
#define FM_HOST_DEVICE __host__ __device__
#else
#define FM_HOST_DEVICE
#endif

namespace fm {

struct PhiloxBlock {
  uint32_t v[4];
};

FM_HOST_DEVICE inline PhiloxBlock philox4x32_10(uint64_t counter, uint64_t subsequence,
                                                uint64_t key) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = static_cast<uint32_t>(subsequence), c3 = static_cast<uint32_t>(subsequence >> 32);
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = uint64_t{0xD2511F53u} * c0;
    const uint64_t p1 = uint64_t{0xCD9E8D57u} * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// [0, 1) with 24 random bits (float) or 53 (double).
FM_HOST_DEVICE inline float uniform_float(uint32_t x) { return (x >> 8) * (1.0f / 16777216.0f); }
FM_HOST_DEVICE inline double uniform_double(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (uint64_t{hi} << 32 | lo) >> 11;
  return static_cast<double>(bits) * (1.0 / 9007199254740992.0);
}

// The stream of Philox blocks of one seed. Each random op reserves the blocks it uses by
// advancing the offset, so successive ops draw fresh numbers and a (seed, offset) pair names
// exactly the numbers an op saw.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5EED) : seed_(seed) {}
  void manual_seed(uint64_t seed) {
    std::lock_guard<std::mutex> lock(mu_);
    seed_ = seed;
    offset_ = 0;
  }
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t o) {
    std::lock_guard<std::mutex> lock(mu_);
    offset_ = o;
  }
  // Returns the first block index of `blocks` reserved ones.
  uint64_t reserve(uint64_t blocks) {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t first = offset_;
    offset_ += blocks;
    return first;
  }

 private:
  std::mutex mu_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

Generator& default_generator();
inline void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace fm
