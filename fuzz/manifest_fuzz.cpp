// libFuzzer target for the corpus manifest reader (data/manifest.h): any input must either parse
// or be rejected with an fm::Error; what parses must write and read back to the same manifest.
// Build and run: see fuzz/README.md.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "data/manifest.h"
#include "tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  fm::data::Manifest m;
  try {
    m = fm::data::parse_manifest(text);
  } catch (const fm::Error&) {
    return 0;
  }
  try {
    const std::string path = "/tmp/manifest_fuzz." + std::to_string(::getpid()) + ".json";
    fm::data::write_manifest(m, path);
    const auto again = fm::data::read_manifest(path);
    std::remove(path.c_str());
    if (!(again == m)) __builtin_trap();
  } catch (const fm::Error&) {
    __builtin_trap();
  }
  return 0;
}
