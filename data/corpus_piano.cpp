// The piano corpus, for transcription: generated piano performances -- a melody over chords,
// arpeggios, block chords, scale runs or two voices -- with varied polyphony, tempo, dynamics
// and articulation (no pedal yet), rendered at 16 kHz. The labels are exact: the notes saved
// (as MIDI and as TSV) are those read back from the very MIDI file that was rendered.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <tuple>

#include "data/corpus_internal.h"
#include "data/synth.h"
#include "midi/notes.h"
#include "tensor/error.h"

namespace fm::data::detail {
namespace {
using ordered_json = nlohmann::ordered_json;

constexpr int64_t kRate = 16000;
const int kMajorScale[7] = {0, 2, 4, 5, 7, 9, 11};
const int kMinorScale[7] = {0, 2, 3, 5, 7, 8, 10};
const std::vector<std::string> kStyles = {"melody_chords", "arpeggios", "block_chords", "scales", "two_voices"};

struct SizeSpec {
  int64_t count;
  double seconds;
};
SizeSpec size_spec(int s) {
  if (s == 0) return {6, 3.0};
  if (s == 1) return {60, 10.0};
  return {300, 20.0};
}

struct Performance {
  std::vector<midi::Note> notes;
  std::string style;
  double tempo = 120;
  std::string key;
  int max_polyphony = 1;
  int base_velocity = 80;
  int program = 0;
};

// The pitch of scale degree `degree` (any integer) above `tonic_pitch`.
int scale_pitch(const int* scale, int tonic_pitch, int degree) {
  const int oct = degree >= 0 ? degree / 7 : -((-degree + 6) / 7);
  const int d = degree - 7 * oct;
  return tonic_pitch + 12 * oct + scale[d];
}

Performance generate(Rng& rng, double seconds) {
  Performance p;
  p.tempo = static_cast<double>(rng.randint(60, 160));
  const double beat = 60.0 / p.tempo;
  const int tonic = static_cast<int>(rng.randint(0, 11));
  const bool minor = rng.uniform() < 0.35;
  const int* scale = minor ? kMinorScale : kMajorScale;
  p.key = std::string(pitch_class_name(tonic)) + (minor ? "m" : "");
  p.style = rng.choice(kStyles);
  p.program = rng.uniform() < 0.25 ? 1 : 0;
  p.max_polyphony = static_cast<int>(rng.randint(1, p.style == "block_chords" ? 6 : 4));
  p.base_velocity = static_cast<int>(rng.randint(35, 110));
  const double legato = rng.uniform(0.5, 1.0);
  const double end = seconds - 0.15;
  const int low_tonic = 36 + tonic;    // C2..B2
  const int high_tonic = 60 + tonic;   // C4..B4
  const std::vector<int> degrees = {0, 3, 4, 5, 1};  // I IV V vi ii (or their minor-key counterparts)
  int dynamic = p.base_velocity;
  const auto add = [&](int pitch, double onset, double length, int velocity) {
    if (onset >= end) return;
    midi::Note n;
    n.pitch = std::clamp(pitch, 21, 108);
    n.velocity = std::clamp(velocity + static_cast<int>(rng.randint(-10, 10)), 1, 127);
    n.onset = onset;
    n.offset = std::min(onset + std::max(length * legato, 0.03), end + 0.1);
    n.program = p.program;
    p.notes.push_back(n);
  };
  int melody = static_cast<int>(rng.randint(7, 11));  // a degree in the upper octave
  int counter = static_cast<int>(rng.randint(0, 4));
  const double bar = 4 * beat;
  for (double t = 0; t < end; t += bar) {
    const int root = degrees[static_cast<size_t>(rng.randint(0, static_cast<int64_t>(degrees.size()) - 1))];
    dynamic = std::clamp(dynamic + static_cast<int>(rng.randint(-12, 12)), 30, 120);
    const auto chord = [&](int base_tonic, int count) {
      std::vector<int> ps;
      for (int j = 0; j < count; ++j) ps.push_back(scale_pitch(scale, base_tonic, root + 2 * j));
      return ps;
    };
    if (p.style == "melody_chords" || p.style == "two_voices" || p.style == "scales") {
      // Right hand.
      double u = t;
      while (u < t + bar - 1e-9) {
        const double len = p.style == "scales" ? beat / (rng.uniform() < 0.5 ? 2 : 4)
                                               : beat * rng.choice(std::vector<double>{0.5, 1, 1, 2});
        if (p.style == "scales") melody += rng.uniform() < 0.85 ? (melody > 14 ? -1 : 1) : -2;
        else melody = std::clamp(melody + static_cast<int>(rng.randint(-2, 2)), 4, 14);
        add(scale_pitch(scale, high_tonic, melody), u, len, dynamic + 8);
        u += len;
      }
      // Left hand.
      if (p.style == "two_voices") {
        for (double v = t; v < t + bar - 1e-9; v += beat) {
          counter = std::clamp(counter + static_cast<int>(rng.randint(-2, 2)), -3, 8);
          add(scale_pitch(scale, low_tonic + 12, counter), v, beat, dynamic - 5);
        }
      } else {
        for (int half = 0; half < 2; ++half)
          for (int pitch : chord(low_tonic + 12, p.max_polyphony)) add(pitch, t + half * 2 * beat, 2 * beat, dynamic - 10);
      }
    } else if (p.style == "arpeggios") {
      const auto ps = chord(low_tonic, std::max(3, p.max_polyphony + 2));
      std::vector<int> up = ps;
      for (int x : ps) up.push_back(x + 12);
      const double step = beat / 2;
      int j = 0;
      for (double u = t; u < t + bar - 1e-9; u += step, ++j) {
        const int count = p.max_polyphony >= 3 ? 2 : 1;  // thirds or single notes
        for (int c = 0; c < count; ++c)
          add(up[static_cast<size_t>(j + c) % up.size()] + 12, u, step * 2, dynamic - 5 + (j % 4 == 0 ? 8 : 0));
      }
    } else {  // block_chords
      const int per_hand = std::max(1, p.max_polyphony / 2);
      for (double u = t; u < t + bar - 1e-9; u += beat) {
        for (int pitch : chord(low_tonic + 12, per_hand)) add(pitch, u, beat, dynamic - 5);
        for (int pitch : chord(high_tonic, p.max_polyphony - per_hand + 1)) add(pitch, u, beat, dynamic);
      }
    }
  }
  std::sort(p.notes.begin(), p.notes.end(), [](const midi::Note& a, const midi::Note& b) {
    return std::tie(a.onset, a.pitch) < std::tie(b.onset, b.pitch);
  });
  // Two notes of one pitch must not overlap (a re-strike would end the first): trim the earlier.
  for (size_t a = 0; a < p.notes.size(); ++a)
    for (size_t b = a + 1; b < p.notes.size() && p.notes[b].onset < p.notes[a].offset; ++b)
      if (p.notes[b].pitch == p.notes[a].pitch) p.notes[a].offset = std::max(p.notes[a].onset + 0.02, p.notes[b].onset - 0.005);
  return p;
}

}  // namespace

Plan plan_piano(const RenderOptions& o) {
  const SizeSpec spec = size_spec(size_index(o.size, "piano"));
  Plan plan;
  plan.unit_name = "pieces";
  plan.header.corpus = "piano";
  plan.header.size = o.size;
  plan.header.seed = o.seed;
  plan.header.sample_rate = kRate;
  ordered_json settings;
  settings["generator"] = "fluidsynth";
  settings["soundfont"] = std::filesystem::path(default_soundfont()).filename().string();
  settings["count"] = spec.count;
  settings["seconds"] = spec.seconds;
  settings["styles"] = kStyles;
  settings["pedal"] = false;
  settings["split"] = "by piece, 70/15/15";
  plan.header.settings = settings.dump();

  Rng rng(derive_seed(o.seed, "piano"));
  std::vector<int64_t> klass;
  for (int64_t k = 0; k < spec.count; ++k) {
    Performance perf = generate(rng, spec.seconds);
    // The labels are the notes as the MIDI file holds them (times on its tick grid).
    midi::NotesToSmfOptions mo;
    mo.per_channel = true;
    const midi::File file = midi::notes_to_smf(perf.notes, mo);
    char group[64];
    std::snprintf(group, sizeof group, "piano-%04lld", static_cast<long long>(k));
    Unit u;
    u.group = group;
    ordered_json params;
    params["style"] = perf.style;
    params["tempo"] = perf.tempo;
    params["key"] = perf.key;
    params["program"] = perf.program;
    params["max_polyphony"] = perf.max_polyphony;
    params["base_velocity"] = perf.base_velocity;
    params["notes"] = static_cast<int64_t>(perf.notes.size());
    params["seconds"] = spec.seconds;
    params["sample_rate"] = kRate;
    params["seed_index"] = k;
    u.params = params.dump();
    const std::string id = group;
    const double seconds = spec.seconds;
    u.render = [file, id, seconds](const std::string& dir) {
      std::vector<float> audio;
      {
        auto synth = SynthPool::acquire(synth_at(kRate));
        audio = synth->render(file, seconds);
      }
      audio.resize(static_cast<size_t>(std::llround(seconds * kRate)), 0.f);
      normalize_peak(audio);
      const auto notes = midi::extract_notes(file);
      const std::string midi_rel = "midi/" + id + ".mid", notes_rel = "notes/" + id + ".tsv";
      std::filesystem::create_directories(std::filesystem::path(dir) / "midi");
      midi::write_smf(file, (std::filesystem::path(dir) / midi_rel).string());
      save_notes_tsv(dir, notes_rel, notes);
      ManifestItem it = save_audio(dir, "audio/" + id + ".wav", audio, kRate);
      it.id = id;
      it.files["midi"] = midi_rel;
      it.files["notes"] = notes_rel;
      int poly = 0;
      for (const auto& a : notes) {
        int active = 0;
        for (const auto& b : notes) active += b.onset <= a.onset && b.offset > a.onset;
        poly = std::max(poly, active);
      }
      ordered_json extra;
      extra["notes"] = static_cast<int64_t>(notes.size());
      extra["polyphony"] = poly;
      extra["seconds"] = seconds;
      it.extra = extra.dump();
      return std::vector<ManifestItem>{it};
    };
    plan.units.push_back(std::move(u));
    klass.push_back(0);
  }
  assign_splits(plan.units, klass, o.seed);
  return plan;
}

std::vector<SymbolicSource> piano_midi_sources(const RenderOptions& o, int64_t count) {
  const SizeSpec spec = size_spec(size_index(o.size, "piano"));
  Rng rng(derive_seed(o.seed, "symbolic-piano"));
  std::vector<SymbolicSource> out;
  for (int64_t k = 0; k < count; ++k) {
    auto notes = generate(rng, spec.seconds).notes;
    char group[64];
    std::snprintf(group, sizeof group, "piano-%04lld", static_cast<long long>(k));
    out.push_back({"piano", group, [notes] { return notes; }});
  }
  return out;
}

}  // namespace fm::data::detail
