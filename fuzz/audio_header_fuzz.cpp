// libFuzzer target for the sound-file header check and libsndfile behind it: any input must
// either load or be rejected with an fm::Error; a crash, a sanitizer report, a hang or an
// out-of-memory is a bug. Build and run: see fuzz/README.md.
#include <cstddef>
#include <cstdint>

#include "audio/audio_header.h"
#include "audio/io.h"
#include "tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fm::audio::AudioHeader header;
  try {
    header = fm::audio::check_audio_header(data, size);
  } catch (const fm::Error&) {
    return 0;  // rejected before libsndfile saw it: fine
  }
  try {
    const auto info = fm::audio::info_from_bytes(data, size);
    if (info.channels != header.channels || info.sample_rate != header.sample_rate) __builtin_trap();
    // A window bounded in frames: a header's frame count is only a claim, and a tiny
    // FLAC may legitimately decode to gigabytes.
    fm::audio::LoadOptions o;
    o.offset = info.frames > 4096 ? 1024.0 / double(info.sample_rate) : 0.0;
    o.duration = 4096.0 / double(info.sample_rate);
    const auto a = fm::audio::load_from_bytes(data, size, o);
    if (a.samples.size(0) != header.channels) __builtin_trap();
  } catch (const fm::Error&) {
    return 0;  // libsndfile or the decoder refused it with a message: fine
  }
  return 0;
}
