#include <cmath>
#include <vector>

#include "midi/notes.h"
#include "midi/smf.h"
#include "support/test_support.h"

using namespace fm::midi;

namespace {

File one_track(int tpq, std::vector<Event> events) {
  File f;
  f.format = 0;
  f.ticks_per_quarter = tpq;
  f.tracks.resize(1);
  f.tracks[0].events = std::move(events);
  return f;
}

Note make(int pitch, double on, double off, int vel = 100, int program = 0, int channel = 0) {
  Note n;
  n.pitch = pitch;
  n.onset = on;
  n.offset = off;
  n.velocity = vel;
  n.program = program;
  n.channel = channel;
  n.is_drum = channel == 9;
  return n;
}

}  // namespace

TEST(Notes, PairsNoteOnAndOffWithVelocityZeroAsOff) {
  // 480 tpq, 120 bpm: 960 ticks per second.
  const File f = one_track(480, {program_change(0, 2, 33), note_on(0, 2, 40, 70), note_off(480, 2, 40, 0),
                                 note_on(480, 2, 41, 71), note_off(960, 2, 41, 64)});
  const auto notes = extract_notes(f);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0], make(40, 0.0, 0.5, 70, 33, 2));
  EXPECT_EQ(notes[1], make(41, 0.5, 1.0, 71, 33, 2));
}

TEST(Notes, OverlappingSamePitchIsFirstInFirstOut) {
  const File f = one_track(96, {note_on(0, 0, 60, 10), note_on(10, 0, 60, 20), note_off(20, 0, 60),
                                note_off(30, 0, 60), note_off(40, 0, 60) /* unmatched: ignored */,
                                note_on(50, 1, 60, 30) /* other channel, never closed */, end_of_track(96)});
  const auto notes = extract_notes(f);
  const double tick = 1.0 / 192;
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_EQ(notes[0].velocity, 10);
  EXPECT_DOUBLE_EQ(notes[0].offset, 20 * tick);
  EXPECT_EQ(notes[1].velocity, 20);
  EXPECT_DOUBLE_EQ(notes[1].onset, 10 * tick);
  EXPECT_DOUBLE_EQ(notes[1].offset, 30 * tick);
  EXPECT_EQ(notes[2].channel, 1);
  EXPECT_DOUBLE_EQ(notes[2].offset, 96 * tick);
}

TEST(Notes, ZeroLengthNotesAreDroppedAndTracksShareChannels) {
  File f;
  f.ticks_per_quarter = 96;
  f.tracks.resize(2);
  f.tracks[0].events = {note_on(0, 0, 60, 100), note_off(0, 0, 60), program_change(10, 4, 12)};
  f.tracks[1].events = {note_on(10, 4, 70, 100), note_off(20, 4, 70)};  // program from track 0
  const auto notes = extract_notes(f);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].program, 12);
  EXPECT_EQ(notes[0].pitch, 70);
}

TEST(Notes, TempoChangesGiveSeconds) {
  // 120 bpm, then 60 bpm from tick 480 (0.5 s): a note from 240 to 960 lasts 0.25 .. 1.5 s.
  const File f = one_track(480, {tempo(480, 1000000), note_on(240, 0, 60, 90), note_off(960, 0, 60)});
  const auto notes = extract_notes(f);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_DOUBLE_EQ(notes[0].onset, 0.25);
  EXPECT_DOUBLE_EQ(notes[0].offset, 1.5);
}

TEST(Notes, TransposeDropsOrClampsAndLeavesDrums) {
  const std::vector<Note> notes{make(60, 0, 1), make(120, 0, 1), make(3, 0, 1), make(36, 0, 1, 100, 0, 9)};
  const auto up = transpose(notes, 10);
  ASSERT_EQ(up.size(), 3u);
  EXPECT_EQ(up[0].pitch, 70);
  EXPECT_EQ(up[1].pitch, 13);
  EXPECT_EQ(up[2].pitch, 36);  // drum untouched
  const auto clamped = transpose(notes, 10, TransposeMode::Clamp);
  ASSERT_EQ(clamped.size(), 4u);
  EXPECT_EQ(clamped[1].pitch, 127);
  const auto down = transpose(notes, -5, TransposeMode::Clamp);
  EXPECT_EQ(down[2].pitch, 0);
  EXPECT_EQ(transpose(notes, -5).size(), 3u);
  EXPECT_EQ(transpose(notes, 0), notes);
}

TEST(Notes, RoundTripThroughSmfWithinOneTick) {
  std::vector<Note> notes{make(60, 0.0, 0.5, 80, 0, 0),     make(64, 0.25, 1.013, 90, 0, 0),
                          make(60, 0.4, 0.9, 70, 0, 0),     // overlaps the first C4
                          make(67, 1.0, 2.5, 60, 40, 3),    make(67, 2.5, 2.75, 61, 41, 3),
                          make(36, 0.0, 0.1, 127, 0, 9),    make(100, 3.3333, 3.5, 1, 0, 15)};
  for (bool per_channel : {false, true}) {
    NotesToSmfOptions opt;
    opt.per_channel = per_channel;
    opt.ticks_per_quarter = 960;
    opt.bpm = 90;
    const File f = notes_to_smf(notes, opt);
    EXPECT_EQ(f.format, per_channel ? 1 : 0);
    if (per_channel) EXPECT_EQ(f.tracks.size(), 5u);  // tempo + channels 0, 3, 9, 15
    const auto bytes = write_smf_to_bytes(f);
    const File back_file = read_smf_from_bytes(bytes.data(), bytes.size());
    EXPECT_EQ(back_file, f);
    const auto back = extract_notes(back_file);
    ASSERT_EQ(back.size(), notes.size());
    std::vector<Note> want = notes;
    std::stable_sort(want.begin(), want.end(), [](const Note& a, const Note& b) {
      return std::tie(a.onset, a.pitch, a.channel) < std::tie(b.onset, b.pitch, b.channel);
    });
    const double tick = 60.0 / 90 / 960;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(back[i].pitch, want[i].pitch) << i;
      EXPECT_EQ(back[i].velocity, want[i].velocity) << i;
      EXPECT_EQ(back[i].channel, want[i].channel) << i;
      EXPECT_EQ(back[i].program, want[i].program) << i;
      EXPECT_EQ(back[i].is_drum, want[i].is_drum) << i;
      EXPECT_LE(std::abs(back[i].onset - want[i].onset), tick) << i;
      EXPECT_LE(std::abs(back[i].offset - want[i].offset), tick) << i;
    }
  }
}

TEST(Notes, NotesToSmfRejectsBadNotes) {
  EXPECT_THROW_MSG(notes_to_smf({make(60, 1.0, 0.5)}), "expected 0 <= onset <= offset");
  EXPECT_THROW_MSG(notes_to_smf({make(60, -1.0, 0.5)}), "onset -1");
  EXPECT_THROW_MSG(notes_to_smf({make(128, 0, 0.5)}), "pitch 128");
  EXPECT_THROW_MSG(notes_to_smf({make(60, 0, 0.5, 100, 0, 16)}), "channel 16");
  NotesToSmfOptions opt;
  opt.bpm = 0;
  EXPECT_THROW_MSG(notes_to_smf({}, opt), "bpm must be positive");
  // No notes: a valid file with just the tempo.
  const File empty = notes_to_smf({});
  EXPECT_TRUE(extract_notes(empty).empty());
}
