#pragma once
// A folder of MIDI files as a symbolic data set (your own music, or a rendered corpus's MIDI).
//
// Every file under the root whose name ends in .mid or .midi (any case) is found recursively, in
// sorted path order (so indices do not depend on the file system's listing order), and parsed
// once at construction: the notes and their event tokens (midi/events.h) are kept in memory,
// which is small next to audio. A file that fails to parse is either skipped and listed in
// failures() with its path and the reader's message, or, with skip_bad_files = false, makes the
// constructor throw an fm::Error naming it.
//
// get(i) returns
//   "tokens"  int64 [L]  the Music Transformer event tokens of file i (vocabulary of 388), the
//                        first max_length of them when max_length >= 0;
// and with piano_roll = true, the Onsets and Frames rolls of its notes (midi/piano_roll.h),
//   "frames", "onsets", "offsets", "velocities"  float32 [T, 88],
// the first max_frames frames when max_frames >= 0. (The roll covers the whole file, not just
// the span of cropped tokens.) get() only reads the cached data, so loader threads may call it at
// once.
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "midi/events.h"
#include "midi/notes.h"
#include "midi/piano_roll.h"

namespace fm::data {

struct MidiFolderOptions {
  int64_t max_length = -1;  // crop the tokens to their first max_length (-1: keep all)
  midi::EventEncodingOptions events;
  bool piano_roll = false;
  midi::PianoRollOptions roll;
  int64_t max_frames = -1;  // crop the rolls to their first max_frames (-1: keep all)
  bool skip_bad_files = true;
};

class MidiFolder : public Dataset {
 public:
  struct Failure {
    std::string path;
    std::string message;
  };

  explicit MidiFolder(const std::string& root, MidiFolderOptions options = {});

  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  Example get(int64_t index) const override;

  const std::string& root() const { return root_; }
  // The path of file `index` and its notes (as midi::extract_notes gives them).
  const std::string& path(int64_t index) const;
  const std::vector<midi::Note>& notes(int64_t index) const;
  // The files that failed to parse (empty when skip_bad_files is false: it throws instead).
  const std::vector<Failure>& failures() const { return failures_; }
  const MidiFolderOptions& options() const { return options_; }

 private:
  struct File {
    std::string path;
    std::vector<midi::Note> notes;
    std::vector<int64_t> tokens;
  };
  const File& file(int64_t index) const;

  std::string root_;
  MidiFolderOptions options_;
  std::vector<File> files_;
  std::vector<Failure> failures_;
};

// The MIDI files (.mid, .midi, any case) under root, recursively, sorted. Throws when root is not
// a directory.
std::vector<std::string> find_midi_files(const std::string& root);

}  // namespace fm::data
