#pragma once
// Notes: the sounding notes of a MIDI file, in seconds.
//
// Extraction merges the channel messages of all tracks in tick order (MIDI channels are shared
// by the tracks of a file; at one tick, track order then event order). Note-ons and note-offs
// pair per (channel, pitch) first in, first out: with two overlapping notes of one pitch the
// first note-off closes the earlier note. A note-off with no open note is ignored; a note never
// closed ends at the end of the track that opened it (its last event's tick). Notes of zero
// length (on and off at one tick) are dropped. Each note carries the channel's program at its
// onset (0 until a program change) and is_drum for MIDI channel 10 (channel index 9). The
// result is sorted by onset, then pitch, then channel.
#include <cstdint>
#include <vector>

#include "midi/smf.h"

namespace fm::midi {

struct Note {
  int pitch = 60;       // 0..127
  int velocity = 100;   // 1..127
  double onset = 0;     // seconds
  double offset = 0;    // seconds, > onset
  int program = 0;      // 0..127, General MIDI program at the onset
  int channel = 0;      // 0..15
  bool is_drum = false; // channel == 9
  bool operator==(const Note&) const = default;
};

std::vector<Note> extract_notes(const File& file);

// Transposition: drums (is_drum) are never transposed -- their pitches name instruments.
// Drop removes the notes that would leave 0..127; Clamp keeps them at 0 or 127.
enum class TransposeMode { Drop, Clamp };
std::vector<Note> transpose(const std::vector<Note>& notes, int semitones, TransposeMode mode = TransposeMode::Drop);

struct NotesToSmfOptions {
  int ticks_per_quarter = 480;
  double bpm = 120;            // one constant tempo
  bool per_channel = false;    // false: one format-0 track; true: format 1, a tempo track and
                               // one track per channel used (named "channel N")
};

// Notes -> SMF. Times round to the nearest tick (a note lasts at least one tick); a program
// change is written before a note whose program differs from its channel's current one.
// extract_notes(notes_to_smf(notes)) gives the notes back with onsets and offsets within one tick.
File notes_to_smf(const std::vector<Note>& notes, const NotesToSmfOptions& options = {});

}  // namespace fm::midi
