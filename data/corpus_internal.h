#pragma once
// Shared machinery of the corpus generators (data/corpus_*.cpp); not part of the public API.
//
// A generator turns (size, seed) into a Plan: the manifest's header and a list of Units, one
// per song (the unit of work, of skipping and of splitting). Everything random is drawn while
// planning, from one sequential generator, so the plan -- and with it every file -- depends on
// the seed alone, never on thread timing. run_plan renders the units that are not already on
// disk in parallel (one pooled synthesizer per thread) and writes the manifest.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "data/corpus.h"
#include "data/manifest.h"
#include "data/synth.h"
#include "midi/notes.h"

namespace fm::data::detail {

// splitmix64: small, fast, and the same everywhere (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int64_t randint(int64_t lo, int64_t hi) {  // [lo, hi]
    return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
  template <class T>
  const T& choice(const std::vector<T>& v) { return v[static_cast<size_t>(next() % v.size())]; }
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(next() % i)]);
  }

 private:
  uint64_t state_;
};

// A seed for a named sub-stream (FNV-1a of the tag mixed with the seed).
uint64_t derive_seed(uint64_t seed, std::string_view tag);

struct Unit {
  std::string group;   // e.g. "rock-0007"; unique
  std::string params;  // JSON object: everything the unit's files depend on
  // Renders the unit's files under the corpus folder and returns its items (file, hash, labels;
  // split and group are filled in by run_plan).
  std::function<std::vector<ManifestItem>(const std::string& dir)> render;
  std::string split;   // train / valid / test
};

struct Plan {
  Manifest header;     // corpus, size, seed, sample_rate, settings, classes (no items)
  std::vector<Unit> units;
  std::string unit_name = "songs";
};

RenderSummary run_plan(Plan plan, const RenderOptions& options);

// Assigns splits to the units of each class: 70/15/15 by a seeded shuffle, at least one unit in
// valid and test when a class has three or more. `klass[i]` is unit i's class.
void assign_splits(std::vector<Unit>& units, const std::vector<int64_t>& klass, uint64_t seed);

// Scales to a peak of `peak` (silence stays silent); returns the gain applied.
double normalize_peak(std::vector<float>& samples, double peak = 0.9);
double rms(const float* samples, int64_t n);

// Writes mono samples as 16-bit WAV at `rel` under `dir` (folders created); returns an item
// with file, file_bytes and file_hash set.
ManifestItem save_audio(const std::string& dir, const std::string& rel, const std::vector<float>& samples,
                        int64_t sample_rate);
// Writes the notes as a format-1 SMF at `rel`.
void save_midi(const std::string& dir, const std::string& rel, const std::vector<midi::Note>& notes, double bpm = 120);
// Writes notes as TSV lines "onset offset pitch velocity program" (seconds to 6 decimals).
void save_notes_tsv(const std::string& dir, const std::string& rel, const std::vector<midi::Note>& notes);
std::vector<midi::Note> read_notes_tsv(const std::string& path);

// "C", "Db", ..., "B" (flats: MMA and chord charts read them).
const char* pitch_class_name(int pc);
// The synthesizer settings of the corpora: the defaults at `rate`.
inline SynthOptions synth_at(int64_t rate) {
  SynthOptions o;
  o.sample_rate = rate;
  return o;
}

// Sizes: 0 tiny, 1 small, 2 full; throws for anything else.
int size_index(const std::string& size, const std::string& corpus);

// Generators.
Plan plan_genres(const RenderOptions& o);
Plan plan_instruments(const RenderOptions& o);
Plan plan_piano(const RenderOptions& o);
Plan plan_chords(const RenderOptions& o);
Plan plan_symbolic(const RenderOptions& o);

// MIDI-only sources shared with the symbolic corpus: the notes each generator would render.
struct SymbolicSource {
  std::string corpus;  // "genres", "piano", "chords"
  std::string group;
  std::function<std::vector<midi::Note>()> notes;
};
std::vector<SymbolicSource> genres_midi_sources(const RenderOptions& o, int64_t songs_per_class);
std::vector<SymbolicSource> piano_midi_sources(const RenderOptions& o, int64_t count);
std::vector<SymbolicSource> chords_midi_sources(const RenderOptions& o, int64_t count);

}  // namespace fm::data::detail
