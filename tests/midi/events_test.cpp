#include <algorithm>
#include <random>
#include <vector>

#include "midi/events.h"
#include "midi/notes.h"
#include "midi/note_helpers.h"
#include "support/test_support.h"

using namespace fm::midi;

namespace {

using fm::midi::testing::make;

// Random notes with no two notes of one pitch overlapping after quantisation (the condition
// for an exact round trip, see events.h): each pitch is a chain of notes and gaps.
std::vector<Note> random_notes(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Note> notes;
  std::uniform_int_distribution<int> vel(1, 127), dur(1, 250), gap(0, 400);
  std::vector<int> pitches(128);
  for (int p = 0; p < 128; ++p) pitches[p] = p;
  std::shuffle(pitches.begin(), pitches.end(), rng);
  for (int k = 0; k < 12; ++k) {
    const int p = pitches[k];
    int64_t step = gap(rng);
    for (int i = 0; i < 5; ++i) {
      const int64_t len = dur(rng);
      // Unquantised times within 5 ms of the grid so they round to (step, step + len).
      std::uniform_real_distribution<double> jitter(-0.0049, 0.0049);
      notes.push_back(make(p, step / 100.0 + (step ? jitter(rng) : 0.0), (step + len) / 100.0 + jitter(rng), vel(rng)));
      step += len + gap(rng);
    }
  }
  return notes;
}

}  // namespace

TEST(Events, VocabularyLayoutIsMagentas) {
  EXPECT_EQ(kVocabSize, 388);
  EXPECT_EQ(note_on_token(0), 0);
  EXPECT_EQ(note_on_token(127), 127);
  EXPECT_EQ(note_off_token(0), 128);
  EXPECT_EQ(note_off_token(127), 255);
  EXPECT_EQ(time_shift_token(1), 256);
  EXPECT_EQ(time_shift_token(100), 355);
  EXPECT_EQ(velocity_token(1), 356);
  EXPECT_EQ(velocity_token(32), 387);
  for (int64_t t = 0; t < kVocabSize; ++t) {
    const TokenInfo i = token_info(t);
    int64_t back = -1;
    switch (i.type) {
      case TokenType::NoteOn: back = note_on_token(i.value); break;
      case TokenType::NoteOff: back = note_off_token(i.value); break;
      case TokenType::TimeShift: back = time_shift_token(i.value); break;
      case TokenType::Velocity: back = velocity_token(i.value); break;
    }
    EXPECT_EQ(back, t);
  }
  EXPECT_THROW_MSG(note_on_token(128), "pitch 128");
  EXPECT_THROW_MSG(time_shift_token(0), "0 steps");
  EXPECT_THROW_MSG(token_info(388), "token 388");
}

TEST(Events, VelocityBinsAreMagentas) {
  EXPECT_EQ(velocity_to_bin(1), 1);
  EXPECT_EQ(velocity_to_bin(4), 1);
  EXPECT_EQ(velocity_to_bin(5), 2);
  EXPECT_EQ(velocity_to_bin(127), 32);
  EXPECT_EQ(velocity_to_bin(0), 1);  // clamped
  EXPECT_EQ(bin_to_velocity(1), 1);
  EXPECT_EQ(bin_to_velocity(32), 125);
  for (int b = 1; b <= 32; ++b) EXPECT_EQ(velocity_to_bin(bin_to_velocity(b)), b);
}

TEST(Events, ToStringNamesTokens) {
  EXPECT_EQ(token_to_string(60), "NOTE_ON(60)");
  EXPECT_EQ(token_to_string(128 + 60), "NOTE_OFF(60)");
  EXPECT_EQ(token_to_string(time_shift_token(25)), "TIME_SHIFT(250ms)");
  EXPECT_EQ(token_to_string(velocity_token(17)), "VELOCITY(17: 65..68)");
  EXPECT_EQ(token_to_string(velocity_token(32)), "VELOCITY(32: 125..127)");
  EXPECT_EQ(token_to_string(-1), "<invalid -1>");
  EXPECT_EQ(tokens_to_string({60, 188}), "NOTE_ON(60) NOTE_OFF(60)");
}

TEST(Events, EncodesAKnownSequence) {
  // C4 at 0..0.5 s (velocity 100), E4 at 0.25..2.75 s (velocity 98, same bin 25), C4 again at
  // 0.5 s (velocity 40, bin 10) right where the first one ends.
  const std::vector<Note> notes{make(60, 0.0, 0.5, 100), make(64, 0.25, 2.75, 98), make(60, 0.5, 0.75, 40)};
  const std::vector<int64_t> want{
      velocity_token(25), note_on_token(60),            // step 0
      time_shift_token(25), note_on_token(64),          // step 25, same velocity bin: no token
      time_shift_token(25), note_off_token(60),         // step 50: off before on
      velocity_token(10), note_on_token(60),            //
      time_shift_token(25), note_off_token(60),         // step 75
      time_shift_token(100), time_shift_token(100),     // 2 s gap ...
      note_off_token(64)};                              // step 275
  const auto tokens = encode_events(notes);
  EXPECT_EQ(tokens, want) << tokens_to_string(tokens);
  const fm::Tensor t = encode_events_tensor(notes);
  EXPECT_EQ(t.dtype(), fm::DType::Int64);
  EXPECT_EQ(t.sizes(), (fm::Shape{static_cast<int64_t>(want.size())}));
  EXPECT_EQ(t.to_vector<int64_t>(), want);
}

TEST(Events, OffsAtOneStepComeInTheOrderTheirNotesStarted) {
  // Magenta's order: G4 started first, so its note-off comes before C4's although 67 > 60.
  const auto tokens = encode_events({make(67, 0.0, 1.0, 80), make(60, 0.1, 1.0, 80)});
  const std::vector<int64_t> want{velocity_token(20),   note_on_token(67),  time_shift_token(10), note_on_token(60),
                                  time_shift_token(90), note_off_token(67), note_off_token(60)};
  EXPECT_EQ(tokens, want) << tokens_to_string(tokens);
}

TEST(Events, LongGapsBecomeSeveralShiftsAndLeadingSilenceIsKept) {
  const auto tokens = encode_events({make(70, 2.57, 2.6, 64)});
  const std::vector<int64_t> want{time_shift_token(100), time_shift_token(100), time_shift_token(57),
                                  velocity_token(velocity_to_bin(64)), note_on_token(70), time_shift_token(3),
                                  note_off_token(70)};
  EXPECT_EQ(tokens, want) << tokens_to_string(tokens);
}

TEST(Events, RoundTripIsExactAfterQuantisation) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const auto notes = random_notes(seed);
    const auto q = quantize_notes(notes);
    ASSERT_EQ(q.size(), notes.size());
    const auto tokens = encode_events(notes);
    for (int64_t t : tokens) ASSERT_TRUE(t >= 0 && t < kVocabSize);
    EXPECT_EQ(decode_events(tokens), q) << "seed " << seed;
    EXPECT_EQ(decode_events(encode_events_tensor(notes)), q);
    // Quantised notes are a fixed point.
    EXPECT_EQ(encode_events(q), tokens);
  }
}

TEST(Events, ShortNotesLastOneStepAndDrumsAreOptional) {
  const std::vector<Note> notes{make(60, 0.1, 0.101, 90), make(36, 0.0, 0.05, 120, true)};
  const auto q = quantize_notes(notes);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_DOUBLE_EQ(q[0].onset, 0.1);
  EXPECT_DOUBLE_EQ(q[0].offset, 0.11);
  EXPECT_EQ(decode_events(encode_events(notes)), q);
  EventEncodingOptions o;
  o.include_drums = true;
  const auto with_drums = decode_events(encode_events(notes, o));
  ASSERT_EQ(with_drums.size(), 2u);
  EXPECT_EQ(with_drums[0].pitch, 36);
  EXPECT_FALSE(with_drums[0].is_drum);  // channels are not encoded
}

TEST(Events, DecodeToleratesUnpairedEventsAndRejectsBadIds) {
  // A note-off with nothing open is ignored; a note never turned off ends at the final time; a
  // note-on before any velocity gets the default velocity.
  const std::vector<int64_t> tokens{note_off_token(50), note_on_token(61), time_shift_token(10), note_on_token(62),
                                    time_shift_token(5)};
  const auto notes = decode_events(tokens);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0], (Note{61, kDefaultVelocity, 0.0, 0.15, 0, 0, false}));
  EXPECT_EQ(notes[1], (Note{62, kDefaultVelocity, 0.1, 0.15, 0, 0, false}));
  // Closed at the very end with zero length: dropped.
  EXPECT_TRUE(decode_events({note_on_token(60)}).empty());
  EXPECT_THROW_MSG(decode_events({60, 400}), "token 400 at position 1");
  EXPECT_THROW_MSG(decode_events(fm::tensor({1, 2})), "int64 [L]");
  EXPECT_THROW_MSG(encode_events({make(60, -0.5, 1)}), "note time -0.5");
}

TEST(Events, TransposeMovesNotesAndDropsOrClampsOutOfRange) {
  const std::vector<Note> notes{make(60, 0, 0.5, 80), make(120, 0.2, 0.4, 80), make(5, 0.3, 0.6, 30)};
  const auto tokens = encode_events(notes);
  // Transposing tokens equals encoding transposed notes (Drop removes pitch 120 + 10).
  EXPECT_EQ(decode_events(transpose_events(tokens, 10)), decode_events(encode_events(transpose(notes, 10))));
  EXPECT_EQ(decode_events(transpose_events(tokens, -7)), decode_events(encode_events(transpose(notes, -7))));
  const auto clamped = decode_events(transpose_events(tokens, 10, TransposeMode::Clamp));
  ASSERT_EQ(clamped.size(), 3u);
  EXPECT_EQ(clamped[1].pitch, 127);
  EXPECT_EQ(transpose_events(tokens, 0), tokens);
  // Non-note tokens are untouched.
  EXPECT_EQ(transpose_events({time_shift_token(3), velocity_token(4)}, 5),
            (std::vector<int64_t>{time_shift_token(3), velocity_token(4)}));
}
