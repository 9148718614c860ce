#pragma once
// safetensors I/O: named tensors in the format PyTorch and the Hugging Face tools read.
//
// Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value", ...}}            (the metadata entry is optional)
// then the raw little-endian data; offsets count from the first byte after the header.
//
// The reader validates everything before it trusts it: the header length (at most 100 MB and
// inside the file), the JSON (no duplicate keys), each entry's dtype, shape and offsets, that the
// tensors tile the data section exactly (no gaps, no overlaps, nothing left over), and that BOOL
// bytes are 0 or 1. Every failure is an fm::Error naming the file ("<bytes>" for a buffer) and
// what is wrong. fermata reads and writes F32, F64, I64 and BOOL; other dtypes are refused by name.
//
// The writer lays tensors out in name order, contiguous, pads the header with spaces so that
// the data starts at a multiple of 8 bytes, and replaces the target atomically (temporary file
// in the same directory, fsync, rename).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace fm {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;           // CPU, contiguous
  std::map<std::string, std::string> metadata;     // the "__metadata__" entry, if any
};

// The largest header the reader accepts (the reference implementation's limit).
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// Reads a file; tensors land on the CPU.
SafetensorsFile read_safetensors(const std::string& path);
// Parses an in-memory file; `source` names it in error messages.
SafetensorsFile read_safetensors_from_bytes(const uint8_t* data, size_t size,
                                            const std::string& source = "<bytes>");

std::map<std::string, Tensor> load_safetensors(const std::string& path);
std::map<std::string, Tensor> load_safetensors_from_bytes(const uint8_t* data, size_t size);

// Writes `tensors` (any device, any strides) atomically to `path`.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// The bytes save_safetensors would write.
std::vector<uint8_t> save_safetensors_to_bytes(const std::map<std::string, Tensor>& tensors,
                                               const std::map<std::string, std::string>& metadata = {});

}  // namespace fm
