#include <algorithm>
#include <random>
#include <vector>

#include "midi/notes.h"
#include "midi/piano_roll.h"
#include "midi/note_helpers.h"
#include "support/test_support.h"

using namespace fm::midi;

namespace {

using fm::midi::testing::make;

float at(const fm::Tensor& roll, int64_t frame, int pitch) {
  return roll.to_vector<float>()[frame * kPianoKeys + (pitch - kPianoMinPitch)];
}

// Notes on a 10 fps grid (times off the grid by < half a frame), per key a chain of notes
// separated by gaps of >= 0 frames, a back-to-back note only after one longer than onset_frames.
std::vector<Note> random_notes(uint32_t seed, int onset_frames) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> vel(1, 127), len(1, 12), gap(0, 6);
  std::uniform_real_distribution<double> jitter(-0.049, 0.049);
  std::vector<int> keys(88);
  for (int k = 0; k < 88; ++k) keys[k] = 21 + k;
  std::shuffle(keys.begin(), keys.end(), rng);
  std::vector<Note> notes;
  for (int k = 0; k < 20; ++k) {
    int64_t f = gap(rng);
    int64_t prev_len = onset_frames + 1;
    for (int i = 0; i < 6; ++i) {
      const int64_t l = std::max<int64_t>(len(rng), onset_frames);
      notes.push_back(make(keys[k], (f ? f / 10.0 + jitter(rng) : 0.0), (f + l) / 10.0 + jitter(rng), vel(rng)));
      prev_len = l;
      int64_t g = gap(rng);
      if (g == 0 && prev_len <= onset_frames) g = 1;
      f += l + g;
    }
  }
  return notes;
}

}  // namespace

TEST(PianoRoll, LabelsAsOnsetsAndFrames) {
  PianoRollOptions o = PianoRollOptions::from_hop_seconds(0.1);  // 10 fps
  o.onset_frames = 2;
  o.offset_frames = 1;
  // A4 from 0.2 to 0.8 s (frames 2..7), velocity 127; C4 from 0.34 to 0.36 s: rounds to frame
  // 3..4 and lasts onset_frames = 2 frames; a drum and an out-of-range key are left out.
  const PianoRoll r = notes_to_piano_roll(
      {make(69, 0.2, 0.8, 127), make(60, 0.34, 0.36, 64), make(36, 0.0, 0.5, 100, true), make(109, 0, 1)}, o);
  EXPECT_EQ(r.frames.dtype(), fm::DType::Float32);
  EXPECT_EQ(r.frames.sizes(), (fm::Shape{9, 88}));  // A4's offset label at frame 8
  for (const auto* roll : {&r.frames, &r.onsets, &r.offsets, &r.velocities}) EXPECT_EQ(roll->sizes(), r.frames.sizes());
  for (int64_t f = 0; f < 9; ++f) {
    EXPECT_EQ(at(r.frames, f, 69), f >= 2 && f < 8 ? 1.f : 0.f) << f;
    EXPECT_EQ(at(r.onsets, f, 69), f >= 2 && f < 4 ? 1.f : 0.f) << f;
    EXPECT_EQ(at(r.velocities, f, 69), f >= 2 && f < 4 ? 1.f : 0.f) << f;
    EXPECT_EQ(at(r.offsets, f, 69), f == 8 ? 1.f : 0.f) << f;
    EXPECT_EQ(at(r.frames, f, 60), f >= 3 && f < 5 ? 1.f : 0.f) << f;
    EXPECT_FLOAT_EQ(at(r.velocities, f, 60), f >= 3 && f < 5 ? 64.f / 127 : 0.f) << f;
    EXPECT_EQ(at(r.offsets, f, 60), f == 5 ? 1.f : 0.f) << f;
  }
  // Everything else is zero.
  double total = 0;
  for (float v : r.frames.to_vector<float>()) total += v;
  EXPECT_EQ(total, 6 + 2);
  // Drums on request (key 36 is in range).
  o.include_drums = true;
  EXPECT_EQ(at(notes_to_piano_roll({make(36, 0.0, 0.5, 100, true)}, o).frames, 0, 36), 1.f);
  // A fixed length cuts.
  o.num_frames = 4;
  const PianoRoll cut = notes_to_piano_roll({make(69, 0.2, 0.8, 127)}, o);
  EXPECT_EQ(cut.num_frames(), 4);
  EXPECT_EQ(at(cut.frames, 3, 69), 1.f);
}

TEST(PianoRoll, FromHopMatchesOnsetsAndFrames) {
  EXPECT_DOUBLE_EQ(PianoRollOptions::from_hop(16000, 512).frames_per_second, 31.25);
  EXPECT_DOUBLE_EQ(PianoRollOptions{}.frames_per_second, 31.25);
  EXPECT_THROW_MSG(PianoRollOptions::from_hop(16000, 0), "hop_length 0");
  PianoRollOptions bad;
  bad.onset_frames = 0;
  EXPECT_THROW_MSG(notes_to_piano_roll({}, bad), "onset_frames 0");
}

TEST(PianoRoll, RoundTripAtFrameResolution) {
  for (int onset_frames : {1, 2}) {
    for (uint32_t seed : {11u, 12u}) {
      PianoRollOptions o = PianoRollOptions::from_hop_seconds(0.1);
      o.onset_frames = onset_frames;
      const auto notes = random_notes(seed, onset_frames);
      const auto want = quantize_to_frames(notes, o);
      ASSERT_EQ(want.size(), notes.size());
      const auto got = piano_roll_to_notes(notes_to_piano_roll(notes, o));
      ASSERT_EQ(got.size(), want.size()) << "onset_frames " << onset_frames << " seed " << seed;
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(got[i].pitch, want[i].pitch) << i;
        EXPECT_EQ(got[i].velocity, want[i].velocity) << i;
        EXPECT_NEAR(got[i].onset, want[i].onset, 1e-9) << i;
        EXPECT_NEAR(got[i].offset, want[i].offset, 1e-9) << i;
      }
    }
  }
}

TEST(PianoRoll, DecoderNeedsOnsetsAndSplitsReStrikes) {
  const int64_t t = 10;
  std::vector<float> on(t * 88, 0.f), fr(t * 88, 0.f), vel(t * 88, 0.f);
  const int k = 60 - kPianoMinPitch;
  // Key 60: frames 1..8 on, onsets at 1 and 5 (re-struck): two notes 1..5 and 5..9.
  for (int f = 1; f < 9; ++f) fr[f * 88 + k] = 0.9f;
  on[1 * 88 + k] = 0.7f;
  vel[1 * 88 + k] = 0.5f;
  on[5 * 88 + k] = 0.6f;
  vel[5 * 88 + k] = 1.0f;
  // Key 61: frames without an onset never start a note.
  for (int f = 0; f < 5; ++f) fr[f * 88 + k + 1] = 0.9f;
  // Key 62: an onset below the threshold does nothing; one above it in the last frame gives a
  // one-frame note.
  on[3 * 88 + k + 2] = 0.4f;
  on[9 * 88 + k + 2] = 0.8f;
  const auto notes = piano_roll_to_notes(fm::from_vector(on, {t, 88}), fm::from_vector(fr, {t, 88}),
                                         fm::from_vector(vel, {t, 88}), 10.0);
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_EQ(notes[0].pitch, 60);
  EXPECT_DOUBLE_EQ(notes[0].onset, 0.1);
  EXPECT_DOUBLE_EQ(notes[0].offset, 0.5);
  EXPECT_EQ(notes[0].velocity, 64);  // round(0.5 * 127)
  EXPECT_EQ(notes[1].pitch, 60);
  EXPECT_DOUBLE_EQ(notes[1].onset, 0.5);
  EXPECT_DOUBLE_EQ(notes[1].offset, 0.9);
  EXPECT_EQ(notes[1].velocity, 127);
  EXPECT_EQ(notes[2].pitch, 62);
  EXPECT_DOUBLE_EQ(notes[2].onset, 0.9);
  EXPECT_DOUBLE_EQ(notes[2].offset, 1.0);
  // Without velocities: the default.
  PianoRollDecodeOptions d;
  d.default_velocity = 50;
  d.program = 3;
  const auto nv = piano_roll_to_notes(fm::from_vector(on, {t, 88}), fm::from_vector(fr, {t, 88}), fm::Tensor(), 10.0, d);
  EXPECT_EQ(nv[0].velocity, 50);
  EXPECT_EQ(nv[0].program, 3);
  EXPECT_THROW_MSG(piano_roll_to_notes(fm::zeros({3, 87}), fm::zeros({3, 88}), fm::Tensor(), 10.0),
                   "onsets must be a float32/float64 [T, 88]");
  EXPECT_THROW_MSG(piano_roll_to_notes(fm::zeros({3, 88}), fm::zeros({4, 88}), fm::Tensor(), 10.0),
                   "same number of frames");
}

TEST(PianoRoll, RoundTripThroughAFileAtOnsetsAndFramesRate) {
  // Notes written to an SMF, read back and rolled at 31.25 fps decode to the same frame grid.
  std::vector<Note> notes{make(21, 0.0, 0.5, 30), make(108, 0.1, 1.0, 90), make(64, 0.5, 0.7, 70),
                          make(64, 0.7, 1.3, 71)};  // back to back on one key
  const File f = notes_to_smf(notes);
  const auto back = extract_notes(f);
  const auto want = quantize_to_frames(back);
  EXPECT_EQ(piano_roll_to_notes(notes_to_piano_roll(back)), want);
  EXPECT_EQ(want.size(), 4u);
}
