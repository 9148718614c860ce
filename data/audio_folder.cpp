#include "data/audio_folder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "audio/io.h"
#include "tensor/factory.h"

namespace fm::data {

namespace {

bool is_sound_file(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  for (auto& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".wav" || ext == ".flac" || ext == ".ogg";
}

}  // namespace

AudioFolder::AudioFolder(const std::string& root, const AudioFolderOptions& o) : options_(o) {
  namespace fs = std::filesystem;
  FM_CHECK(o.sample_rate > 0, "AudioFolder: sample_rate ", o.sample_rate, ", expected > 0");
  FM_CHECK(!o.clip_seconds || (std::isfinite(*o.clip_seconds) && *o.clip_seconds > 0), "AudioFolder: clip_seconds ",
           o.clip_seconds.value_or(0), ", expected > 0");
  std::error_code ec;
  FM_CHECK(fs::is_directory(root, ec), "AudioFolder: ", root, " is not a directory");
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory()) classes_.push_back(e.path().filename().string());
  std::sort(classes_.begin(), classes_.end());
  FM_CHECK(!classes_.empty(), "AudioFolder: ", root, " has no sub-folders, expected one per class");
  for (size_t c = 0; c < classes_.size(); ++c) {
    std::vector<std::string> in_class;
    for (const auto& e : fs::directory_iterator(fs::path(root) / classes_[c]))
      if (e.is_regular_file() && is_sound_file(e.path())) in_class.push_back(e.path().string());
    std::sort(in_class.begin(), in_class.end());
    for (auto& f : in_class) {
      files_.push_back(std::move(f));
      labels_.push_back(int64_t(c));
    }
  }
  FM_CHECK(!files_.empty(), "AudioFolder: ", root, " has no .wav, .flac or .ogg files in its ", classes_.size(),
           " class folders");
}

int64_t AudioFolder::size() const { return int64_t(files_.size()); }

Example AudioFolder::get(int64_t index) const {
  FM_CHECK(index >= 0 && index < size(), "AudioFolder: index ", index, " out of range [0, ", size(), ")");
  audio::LoadOptions lo;
  lo.mono = options_.mono;
  lo.sample_rate = options_.sample_rate;
  lo.quality = options_.quality;
  // Decode only the clip (plus a little for the resampler's rounding), not the whole file.
  if (options_.clip_seconds) lo.duration = *options_.clip_seconds + 0.01;
  Tensor audio = audio::load(files_[size_t(index)], lo).samples;
  if (options_.clip_seconds) {
    const int64_t n = int64_t(std::llround(*options_.clip_seconds * double(options_.sample_rate)));
    const int64_t have = audio.size(1), channels = audio.size(0);
    if (have != n) {
      Tensor fitted = zeros({channels, n});
      const int64_t k = std::min(have, n);
      if (k > 0)
        copy_into(make_view(fitted, {channels, k}, {n, 1}, 0), make_view(audio, {channels, k}, {have, 1}, 0));
      audio = fitted;
    }
  }
  return {{"audio", audio}, {"label", scalar_tensor(double(labels_[size_t(index)]), {.dtype = DType::Int64})}};
}

}  // namespace fm::data
