// Tiny corpora rendered in CI: reproducible from the seed, re-runs skip what exists, labels and
// splits as promised, audio that sounds and has the right length and rate.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "data/corpus.h"
#include "data/manifest.h"
#include "data/mma.h"
#include "data/progress.h"
#include "midi/notes.h"
#include "midi/smf.h"
#include "support/test_support.h"

namespace {
using namespace fm;
namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("fermata-corpus-test-" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

data::RenderSummary render(const std::string& corpus, const fs::path& dir, uint64_t seed = 3) {
  data::RenderOptions o;
  o.out_dir = dir.string();
  o.size = "tiny";
  o.seed = seed;
  o.progress = false;
  return data::render_corpus(corpus, o);
}

double rms(const Tensor& t) {
  double s = 0;
  for (float v : t.to_vector<float>()) s += double(v) * v;
  return std::sqrt(s / std::max<int64_t>(t.numel(), 1));
}

// Every group in exactly one split; every class in every split.
void expect_split_by_group(const data::Manifest& m, bool per_class) {
  std::map<std::string, std::string> split_of;
  std::map<std::string, std::set<std::string>> splits_of_class;
  for (const auto& it : m.items) {
    auto [pos, inserted] = split_of.emplace(it.group, it.split);
    EXPECT_EQ(pos->second, it.split) << it.group << " has items in two splits";
    splits_of_class[it.label].insert(it.split);
  }
  for (const auto& [label, splits] : splits_of_class)
    if (per_class) EXPECT_EQ(splits.size(), 3u) << label << " is missing from a split";
}

class GenresCorpus : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!data::mma_available()) return;
    dir_ = fresh_dir("genres");
    summary_ = render("genres", dir_);
  }
  void SetUp() override {
    if (!data::mma_available()) GTEST_SKIP() << "mma is not installed (Debian package mma)";
  }
  static fs::path dir_;
  static data::RenderSummary summary_;
};
fs::path GenresCorpus::dir_;
data::RenderSummary GenresCorpus::summary_;

TEST_F(GenresCorpus, ManifestLabelsAndSplits) {
  const auto m = data::read_manifest(data::manifest_path(dir_.string()));
  EXPECT_EQ(m.corpus, "genres");
  EXPECT_EQ(m.sample_rate, 22050);
  ASSERT_GE(m.classes.size(), 10u);
  EXPECT_EQ(summary_.items, static_cast<int64_t>(m.items.size()));
  std::vector<int> per_class(m.classes.size(), 0);
  for (const auto& it : m.items) {
    ASSERT_GE(it.label_index, 0);
    EXPECT_EQ(m.classes[static_cast<size_t>(it.label_index)], it.label);
    ++per_class[static_cast<size_t>(it.label_index)];
    EXPECT_TRUE(fs::exists(dir_ / it.file)) << it.file;
    EXPECT_TRUE(fs::exists(dir_ / it.files.at("midi")));
  }
  for (size_t c = 0; c < per_class.size(); ++c) EXPECT_GE(per_class[c], 3) << m.classes[c];
  expect_split_by_group(m, true);
}

TEST_F(GenresCorpus, DatasetGivesNonSilentClipsOfTheRightLength) {
  data::CorpusDataset train(dir_.string(), "train"), valid(dir_.string(), "valid"), test(dir_.string(), "test");
  const auto m = train.manifest();
  EXPECT_EQ(train.size() + valid.size() + test.size(), static_cast<int64_t>(m.items.size()));
  EXPECT_GT(valid.size(), 0);
  EXPECT_GT(test.size(), 0);
  for (int64_t i = 0; i < test.size(); ++i) {
    auto ex = test.get(i);
    const Tensor& audio = ex.at("audio");
    ASSERT_EQ(audio.dim(), 2);
    EXPECT_EQ(audio.size(0), 1);
    EXPECT_EQ(audio.size(1), static_cast<int64_t>(1.5 * 22050));
    EXPECT_GT(rms(audio), 0.01) << test.item(i).file;
    EXPECT_EQ(ex.at("label").dtype(), DType::Int64);
    EXPECT_EQ(ex.at("label").item<int64_t>(), test.item(i).label_index);
  }
}

TEST_F(GenresCorpus, ReRunSkipsWhatExistsAndRedoesWhatChanged) {
  const std::string before = read_file(dir_ / "manifest.json");
  auto again = render("genres", dir_);
  EXPECT_EQ(again.groups_rendered, 0);
  EXPECT_EQ(again.groups_skipped, again.groups);
  EXPECT_TRUE(read_file(dir_ / "manifest.json") == before);
  // A damaged clip sends its song back to the renderer, and only that song.
  const auto m = data::read_manifest(data::manifest_path(dir_.string()));
  { std::ofstream(dir_ / m.items[0].file, std::ios::binary | std::ios::trunc) << "garbage"; }
  again = render("genres", dir_);
  EXPECT_EQ(again.groups_rendered, 1);
  EXPECT_TRUE(read_file(dir_ / "manifest.json") == before);
}

TEST(Corpus, SameSeedSameBytesAndAnotherSeedDiffers) {
  const auto a = fresh_dir("instruments-a"), b = fresh_dir("instruments-b"), c = fresh_dir("instruments-c");
  render("instruments", a, 11);
  render("instruments", b, 11);
  render("instruments", c, 12);
  EXPECT_TRUE(read_file(a / "manifest.json") == read_file(b / "manifest.json"));
  EXPECT_FALSE(read_file(a / "manifest.json") == read_file(c / "manifest.json"));
  const auto m = data::read_manifest(data::manifest_path(a.string()));
  EXPECT_GE(m.classes.size(), 10u);
  for (const auto& it : m.items) EXPECT_TRUE(read_file(a / it.file) == read_file(b / it.file)) << it.file;
  expect_split_by_group(m, true);
  data::CorpusDataset ds(a.string(), "all");
  auto ex = ds.get(0);
  EXPECT_EQ(ex.at("audio").size(1), 22050);
  EXPECT_GT(rms(ex.at("audio")), 0.005);
}

TEST(Corpus, PianoHasExactNotesMatchingItsMidi) {
  const auto d = fresh_dir("piano");
  const auto s = render("piano", d);
  EXPECT_GT(s.items, 0);
  data::CorpusDataset ds(d.string(), "all");
  EXPECT_EQ(ds.manifest().sample_rate, 16000);
  expect_split_by_group(ds.manifest(), false);
  for (int64_t i = 0; i < ds.size(); ++i) {
    auto ex = ds.get(i);
    EXPECT_EQ(ex.at("audio").size(1), 3 * 16000);
    EXPECT_GT(rms(ex.at("audio")), 0.01);
    const Tensor notes = ex.at("notes");
    const auto from_midi = midi::extract_notes(midi::read_smf((d / ds.item(i).files.at("midi")).string()));
    ASSERT_EQ(notes.size(0), static_cast<int64_t>(from_midi.size()));
    ASSERT_EQ(notes.size(1), 4);
    const auto v = notes.to_vector<float>();
    for (size_t k = 0; k < from_midi.size(); ++k) {
      EXPECT_NEAR(v[4 * k], from_midi[k].onset, 1e-5);
      EXPECT_NEAR(v[4 * k + 1], from_midi[k].offset, 1e-5);
      EXPECT_EQ(v[4 * k + 2], from_midi[k].pitch);
      EXPECT_EQ(v[4 * k + 3], from_midi[k].velocity);
    }
  }
}

TEST(Corpus, ChordsHaveModeLabelsChromaAndChordSymbols) {
  const auto d = fresh_dir("chords");
  render("chords", d);
  data::CorpusDataset ds(d.string(), "all");
  EXPECT_EQ(ds.classes(), data::mode_names());
  std::set<int64_t> modes;
  for (int64_t i = 0; i < ds.size(); ++i) {
    auto ex = ds.get(i);
    modes.insert(ex.at("label").item<int64_t>());
    const Tensor chroma = ex.at("chroma");
    EXPECT_EQ(chroma.size(0), ex.at("audio").size(1) / data::CorpusDataset::kChromaHop + 1);
    EXPECT_EQ(chroma.size(1), 12);
    EXPECT_EQ(ex.at("chord_roots").size(0), 4);
    // The first chord is the tonic chord: its root's chroma is lit at the first frames.
    const int64_t root = ex.at("chord_roots").to_vector<int64_t>()[0];
    EXPECT_GT(chroma.to_vector<float>()[static_cast<size_t>(12 * 2 + root)], 0.f);
    // One graph node per chord, its pitch-class profile lit at the chord's root.
    const Tensor x = ex.at("graph_x");
    ASSERT_EQ(x.size(0), 4);
    EXPECT_EQ(x.to_vector<float>()[static_cast<size_t>(root)], 1.f);
    EXPECT_EQ(ex.at("graph_edge_index").size(0), 2);
    EXPECT_GE(ex.at("graph_edge_type").size(0), 3);  // at least the temporal edges
  }
  EXPECT_EQ(modes.size(), 7u);
}

TEST(Corpus, SymbolicHoldsEventTokensOfEverySource) {
  if (!data::mma_available()) GTEST_SKIP() << "mma is not installed (Debian package mma)";
  const auto d = fresh_dir("symbolic");
  render("symbolic", d);
  data::CorpusDataset ds(d.string(), "all");
  EXPECT_EQ(ds.manifest().sample_rate, 0);
  EXPECT_EQ(ds.classes(), (std::vector<std::string>{"genres", "piano", "chords"}));
  expect_split_by_group(ds.manifest(), false);
  std::set<int64_t> sources;
  for (int64_t i = 0; i < ds.size(); ++i) {
    auto ex = ds.get(i);
    const auto tokens = ex.at("tokens").to_vector<int64_t>();
    ASSERT_FALSE(tokens.empty());
    for (int64_t t : tokens) ASSERT_TRUE(t >= 0 && t < 388) << t;
    // As many note-ons as note-offs, and as many as the saved MIDI has pitched notes.
    const auto on = std::count_if(tokens.begin(), tokens.end(), [](int64_t t) { return t < 128; });
    const auto off = std::count_if(tokens.begin(), tokens.end(), [](int64_t t) { return t >= 128 && t < 256; });
    EXPECT_EQ(on, off);
    const auto notes = midi::extract_notes(midi::read_smf((d / ds.item(i).files.at("midi")).string()));
    EXPECT_EQ(on, std::count_if(notes.begin(), notes.end(), [](const midi::Note& n) { return !n.is_drum; }));
    sources.insert(ex.at("label").item<int64_t>());
  }
  EXPECT_EQ(sources.size(), 3u);
}

TEST(Corpus, UnknownNamesAndSizesAreClearErrors) {
  data::RenderOptions o;
  o.out_dir = fresh_dir("bad").string();
  EXPECT_THROW_MSG(data::render_corpus("noise", o), "unknown corpus 'noise'");
  o.size = "huge";
  EXPECT_THROW_MSG(data::render_corpus("piano", o), "size 'huge'");
  EXPECT_THROW_MSG(data::CorpusDataset(o.out_dir, "train"), "manifest.json");
  EXPECT_THROW_MSG(data::CorpusDataset(o.out_dir, "training"), "split 'training'");
}

TEST(Progress, PlainLinesWhenNotATerminal) {
  FILE* f = std::tmpfile();
  {
    data::ProgressBar bar("render", 4, {.stream = f, .log_interval = 1e9, .unit = "songs", .tty = 0});
    for (int i = 0; i < 4; ++i) bar.advance(1, {{"song", "s" + std::to_string(i)}});
    EXPECT_EQ(bar.done(), 4);
    EXPECT_NE(bar.line().find("4/4"), std::string::npos);
    EXPECT_NE(bar.line().find("song=s3"), std::string::npos);
  }
  std::rewind(f);
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, f)) text += buf;
  std::fclose(f);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  // The first line (0/4) and the last (4/4): nothing in between with this interval.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_NE(text.find("4/4"), std::string::npos);
}

TEST(Progress, RedrawsInPlaceOnATerminal) {
  FILE* f = std::tmpfile();
  {
    data::ProgressBar bar("epoch 1", 3, {.stream = f, .redraw_interval = 0, .tty = 1});
    bar.advance(1, {{"loss", "0.5"}});
    bar.advance(2, {{"loss", "0.25"}});
  }
  std::rewind(f);
  std::string text;
  char buf[2048];
  while (std::fgets(buf, sizeof buf, f)) text += buf;
  std::fclose(f);
  EXPECT_GE(std::count(text.begin(), text.end(), '\r'), 3);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_NE(text.find("loss=0.25"), std::string::npos);
  EXPECT_EQ(data::format_duration(3725), "1:02:05");
  EXPECT_EQ(data::format_duration(65), "1:05");
}

}  // namespace
