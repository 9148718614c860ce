// libFuzzer target for the safetensors reader: any input must either parse or be rejected with
// an fm::Error; a crash, a sanitizer report, a hang or an out-of-memory is a bug.
// Build and run: see fuzz/README.md.
#include <cstddef>
#include <cstdint>

#include "tensor/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto tensors = fm::load_safetensors_from_bytes(data, size);
    // What parses must also write back and parse again.
    const auto bytes = fm::save_safetensors_to_bytes(tensors);
    auto again = fm::load_safetensors_from_bytes(bytes.data(), bytes.size());
    if (again.size() != tensors.size()) __builtin_trap();
  } catch (const fm::Error&) {
    // rejected with a message: fine
  }
  return 0;
}
