#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord, iSCSI and ext4 use it:
// the TensorBoard record framing and the checkpoint integrity check.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fm::train {

// `crc` continues an earlier CRC, so a long input can be fed in pieces.
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);
inline uint32_t crc32c(std::string_view s) { return crc32c(s.data(), s.size()); }
// The same with a 256-entry table, a byte at a time: what crc32c runs where the CPU has no
// CRC-32C instruction (SSE4.2 on x86, which crc32c uses when the build targets it).
uint32_t crc32c_bytewise(const void* data, size_t size, uint32_t crc = 0);
// TFRecord's masking: rotate right by 15 and add 0xa282ead8, so that a CRC of data that
// itself contains CRCs stays well distributed.
uint32_t mask_crc32c(uint32_t crc);
// The CRC of a whole file (throws naming the file when it cannot be read).
uint32_t crc32c_file(const std::string& path);

}  // namespace fm::train
