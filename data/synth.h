#pragma once
// MIDI -> audio in process with FluidSynth and a General MIDI soundfont (FluidR3_GM by default).
//
// The synthesizer is driven event by event: the channel messages of every track are merged in
// tick order, their times come from the file's tempo map, and the synth renders up to each
// event's sample (round(seconds * rate)) before applying it. FluidSynth computes audio in
// blocks of 64 frames, so an event sounds from the first block boundary at or after its time:
// at most 63 frames late (2.9 ms at 22.05 kHz, 4 ms at 16 kHz), far inside the 50 ms onset
// tolerance of transcription metrics. Reverb and chorus are off by default: with them off, and
// no audio driver or shell, the same file renders to the same samples every time (tested), which
// the corpora's reproducibility rests on. Output is float32 mono (the synth's left and right
// mixed).
//
// Loading FluidR3_GM (148 MB) takes 0.3-1.5 s and dominates short renders, so a Synthesizer
// loads it once and lends it to a fresh FluidSynth synth for each file (about 1 ms to make;
// a reused synth keeps voice state from file to file and would not repeat itself exactly).
// SynthPool keeps the Synthesizers of a process for reuse, one thread at a time each. Two
// Synthesizers (two threads) load the file twice, but FluidSynth's sample cache shares the
// sample data between them (a second load takes ~70 ms); the parsed presets are per load,
// because FluidSynth counts references to them without atomics.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "midi/notes.h"
#include "midi/smf.h"
#include "tensor/tensor.h"

namespace fm::data {

// $FERMATA_SOUNDFONT if set, else /usr/share/sounds/sf2/FluidR3_GM.sf2.
std::string default_soundfont();

struct SynthOptions {
  int64_t sample_rate = 22050;
  double gain = 0.5;      // FluidSynth's master gain (its default 0.2 is quiet for one voice)
  bool reverb = false;
  bool chorus = false;
  int polyphony = 256;
  std::string soundfont;  // "" = default_soundfont()
  bool operator==(const SynthOptions&) const = default;
};

class Synthesizer {
 public:
  explicit Synthesizer(const SynthOptions& options = {});
  ~Synthesizer();
  Synthesizer(const Synthesizer&) = delete;
  Synthesizer& operator=(const Synthesizer&) = delete;

  // The whole file, from tick 0 to its last event plus `tail_seconds` (release tails), as
  // mono float32 samples. A fresh start each call.
  std::vector<float> render(const midi::File& file, double tail_seconds = 1.0);
  // Notes (their programs and channels; drums on channel 9) through midi::notes_to_smf.
  std::vector<float> render(const std::vector<midi::Note>& notes, double tail_seconds = 1.0);

  const SynthOptions& options() const { return options_; }
  // Seconds the soundfont took to load (for the notes on render speed).
  double load_seconds() const { return load_seconds_; }

 private:
  void write(void* synth, int64_t frames, std::vector<float>& out);
  SynthOptions options_;
  void* settings_ = nullptr;  // fluid_settings_t
  void* synth_ = nullptr;     // fluid_synth_t owning the loaded soundfont; renders nothing
  void* sfont_ = nullptr;     // fluid_sfont_t, lent to a fresh synth per render
  double load_seconds_ = 0;
  std::vector<float> left_, right_;
};

// Loaded synthesizers kept for reuse across renders in one process.
class SynthPool {
 public:
  struct Deleter {
    void operator()(Synthesizer* s) const;
  };
  using Lease = std::unique_ptr<Synthesizer, Deleter>;  // goes back to the pool when destroyed
  // An idle synth with these options, or a new one.
  static Lease acquire(const SynthOptions& options = {});
  // Number of synths created so far (loads of the soundfont).
  static int64_t created();
};

// One-call helpers on a pooled synth: float32 tensor of shape (T).
Tensor render_midi(const midi::File& file, const SynthOptions& options = {}, double tail_seconds = 1.0);
Tensor render_notes(const std::vector<midi::Note>& notes, const SynthOptions& options = {}, double tail_seconds = 1.0);

}  // namespace fm::data
