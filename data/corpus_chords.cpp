// The chords corpus: diatonic chord progressions in the 7 modes and 12 keys. A progression
// starts and ends on the mode's tonic chord and passes through the chord that gives the mode
// its colour (Dorian's major IV, Phrygian's bII, Lydian's major II, Mixolydian's bVII,
// Aeolian's bVI, Locrian's bV), voiced on one of a few instruments as block chords, arpeggios or
// strums over a bass. Label = mode; the chord symbols with their times are kept per item, and
// the dataset derives frame-wise chroma targets from the saved MIDI.
// Chords are midi::Chord (midi/chords.h): the symbols are format_chord's, the quality index is
// the midi::ChordQuality enum's.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/corpus_internal.h"
#include "data/synth.h"
#include "midi/chords.h"
#include "midi/notes.h"
#include "tensor/error.h"

namespace fm::data {

const std::vector<std::string>& chord_quality_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (midi::ChordQuality q : midi::all_chord_qualities()) {
      const std::string suffix = midi::quality_suffix(q);
      n.push_back(suffix.empty() ? "maj" : suffix);
    }
    return n;
  }();
  return names;
}

namespace detail {
namespace {
using ordered_json = nlohmann::ordered_json;

constexpr int64_t kRate = 22050;
const int kIonian[7] = {0, 2, 4, 5, 7, 9, 11};
// The degree (0-based, within the mode) of each mode's characteristic chord.
const int kColourDegree[7] = {4, 3, 1, 1, 6, 5, 4};

struct Instrument {
  int program;
  const char* name;
};
const std::vector<Instrument> kInstruments = {{0, "piano"},   {4, "electric_piano"}, {24, "nylon_guitar"},
                                              {48, "strings"}, {19, "church_organ"},  {46, "harp"}};
const std::vector<std::string> kTextures = {"block", "arpeggio", "strum"};

struct SizeSpec {
  int64_t per_mode;  // items per mode (keys cycle through the 12)
  int chords;
  int beats_per_chord;
};
SizeSpec size_spec(int s) {
  if (s == 0) return {3, 4, 2};
  if (s == 1) return {12, 8, 2};
  return {96, 8, 4};
}

struct Chord {
  midi::Chord chord;
  std::vector<int> tones;  // pitch classes
  std::string symbol;
};

// The mode's scale as pitch classes above its tonic.
std::vector<int> mode_scale(int mode) {
  std::vector<int> s;
  for (int j = 0; j < 7; ++j) s.push_back((kIonian[(mode + j) % 7] - kIonian[mode] + 12) % 12);
  return s;
}

Chord diatonic_chord(int tonic, int mode, int degree, bool seventh) {
  const auto scale = mode_scale(mode);
  std::vector<int> tones;
  for (int j = 0; j < (seventh ? 4 : 3); ++j) tones.push_back((tonic + scale[(degree + 2 * j) % 7]) % 12);
  const int root = tones[0];
  const auto above = [&](int j) { return (tones[static_cast<size_t>(j)] - root + 12) % 12; };
  using Q = midi::ChordQuality;
  Q q;
  if (!seventh) q = above(1) == 4 ? (above(2) == 8 ? Q::Augmented : Q::Major) : (above(2) == 6 ? Q::Diminished : Q::Minor);
  else if (above(1) == 4) q = above(3) == 11 ? Q::Major7 : Q::Dominant7;
  else q = above(2) == 6 ? (above(3) == 9 ? Q::Diminished7 : Q::HalfDiminished7) : Q::Minor7;
  Chord c;
  c.chord = midi::Chord{root, q, -1};
  c.tones = midi::pitch_classes(c.chord);
  c.symbol = midi::format_chord(c.chord);
  return c;
}

struct Progression {
  int mode, tonic;
  std::vector<int> degrees;
  bool sevenths;
  double tempo;
  int program;
  std::string texture;
};

Progression make_progression(Rng& rng, int mode, int tonic, const SizeSpec& spec) {
  Progression p;
  p.mode = mode;
  p.tonic = tonic;
  p.sevenths = rng.uniform() < 0.4;
  p.tempo = static_cast<double>(rng.randint(80, 140));
  p.program = rng.choice(kInstruments).program;
  p.texture = rng.choice(kTextures);
  p.degrees.assign(static_cast<size_t>(spec.chords), 0);
  // Tonic first and last; the colour chord once or twice in between; other degrees elsewhere,
  // avoiding the diminished chord's degree, which would blur the mode.
  const int diminished = (6 - mode + 7) % 7;  // the degree whose triad is diminished
  for (int j = 1; j + 1 < spec.chords; ++j) {
    int d;
    do d = static_cast<int>(rng.randint(1, 6));
    while (d == diminished && kColourDegree[mode] != diminished);
    p.degrees[static_cast<size_t>(j)] = d;
  }
  const int colour_at = static_cast<int>(rng.randint(1, std::max(1, spec.chords - 2)));
  p.degrees[static_cast<size_t>(std::min(colour_at, spec.chords - 1))] = kColourDegree[mode];
  if (spec.chords >= 6) p.degrees[static_cast<size_t>(spec.chords - 2)] = kColourDegree[mode];
  p.degrees.back() = 0;
  p.degrees.front() = 0;
  return p;
}

struct Rendered {
  std::vector<midi::Note> notes;
  std::vector<Chord> chords;
  std::vector<std::pair<double, double>> spans;
};

Rendered realise(const Progression& p, int beats_per_chord, Rng& rng) {
  Rendered r;
  const double beat = 60.0 / p.tempo;
  const double dur = beats_per_chord * beat;
  for (size_t k = 0; k < p.degrees.size(); ++k) {
    const Chord c = diatonic_chord(p.tonic, p.mode, p.degrees[k], p.sevenths);
    const double t0 = static_cast<double>(k) * dur;
    r.chords.push_back(c);
    r.spans.emplace_back(t0, t0 + dur);
    const auto note = [&](int pitch, double on, double off, int vel) {
      midi::Note n;
      n.pitch = pitch;
      n.onset = on;
      n.offset = std::max(off, on + 0.03);
      n.velocity = std::clamp(vel + static_cast<int>(rng.randint(-6, 6)), 1, 127);
      n.program = p.program;
      n.channel = 0;
      r.notes.push_back(n);
    };
    // Bass on its own channel, an octave or two below.
    midi::Note bass;
    bass.pitch = 36 + c.chord.root;
    bass.onset = t0;
    bass.offset = t0 + dur * 0.95;
    bass.velocity = 85;
    bass.program = 32;
    bass.channel = 1;
    r.notes.push_back(bass);
    // Close voicing from G3 (55) up: each tone in the octave above it, inverted as that falls.
    std::vector<int> voiced;
    for (int pc : c.tones) voiced.push_back(55 + (pc - 7 + 12) % 12);
    std::sort(voiced.begin(), voiced.end());
    if (p.texture == "block") {
      for (int pitch : voiced) note(pitch, t0, t0 + dur * 0.95, 80);
    } else if (p.texture == "arpeggio") {
      const double step = beat / 2;
      // Up and down through the voicing: 0 1 2 3 2 1 0 1 ... (three tones or more).
      const int n = static_cast<int>(voiced.size());
      const int period = 2 * n - 2;
      for (int j = 0; j * step < dur - 1e-9; ++j) {
        const int idx = j % period;
        const int pos = idx < n ? idx : period - idx;
        note(voiced[static_cast<size_t>(pos)], t0 + j * step, t0 + std::min(dur, (j + 2) * step), 75);
      }
    } else {  // strum: the tones a few ms apart, on every beat
      for (int b = 0; b < beats_per_chord; ++b)
        for (size_t j = 0; j < voiced.size(); ++j)
          note(voiced[j], t0 + b * beat + 0.012 * static_cast<double>(j), t0 + (b + 1) * beat * 0.98, b == 0 ? 85 : 70);
    }
  }
  std::sort(r.notes.begin(), r.notes.end(), [](const midi::Note& a, const midi::Note& b) {
    return a.onset != b.onset ? a.onset < b.onset : a.pitch < b.pitch;
  });
  return r;
}

}  // namespace

Plan plan_chords(const RenderOptions& o) {
  const SizeSpec spec = size_spec(size_index(o.size, "chords"));
  Plan plan;
  plan.unit_name = "progressions";
  plan.header.corpus = "chords";
  plan.header.size = o.size;
  plan.header.seed = o.seed;
  plan.header.sample_rate = kRate;
  plan.header.classes = mode_names();
  ordered_json settings;
  settings["generator"] = "fluidsynth";
  settings["soundfont"] = std::filesystem::path(default_soundfont()).filename().string();
  settings["per_mode"] = spec.per_mode;
  settings["chords"] = spec.chords;
  settings["beats_per_chord"] = spec.beats_per_chord;
  settings["chord_qualities"] = chord_quality_names();
  settings["chroma_hop"] = CorpusDataset::kChromaHop;
  settings["split"] = "by progression, 70/15/15 per mode";
  plan.header.settings = settings.dump();

  Rng rng(derive_seed(o.seed, "chords"));
  std::vector<int64_t> klass;
  for (int mode = 0; mode < 7; ++mode) {
    for (int64_t k = 0; k < spec.per_mode; ++k) {
      // Keys cycle so that every mode is heard in every key as evenly as the size allows.
      const int tonic = static_cast<int>((k * 7 + mode * 5) % 12);
      const Progression p = make_progression(rng, mode, tonic, spec);
      Rng voicing(rng.next());
      const Rendered r = realise(p, spec.beats_per_chord, voicing);
      char group[64];
      std::snprintf(group, sizeof group, "%s-%04lld", mode_names()[static_cast<size_t>(mode)].c_str(),
                    static_cast<long long>(k));
      Unit u;
      u.group = group;
      ordered_json chords = ordered_json::array();
      for (size_t j = 0; j < r.chords.size(); ++j)
        chords.push_back({{"start", r.spans[j].first}, {"end", r.spans[j].second}, {"symbol", r.chords[j].symbol},
                          {"root", r.chords[j].chord.root},
                          {"quality", static_cast<int>(r.chords[j].chord.quality)}});
      ordered_json params;
      params["mode"] = mode_names()[static_cast<size_t>(mode)];
      params["key"] = midi::pitch_class_name(tonic);
      params["degrees"] = p.degrees;
      params["sevenths"] = p.sevenths;
      params["tempo"] = p.tempo;
      params["program"] = p.program;
      params["texture"] = p.texture;
      params["sample_rate"] = kRate;
      u.params = params.dump();
      const std::string id = group;
      const int64_t label = mode;
      const std::string extra_text = ordered_json{{"key", midi::pitch_class_name(tonic)}, {"chords", chords}}.dump();
      const auto notes = r.notes;
      const double bpm = p.tempo;
      u.render = [notes, id, label, extra_text, bpm](const std::string& dir) {
        const std::string midi_rel = "midi/" + id + ".mid";
        save_midi(dir, midi_rel, notes, bpm);
        std::vector<float> audio;
        {
          auto synth = SynthPool::acquire(synth_at(kRate));
          audio = synth->render(notes, 0.5);
        }
        normalize_peak(audio);
        ManifestItem it = save_audio(dir, "audio/" + id + ".wav", audio, kRate);
        it.id = id;
        it.label = mode_names()[static_cast<size_t>(label)];
        it.label_index = label;
        it.files["midi"] = midi_rel;
        it.extra = extra_text;
        return std::vector<ManifestItem>{it};
      };
      plan.units.push_back(std::move(u));
      klass.push_back(mode);
    }
  }
  assign_splits(plan.units, klass, o.seed);
  return plan;
}

std::vector<SymbolicSource> chords_midi_sources(const RenderOptions& o, int64_t count) {
  const SizeSpec spec = size_spec(size_index(o.size, "chords"));
  Rng rng(derive_seed(o.seed, "symbolic-chords"));
  std::vector<SymbolicSource> out;
  for (int64_t k = 0; k < count; ++k) {
    const int mode = static_cast<int>(k % 7);
    const Progression p = make_progression(rng, mode, static_cast<int>(rng.randint(0, 11)), spec);
    Rng voicing(rng.next());
    auto notes = realise(p, spec.beats_per_chord, voicing).notes;
    char group[64];
    std::snprintf(group, sizeof group, "chords-%04lld", static_cast<long long>(k));
    out.push_back({"chords", group, [notes] { return notes; }});
  }
  return out;
}

}  // namespace detail
}  // namespace fm::data
