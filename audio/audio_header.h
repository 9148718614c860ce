#pragma once
// Validation of sound-file headers before libsndfile sees the bytes: libsndfile is a large C
// parser of untrusted input, so a file reaches it only after its container structure has been
// checked here (WAV: RIFF/WAVE chunks within the file and a sane fmt chunk; FLAC: "fLaC",
// STREAMINFO and metadata blocks within the file; OGG: every page "OggS" and within the file,
// a Vorbis identification header first). A rejection is an fm::Error naming the file (or
// "<bytes>") and what is wrong.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace fm::audio {

enum class AudioContainer { WAV, FLAC, OGG };
const char* container_name(AudioContainer c);  // "WAV", "FLAC", "OGG"

// What the header declares (checked again against what libsndfile reports).
struct AudioHeader {
  AudioContainer container = AudioContainer::WAV;
  int64_t channels = 0;
  int64_t sample_rate = 0;
};

// Random access to the bytes being checked: read_at copies up to n bytes at offset into dst
// and returns how many it copied (fewer only at the end).
struct ByteSource {
  int64_t size = 0;
  std::function<size_t(int64_t offset, void* dst, size_t n)> read_at;
};

// Limits of the check (beyond them a header is rejected as not sane).
inline constexpr int64_t kMaxAudioChannels = 1024;
inline constexpr int64_t kMaxAudioSampleRate = 10'000'000;

// Throws fm::Error naming `name` unless the source holds a WAV, FLAC or OGG/Vorbis file whose
// container structure is intact. Reads only the headers (chunk, block and page headers), not
// the samples.
AudioHeader check_audio_header(const ByteSource& source, const std::string& name);
AudioHeader check_audio_header(const uint8_t* data, size_t size, const std::string& name = "<bytes>");

}  // namespace fm::audio
