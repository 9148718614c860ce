#pragma once
// MMA (Musical MIDI Accompaniment, https://www.mellowood.ca/mma/) as a MIDI generator: a song
// is a groove (one of the 100+ accompaniment styles of MMA's library, written by musicians), a
// tempo, a random seed and one chord per bar; MMA plays the groove's drums, bass, chords and
// fills over the chords.
//
// run_mma writes the song file into a fresh temporary directory, runs the `mma` program there
// as a subprocess (posix_spawn with an argument vector: no shell, so no name is ever
// interpreted by one) and reads back the MIDI file it wrote. Groove and chord names are checked
// against MMA's own character set first, so that no name can smuggle a second MMA command onto
// a line. A failure names the groove and quotes what MMA printed.
#include <cstdint>
#include <string>
#include <vector>

#include "midi/smf.h"

namespace fm::data {

struct MmaSong {
  std::string groove = "Swing";     // an MMA groove name, e.g. "BossaNova", "Waltz1Sus"
  double tempo = 120;               // quarter notes per minute, 20..400
  std::vector<std::string> chords;  // one per bar, MMA chord names: "C", "F#m7", "BbM7", "z"
  uint32_t seed = 0;                // MMA's RndSeed: its grooves randomise timing and skips
  std::string key;                  // optional KeySig, e.g. "Eb" or "F#m"
};

// The MMA source of `song` (checked as run_mma checks it).
std::string mma_source(const MmaSong& song);

// The program run: $FERMATA_MMA if set, else "mma" from PATH.
std::string mma_program();
// Whether the program can be run (it answers `-v`).
bool mma_available();

// Runs MMA on the song and returns the MIDI it writes.
midi::File run_mma(const MmaSong& song);

}  // namespace fm::data
