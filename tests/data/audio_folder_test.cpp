// AudioFolder: classes from sub-folders, files sorted, labels, resampling, crop and pad.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "audio/io.h"
#include "data/audio_folder.h"
#include "support/test_support.h"

namespace fm {
namespace {

namespace fs = std::filesystem;

struct Tree {
  fs::path root = fs::temp_directory_path() / ("fermata_audio_folder_" + std::to_string(::getpid()));
  Tree() {
    fs::remove_all(root);
    // two classes, clips of different lengths, rates and channel counts, and a stray text file
    fs::create_directories(root / "rock");
    fs::create_directories(root / "blues");
    fs::create_directories(root / "empty_class");
    auto clip = [](int64_t channels, int64_t n, double value) { return full({channels, n}, value); };
    audio::save((root / "rock" / "b.wav").string(), clip(2, 44100, 0.25), 44100);       // 1 s stereo
    audio::save((root / "rock" / "a.flac").string(), clip(1, 11025, 0.5), 22050);       // 0.5 s
    audio::save((root / "blues" / "z.WAV").string(), clip(1, 3 * 8000, -0.5), 8000);    // 3 s
    std::ofstream(root / "blues" / "notes.txt") << "not audio";
  }
  ~Tree() { fs::remove_all(root); }
};

data::AudioFolderOptions clipped(int64_t rate, double seconds) {
  data::AudioFolderOptions o;
  o.sample_rate = rate;
  o.clip_seconds = seconds;
  return o;
}
data::AudioFolderOptions stereo_at(int64_t rate) {
  data::AudioFolderOptions o;
  o.sample_rate = rate;
  o.mono = false;
  return o;
}

TEST(AudioFolder, ClassesFilesAndLabels) {
  Tree t;
  data::AudioFolder ds(t.root.string());
  EXPECT_EQ(ds.classes(), (std::vector<std::string>{"blues", "empty_class", "rock"}));
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(fs::path(ds.files()[0]).filename(), "z.WAV");
  EXPECT_EQ(fs::path(ds.files()[1]).filename(), "a.flac");
  EXPECT_EQ(fs::path(ds.files()[2]).filename(), "b.wav");
  const auto e = ds.get(2);
  EXPECT_EQ(e.at("label").dtype(), DType::Int64);
  EXPECT_EQ(e.at("label").dim(), 0);
  EXPECT_EQ(e.at("label").item<int64_t>(), 2);
  EXPECT_EQ(ds.get(0).at("label").item<int64_t>(), 0);
  // mono at 22050 Hz: the 1 s stereo clip of 0.25 becomes [1, 22050] of ~0.25
  const Tensor a = e.at("audio");
  ASSERT_EQ(a.sizes(), (Shape{1, 22050}));
  EXPECT_EQ(a.dtype(), DType::Float32);
  EXPECT_NEAR(a.to_vector<float>()[11025], 0.25, 1e-3);
  EXPECT_THROW_MSG(ds.get(3), "out of range");
}

TEST(AudioFolder, ClipSecondsCropsAndPads) {
  Tree t;
  data::AudioFolder ds(t.root.string(), clipped(16000, 1.0));
  for (int64_t i = 0; i < ds.size(); ++i) EXPECT_EQ(ds.get(i).at("audio").sizes(), (Shape{1, 16000})) << i;
  // the 0.5 s clip is zero-padded after its end
  const auto v = ds.get(1).at("audio").to_vector<float>();
  EXPECT_NEAR(v[4000], 0.5, 1e-3);
  EXPECT_EQ(v[12000], 0.0f);
  data::AudioFolder stereo(t.root.string(), stereo_at(44100));
  EXPECT_EQ(stereo.get(2).at("audio").sizes(), (Shape{2, 44100}));
}

TEST(AudioFolder, Errors) {
  EXPECT_THROW_MSG(data::AudioFolder("/no/such/folder"), "/no/such/folder is not a directory");
  const fs::path flat = fs::temp_directory_path() / ("fermata_audio_folder_flat_" + std::to_string(::getpid()));
  fs::create_directories(flat / "cls");
  EXPECT_THROW_MSG(data::AudioFolder(flat.string()), "has no .wav, .flac or .ogg files");
  fs::remove_all(flat);
}

}  // namespace
}  // namespace fm
