// libFuzzer target for the Standard MIDI File reader: any input must either parse or be rejected
// with an fm::Error; a crash, a sanitizer report, a hang or an out-of-memory is a bug.
// Build and run: see fuzz/README.md.
#include <cstddef>
#include <cstdint>

#include "midi/notes.h"
#include "midi/smf.h"
#include "tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fm::midi::File file;
  try {
    file = fm::midi::read_smf_from_bytes(data, size);
  } catch (const fm::Error&) {
    return 0;  // rejected with a message: fine
  }
  // What parses must also write back (the writer may not refuse it) and parse again to the same
  // events, and give notes.
  try {
    const auto bytes = fm::midi::write_smf_to_bytes(file);
    const auto again = fm::midi::read_smf_from_bytes(bytes.data(), bytes.size());
    if (!(again == file)) __builtin_trap();
    (void)fm::midi::extract_notes(file);
  } catch (const fm::Error&) {
    __builtin_trap();
  }
  return 0;
}
