#pragma once
// Loading and saving sound files (torchaudio.load / torchaudio.save / torchaudio.info) through
// libsndfile: WAV, FLAC and OGG/Vorbis at any sample rate, bit depth and channel count
// libsndfile supports. Every file's header is validated (audio/audio_header.h) before
// libsndfile reads it; a missing, truncated or non-audio file is an fm::Error naming the file.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audio/resample.h"
#include "tensor/tensor.h"

namespace fm::audio {

struct AudioInfo {
  int64_t sample_rate = 0;
  int64_t channels = 0;
  int64_t frames = 0;
  std::string format;   // "WAV", "FLAC", "OGG"
  std::string subtype;  // "PCM_16", "PCM_24", "PCM_32", "PCM_U8", "PCM_S8", "FLOAT", "DOUBLE", "ULAW", "ALAW", "VORBIS"
};
AudioInfo info(const std::string& path);

struct LoadOptions {
  double offset = 0;                    // seconds from the start (rounded to a frame)
  std::optional<double> duration;       // seconds (rounded to a frame); none = to the end
  bool mono = false;                    // mean of the channels, keeping a leading dim of 1
  std::optional<int64_t> sample_rate;   // resample to this rate (audio/resample.h)
  ResampleQuality quality = ResampleQuality::SincHann;  // torchaudio's; ~25x faster than libsamplerate's Medium
};

struct Audio {
  Tensor samples;  // float32 [channels, frames], integer formats scaled to [-1, 1)
  int64_t sample_rate = 0;
};

// Reads the window [offset, offset + duration) by seeking, without decoding what lies before
// it. A window running past the end stops at the end; an offset past the end is an error.
Audio load(const std::string& path, const LoadOptions& options = {});

struct SaveOptions {
  std::string format;               // "WAV", "FLAC", "OGG"; "" = from the extension (.wav .flac .ogg)
  std::string subtype = "PCM_16";   // PCM_16, PCM_24, PCM_32, PCM_U8, FLOAT, DOUBLE, ULAW, ALAW, VORBIS;
                                    // for OGG the default PCM_16 means VORBIS (its only subtype)
  double vorbis_quality = 0.9;      // 0..1, for VORBIS
};

// samples [channels, frames] or [frames], float32/float64; values beyond [-1, 1] clip for
// integer subtypes. Written atomically: to a temporary file beside `path`, then renamed.
void save(const std::string& path, const Tensor& samples, int64_t sample_rate, const SaveOptions& options = {});

// The same from and to memory; errors name `name` ("<bytes>" by default). Used by the fuzz
// target and by code that holds a file's bytes already.
AudioInfo info_from_bytes(const uint8_t* data, size_t size, const std::string& name = "<bytes>");
Audio load_from_bytes(const uint8_t* data, size_t size, const LoadOptions& options = {},
                      const std::string& name = "<bytes>");
std::vector<uint8_t> save_to_bytes(const Tensor& samples, int64_t sample_rate, const SaveOptions& options);

}  // namespace fm::audio
