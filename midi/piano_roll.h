#pragma once
// Piano rolls as Onsets and Frames trains on them (Hawthorne et al. 2018, and the labels of its
// PyTorch port jongwook/onsets-and-frames): 88 keys, A0 = 21 .. C8 = 108, frames of 1 / fps
// seconds, frame t covering [t / fps, (t + 1) / fps). A note covers the frames
// [start, end) with start = round(onset * fps) and end = max(round(offset * fps),
// start + onset_frames) (rounding half up; as in O&F's labels, the onset frames count as sounding,
// so every note lasts at least onset_frames frames). Four float32 rolls [T, 88]:
//   frames     1 on [start, end),
//   onsets     1 on [start, start + onset_frames),
//   offsets    1 on [end, end + offset_frames),
//   velocities velocity / 127 on the onset frames, 0 elsewhere.
// The rolls are separate arrays, as Magenta's sequence_to_pianoroll makes them, so a frame can be
// both the offset of one note and the onset of the next on its key. Notes are written in onset
// order (a later note's velocity wins where two overlap). Keys outside 21..108 and, unless
// include_drums, drum notes are left out; whatever lies past num_frames is cut off.
//
// The inverse is the Onsets and Frames decoder: with onsets and frames thresholded, a note starts
// on a rising edge of its key's onset roll (a frame without an onset never starts a note -- the
// model's point), lasts while its key's frame or onset roll stays on, and ends early at a new
// rising onset edge on its key (a re-struck note, as Magenta's pianoroll_to_note_sequence does).
// Its velocity is the mean of the velocity roll over its onset frames times 127, rounded and
// clamped to 1..127. notes -> roll -> notes gives back quantize_to_frames(notes) when no two
// notes of one key overlap after rounding and a note followed back to back (next start == its
// end) by another on its key lasts more than onset_frames frames (else the two onsets touch and
// the notes merge).
#include <cstdint>
#include <vector>

#include "midi/notes.h"
#include "tensor/tensor.h"

namespace fm::midi {

inline constexpr int kPianoMinPitch = 21;   // A0
inline constexpr int kPianoMaxPitch = 108;  // C8
inline constexpr int kPianoKeys = 88;

struct PianoRollOptions {
  double frames_per_second = 31.25;  // Onsets and Frames: 16 kHz audio, hop 512
  int onset_frames = 1;              // O&F: 32 ms onset labels, one frame at hop 512
  int offset_frames = 1;
  bool include_drums = false;
  // Number of frames; -1: up to the last offset label (max over notes of the offset frame +
  // offset_frames, at least every note's last frame).
  int64_t num_frames = -1;

  // frames_per_second = sample_rate / hop_length (frame t starts at sample t * hop_length).
  static PianoRollOptions from_hop(double sample_rate, int64_t hop_length);
  // frames_per_second = 1 / hop_seconds.
  static PianoRollOptions from_hop_seconds(double hop_seconds);
};

struct PianoRoll {
  Tensor frames, onsets, offsets, velocities;  // float32 [T, 88]
  double frames_per_second = 31.25;
  int64_t num_frames() const { return frames.size(0); }
};

PianoRoll notes_to_piano_roll(const std::vector<Note>& notes, const PianoRollOptions& o = {});

struct PianoRollDecodeOptions {
  double onset_threshold = 0.5;   // an onset is on where onsets > threshold
  double frame_threshold = 0.5;   // a frame is on where frames > threshold
  int default_velocity = 64;      // when no velocity roll is given
  int program = 0;                // given to every decoded note
  int channel = 0;
};

// onsets, frames [T, 88] (probabilities or labels; float32 or float64, any strides),
// velocities [T, 88] or undefined. Notes sorted by onset, then pitch.
std::vector<Note> piano_roll_to_notes(const Tensor& onsets, const Tensor& frames, const Tensor& velocities,
                                      double frames_per_second, const PianoRollDecodeOptions& o = {});
std::vector<Note> piano_roll_to_notes(const PianoRoll& roll, const PianoRollDecodeOptions& o = {});

// The notes as the roll keeps them: keys outside 21..108 and (unless include_drums) drums
// removed, onset and offset on the frame grid as above, cut at num_frames when it is set (a note
// starting at or after it is dropped), velocity clamped to 1..127, program and channel from the
// decode options, is_drum false; sorted by onset, then pitch. What
// piano_roll_to_notes(notes_to_piano_roll(notes)) gives under the conditions above.
std::vector<Note> quantize_to_frames(const std::vector<Note>& notes, const PianoRollOptions& o = {},
                                     const PianoRollDecodeOptions& d = {});

}  // namespace fm::midi
