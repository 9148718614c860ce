#pragma once
// The performance event vocabulary of Music Transformer (Huang et al. 2018), as Magenta's
// PerformanceOneHotEncoding numbers it with num_velocity_bins = 32 and 100 shift steps per
// second: 388 tokens in four ranges, in this order --
//   [  0, 128)  NOTE_ON(pitch)         token = pitch
//   [128, 256)  NOTE_OFF(pitch)        token = 128 + pitch
//   [256, 356)  TIME_SHIFT(k * 10 ms)  token = 256 + k - 1, k = 1..100 (10 ms .. 1 s)
//   [356, 388)  VELOCITY(bin)          token = 356 + bin - 1, bin = 1..32
// (Magenta's Music Transformer adds 2 reserved ids, PAD = 0 and EOS = 1, in front of these; a
// model that wants them shifts the ids itself.)
//
// Velocity bins are Magenta's: bin size ceil(127 / 32) = 4, bin(v) = (v - 1) / 4 + 1, and a bin
// decodes to its lowest velocity 1 + (bin - 1) * 4 (1, 5, ..., 125).
//
// Encoding, as Magenta's Performance from a quantized NoteSequence. Times are quantised to 10 ms
// steps, round(t * 100) (half up); a note that would last zero steps lasts one. Notes are ranked
// by (onset step, pitch) and their on/off events sorted by (step, rank, off after on) -- so at a
// step the note-offs come first (their notes started earlier), in the order their notes started,
// then the note-ons by pitch. Starting at time 0, before each event that is later than the
// previous one: time shifts up to it (a gap of more than 1 s becomes shifts of 1 s and one of the
// rest); before a note-on, a VELOCITY token when its bin differs from the last one emitted
// (always before the first note-on). (Magenta ranks by unquantised onset; two notes whose onsets
// round to one step are ranked by pitch here.) Drums are left out unless asked for; programs and
// channels are not encoded.
//
// Decoding pairs note-ons and note-offs per pitch first in, first out (as extract_notes does),
// ignores a note-off with no open note and closes a note never turned off at the final time
// (dropped if that gives it zero length). A note-on before any VELOCITY token gets
// kDefaultVelocity. decode(encode(notes)) == quantize(notes) (sorted by onset, then pitch) when
// no two notes of one pitch overlap after quantisation: a NOTE_OFF names only its pitch, so two
// overlapping notes of one pitch come back with their ends exchanged FIFO-wise.
#include <cstdint>
#include <string>
#include <vector>

#include "midi/notes.h"
#include "tensor/tensor.h"

namespace fm::midi {

inline constexpr int kNumNotePitches = 128;
inline constexpr int kNumTimeShifts = 100;       // shifts of 1..100 steps
inline constexpr int kStepsPerSecond = 100;      // 10 ms steps
inline constexpr int kNumVelocityBins = 32;
inline constexpr int kVelocityBinSize = 4;       // ceil(127 / 32)
inline constexpr int kNoteOnOffset = 0;
inline constexpr int kNoteOffOffset = kNoteOnOffset + kNumNotePitches;   // 128
inline constexpr int kTimeShiftOffset = kNoteOffOffset + kNumNotePitches;  // 256
inline constexpr int kVelocityOffset = kTimeShiftOffset + kNumTimeShifts;  // 356
inline constexpr int kVocabSize = kVelocityOffset + kNumVelocityBins;      // 388
inline constexpr int kDefaultVelocity = 64;

enum class TokenType { NoteOn, NoteOff, TimeShift, Velocity };

struct TokenInfo {
  TokenType type;
  int value;  // pitch 0..127, shift steps 1..100, or velocity bin 1..32
};

// Token ids from their values; each checks its range and throws naming it.
int64_t note_on_token(int pitch);
int64_t note_off_token(int pitch);
int64_t time_shift_token(int steps);
int64_t velocity_token(int bin);
// The type and value of a token id (throws for an id outside 0..387).
TokenInfo token_info(int64_t token);
// "NOTE_ON(60)", "NOTE_OFF(60)", "TIME_SHIFT(250ms)", "VELOCITY(17: 65..68)"; "<invalid 400>"
// for an id outside the vocabulary (for debugging output: never throws).
std::string token_to_string(int64_t token);
// The tokens joined by spaces.
std::string tokens_to_string(const std::vector<int64_t>& tokens);

// Velocity 1..127 (values outside are clamped) -> bin 1..32, and bin -> its lowest velocity.
int velocity_to_bin(int velocity);
int bin_to_velocity(int bin);

struct EventEncodingOptions {
  bool include_drums = false;
};

// The notes as the decoder gives them back: times on the 10 ms grid (at least one step long),
// velocity at its bin's lowest value, program and channel 0, drums removed unless asked for;
// sorted by onset, pitch, offset.
std::vector<Note> quantize_notes(const std::vector<Note>& notes, const EventEncodingOptions& o = {});

std::vector<int64_t> encode_events(const std::vector<Note>& notes, const EventEncodingOptions& o = {});
// int64 [L].
Tensor encode_events_tensor(const std::vector<Note>& notes, const EventEncodingOptions& o = {});

// Throws for a token outside 0..387, naming its position.
std::vector<Note> decode_events(const std::vector<int64_t>& tokens);
// tokens: int64 [L] (any strides).
std::vector<Note> decode_events(const Tensor& tokens);

// Moves NOTE_ON and NOTE_OFF tokens by `semitones`. Drop removes the note tokens whose pitch
// would leave 0..127 (both the on and the off of such a note go, so pairing is kept); Clamp
// keeps them at 0 or 127 (which can merge two pitches). Other tokens are kept as they are.
std::vector<int64_t> transpose_events(const std::vector<int64_t>& tokens, int semitones,
                                      TransposeMode mode = TransposeMode::Drop);

}  // namespace fm::midi
