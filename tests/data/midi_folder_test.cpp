#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/midi_folder.h"
#include "midi/events.h"
#include "midi/notes.h"
#include "midi/smf.h"
#include "support/test_support.h"

using namespace fm;
namespace fs = std::filesystem;

namespace {

midi::Note make(int pitch, double on, double off, int vel = 100) {
  midi::Note n;
  n.pitch = pitch;
  n.onset = on;
  n.offset = off;
  n.velocity = vel;
  return n;
}

class MidiFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("fermata_midi_folder_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir / "sub" / "deeper");
    a = {make(60, 0, 0.5), make(64, 0.5, 1.0, 80), make(67, 1.0, 3.0, 40)};
    b = {make(50, 0.25, 0.75)};
    midi::write_smf(midi::notes_to_smf(a), (dir / "b_song.mid").string());
    midi::write_smf(midi::notes_to_smf(b), (dir / "sub" / "deeper" / "a_song.MIDI").string());
    std::ofstream(dir / "sub" / "broken.mid") << "MThd garbage";
    std::ofstream(dir / "notes.txt") << "not midi";
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path dir;
  std::vector<midi::Note> a, b;
};

}  // namespace

TEST_F(MidiFolderTest, FindsFilesRecursivelyAndReportsBadOnes) {
  const auto files = data::find_midi_files(dir.string());
  ASSERT_EQ(files.size(), 3u);  // sorted paths; the .txt is not listed
  EXPECT_EQ(files[0], (dir / "b_song.mid").string());
  EXPECT_EQ(files[1], (dir / "sub" / "broken.mid").string());
  EXPECT_EQ(files[2], (dir / "sub" / "deeper" / "a_song.MIDI").string());

  const data::MidiFolder ds(dir.string());
  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.path(0), files[0]);
  EXPECT_EQ(ds.path(1), files[2]);
  ASSERT_EQ(ds.failures().size(), 1u);
  EXPECT_EQ(ds.failures()[0].path, files[1]);
  EXPECT_NE(ds.failures()[0].message.find("broken.mid"), std::string::npos) << ds.failures()[0].message;

  data::MidiFolderOptions strict;
  strict.skip_bad_files = false;
  EXPECT_THROW_MSG(data::MidiFolder(dir.string(), strict), "cannot read '" + files[1] + "'");
  EXPECT_THROW_MSG(data::MidiFolder((dir / "missing").string()), "is not a directory");
  EXPECT_THROW_MSG(ds.get(2), "index 2 outside 0..1");
}

TEST_F(MidiFolderTest, GivesTokensOfEachFileAndCrops) {
  const data::MidiFolder ds(dir.string());
  const data::Example ex = ds.get(0);
  ASSERT_EQ(ex.count("tokens"), 1u);
  EXPECT_EQ(ex.count("frames"), 0u);
  const Tensor t = ex.at("tokens");
  EXPECT_EQ(t.dtype(), DType::Int64);
  EXPECT_EQ(t.dim(), 1);
  const auto want = midi::encode_events(midi::extract_notes(midi::read_smf(ds.path(0))));
  EXPECT_EQ(t.to_vector<int64_t>(), want);
  EXPECT_EQ(midi::decode_events(t), midi::quantize_notes(a));
  EXPECT_EQ(midi::decode_events(ds.get(1).at("tokens")), midi::quantize_notes(b));
  EXPECT_EQ(ds.notes(1).size(), 1u);

  data::MidiFolderOptions o;
  o.max_length = 3;
  const data::MidiFolder cropped(dir.string(), o);
  EXPECT_EQ(cropped.get(0).at("tokens").to_vector<int64_t>(), std::vector<int64_t>(want.begin(), want.begin() + 3));
  // A file shorter than max_length is returned whole (padding is the collate's job).
  o.max_length = 1000;
  EXPECT_EQ(data::MidiFolder(dir.string(), o).get(0).at("tokens").size(0), static_cast<int64_t>(want.size()));
}

TEST_F(MidiFolderTest, GivesPianoRollsOnRequest) {
  data::MidiFolderOptions o;
  o.piano_roll = true;
  o.roll = midi::PianoRollOptions::from_hop_seconds(0.1);
  const data::MidiFolder ds(dir.string(), o);
  const data::Example ex = ds.get(0);
  for (const char* key : {"frames", "onsets", "offsets", "velocities"}) {
    ASSERT_EQ(ex.count(key), 1u) << key;
    EXPECT_EQ(ex.at(key).sizes(), (Shape{31, 88})) << key;  // last offset at 3.0 s -> frame 30
  }
  EXPECT_EQ(midi::piano_roll_to_notes(ex.at("onsets"), ex.at("frames"), ex.at("velocities"), 10.0),
            midi::quantize_to_frames(a, o.roll));
  o.max_frames = 12;
  const data::Example cropped = data::MidiFolder(dir.string(), o).get(0);
  EXPECT_EQ(cropped.at("frames").sizes(), (Shape{12, 88}));
  const auto full = ex.at("frames").to_vector<float>();
  EXPECT_EQ(cropped.at("frames").to_vector<float>(), std::vector<float>(full.begin(), full.begin() + 12 * 88));
  o.roll.frames_per_second = 0;
  EXPECT_THROW_MSG(data::MidiFolder(dir.string(), o), "frames_per_second 0");
}
