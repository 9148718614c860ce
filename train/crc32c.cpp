#include "train/crc32c.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "tensor/error.h"

namespace fm::train {

namespace {
const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}
}  // namespace

uint32_t crc32c(const void* data, size_t size, uint32_t crc) {
#if defined(__SSE4_2__) && defined(__x86_64__)
  // SSE4.2's crc32 instruction computes exactly this polynomial, 8 bytes at a time
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t c64 = ~crc;
  for (; size >= 8; size -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c64 = __builtin_ia32_crc32di(c64, word);
  }
  auto c32 = static_cast<uint32_t>(c64);
  for (; size > 0; --size, ++p) c32 = __builtin_ia32_crc32qi(c32, *p);
  return ~c32;
#else
  return crc32c_bytewise(data, size, crc);
#endif
}

uint32_t crc32c_bytewise(const void* data, size_t size, uint32_t crc) {
  const auto& t = crc_table();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = t[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t mask_crc32c(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

uint32_t crc32c_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  FM_CHECK(f != nullptr, "crc32c_file: cannot open '", path, "': ", std::strerror(errno));
  std::vector<char> buf(1 << 16);
  uint32_t crc = 0;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) crc = crc32c(buf.data(), n, crc);
  const bool failed = std::ferror(f);
  std::fclose(f);
  FM_CHECK(!failed, "crc32c_file: cannot read '", path, "'");
  return crc;
}

}  // namespace fm::train
