#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "data/manifest.h"
#include "support/test_support.h"

namespace {
using namespace fm;
namespace fs = std::filesystem;

data::Manifest sample() {
  data::Manifest m;
  m.corpus = "genres";
  m.size = "tiny";
  m.seed = 18446744073709551615ull;  // all 64 bits survive
  m.sample_rate = 22050;
  m.settings = R"({"bars":4})";
  m.classes = {"rock", "jazz"};
  data::ManifestItem it;
  it.id = "rock-0000-0";
  it.file = "audio/rock/rock-0000-0.wav";
  it.split = "train";
  it.label = "rock";
  it.label_index = 0;
  it.group = "rock-0000";
  it.files = {{"midi", "midi/rock/rock-0000.mid"}};
  it.params = R"({"groove":"50sRock","tempo":118.0})";
  it.extra = R"({"key":"Bb"})";
  it.file_bytes = 12;
  it.file_hash = "0123456789abcdef";
  m.items.push_back(it);
  it.id = "jazz-0000-0";
  it.split = "test";
  it.label = "jazz";
  it.label_index = 1;
  m.items.push_back(it);
  return m;
}

TEST(Manifest, WritesAtomicallyAndReadsBackTheSame) {
  const fs::path dir = fs::temp_directory_path() / ("fermata-manifest-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = data::manifest_path(dir.string());
  data::write_manifest(sample(), path);
  EXPECT_EQ(data::read_manifest(path), sample());
  EXPECT_EQ(sample().count("train"), 1);
  // No temporary file is left beside it.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  fs::remove_all(dir);
}

TEST(Manifest, FileHashMatchesOnlyTheSameBytes) {
  const fs::path dir = fs::temp_directory_path() / ("fermata-manifest-h-" + std::to_string(::getpid()));
  fs::create_directories(dir / "audio" / "rock");
  fs::create_directories(dir / "midi" / "rock");
  auto m = sample();
  auto it = m.items[0];
  const auto put = [](const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
  };
  put(dir / it.file, "hello, world");
  put(dir / it.files.at("midi"), "x");
  it.file_hash = data::file_hash((dir / it.file).string());
  EXPECT_EQ(it.file_hash, "17a1a4f267be633d");  // FNV-1a 64 of "hello, world"
  EXPECT_TRUE(data::item_files_match(it, dir.string()));
  put(dir / it.file, "hello, World");
  EXPECT_FALSE(data::item_files_match(it, dir.string()));
  fs::remove(dir / it.files.at("midi"));
  EXPECT_FALSE(data::item_files_match(it, dir.string()));
  fs::remove_all(dir);
}

TEST(Manifest, BadManifestsAreClearErrors) {
  EXPECT_THROW_MSG(data::parse_manifest("{", "m.json"), "m.json is not valid JSON");
  EXPECT_THROW_MSG(data::parse_manifest(R"({"format":"other"})", "m.json"), "not a fermata corpus manifest");
  EXPECT_THROW_MSG(data::read_manifest("/nonexistent/manifest.json"), "fermata data render");
}

TEST(Manifest, FuzzCorpusReplays) {
  fm::testing::replay_fuzz_corpus("manifest", [](const std::vector<uint8_t>& bytes, const std::string& name) {
    const std::string text(bytes.begin(), bytes.end());
    const auto m = data::parse_manifest(text);
    const fs::path path = fs::temp_directory_path() / ("fermata-manifest-fuzz-" + std::to_string(::getpid()) + ".json");
    data::write_manifest(m, path.string());
    EXPECT_EQ(data::read_manifest(path.string()), m) << name;
    fs::remove(path);
  }, 10, 2);
}

}  // namespace
