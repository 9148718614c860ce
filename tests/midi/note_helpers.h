#pragma once
// A note in one line, for the MIDI tests (drums on channel 10, as General MIDI puts them).
#include "midi/notes.h"

namespace fm::midi::testing {

inline Note make(int pitch, double on, double off, int vel = 100, bool drum = false) {
  Note n;
  n.pitch = pitch;
  n.onset = on;
  n.offset = off;
  n.velocity = vel;
  n.is_drum = drum;
  n.channel = drum ? 9 : 0;
  return n;
}

}  // namespace fm::midi::testing
