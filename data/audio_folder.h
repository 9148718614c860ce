#pragma once
// A folder with one sub-folder per class (the GTZAN layout, torchvision's ImageFolder for
// sound) as a classification data set: root/<class>/<file>.{wav,flac,ogg}.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audio/resample.h"
#include "data/dataset.h"

namespace fm::data {

struct AudioFolderOptions {
  int64_t sample_rate = 22050;          // every clip is resampled to this rate
  bool mono = true;                     // mean of the channels; false keeps them
  std::optional<double> clip_seconds;   // crop (from the start) or zero-pad to this length
  // torchaudio's resampler (the values torchaudio gives): a 30 s stereo clip 44.1 -> 22.05 kHz
  // in 17 ms instead of 384 ms with libsamplerate's Medium or 1160 ms with its Best (2 threads).
  audio::ResampleQuality quality = audio::ResampleQuality::SincHann;
};

class AudioFolder : public Dataset {
 public:
  // Scans root once: classes are the sorted sub-folder names, files the sorted sound files
  // (by extension, case-insensitive) directly inside each; other files are ignored.
  explicit AudioFolder(const std::string& root, const AudioFolderOptions& o = {});
  int64_t size() const override;
  // {"audio": float32 [1, T] ([channels, T] when not mono), "label": int64 scalar}. Thread-safe.
  Example get(int64_t index) const override;
  const std::vector<std::string>& classes() const { return classes_; }  // sorted sub-folder names
  const std::vector<std::string>& files() const { return files_; }      // full paths, by class then name
  const std::vector<int64_t>& labels() const { return labels_; }        // class index of each file

 private:
  AudioFolderOptions options_;
  std::vector<std::string> classes_;
  std::vector<std::string> files_;
  std::vector<int64_t> labels_;
};

}  // namespace fm::data
