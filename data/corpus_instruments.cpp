// The instruments corpus: General MIDI programs in 11 families as NSynth groups them, played as
// single notes and short phrases over each instrument's register, at many velocities. One item
// per clip; label = family.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/corpus_internal.h"
#include "data/synth.h"
#include "tensor/error.h"

namespace fm::data::detail {
namespace {
using ordered_json = nlohmann::ordered_json;

struct Program {
  int program;
  int lo, hi;  // playable register (MIDI pitches)
};
struct InstrumentFamily {
  const char* name;
  std::vector<Program> programs;
};

const std::vector<InstrumentFamily>& instrument_families() {
  static const std::vector<InstrumentFamily> f = {
      {"keyboard", {{0, 33, 96}, {1, 33, 96}, {2, 36, 96}, {3, 36, 90}, {4, 36, 90}, {5, 36, 90}, {6, 41, 89}, {7, 36, 84}}},
      {"mallet", {{8, 60, 96}, {9, 72, 100}, {10, 60, 96}, {11, 53, 89}, {12, 45, 84}, {13, 65, 96}, {14, 60, 77}, {15, 55, 84}}},
      {"organ", {{16, 36, 84}, {17, 36, 84}, {18, 36, 84}, {19, 36, 84}, {20, 48, 84}, {21, 53, 84}, {22, 60, 84}, {23, 53, 84}}},
      {"guitar", {{24, 40, 76}, {25, 40, 76}, {26, 40, 81}, {27, 40, 81}, {28, 40, 76}, {29, 40, 81}, {30, 40, 81}, {31, 40, 76}}},
      {"bass", {{32, 28, 55}, {33, 28, 55}, {34, 28, 55}, {35, 28, 55}, {36, 28, 55}, {37, 28, 55}, {38, 28, 60}, {39, 28, 60}}},
      {"string", {{40, 55, 96}, {41, 48, 84}, {42, 36, 72}, {43, 28, 55}, {44, 48, 84}, {45, 40, 84}, {48, 40, 84}, {49, 40, 84}}},
      {"brass", {{56, 55, 82}, {57, 40, 72}, {58, 28, 58}, {59, 55, 82}, {60, 41, 77}, {61, 48, 77}, {62, 48, 77}, {63, 48, 77}}},
      {"reed", {{64, 56, 87}, {65, 49, 81}, {66, 44, 76}, {67, 36, 69}, {68, 58, 91}, {69, 52, 81}, {70, 34, 67}, {71, 50, 91}}},
      {"flute", {{72, 74, 102}, {73, 60, 96}, {74, 60, 96}, {75, 60, 96}, {76, 60, 96}, {77, 60, 90}, {78, 60, 90}, {79, 60, 96}}},
      {"synth_lead", {{80, 48, 84}, {81, 48, 84}, {82, 48, 84}, {83, 48, 84}, {84, 48, 84}, {85, 48, 84}, {86, 48, 84}, {87, 36, 72}}},
      {"vocal", {{52, 48, 79}, {53, 48, 79}, {54, 48, 79}, {91, 48, 79}}},
  };
  return f;
}

struct SizeSpec {
  int64_t items_per_family;
  double clip_seconds;
};
SizeSpec size_spec(int s) {
  if (s == 0) return {6, 1.0};
  if (s == 1) return {60, 2.0};
  return {400, 4.0};
}

constexpr int64_t kRate = 22050;
const int kMajor[7] = {0, 2, 4, 5, 7, 9, 11};

}  // namespace

Plan plan_instruments(const RenderOptions& o) {
  const SizeSpec spec = size_spec(size_index(o.size, "instruments"));
  Plan plan;
  plan.unit_name = "clips";
  plan.header.corpus = "instruments";
  plan.header.size = o.size;
  plan.header.seed = o.seed;
  plan.header.sample_rate = kRate;
  ordered_json fams;
  for (const auto& f : instrument_families()) {
    plan.header.classes.push_back(f.name);
    ordered_json p = ordered_json::array();
    for (const auto& pr : f.programs) p.push_back(pr.program);
    fams[f.name] = p;
  }
  ordered_json settings;
  settings["generator"] = "fluidsynth";
  settings["soundfont"] = std::filesystem::path(default_soundfont()).filename().string();
  settings["items_per_family"] = spec.items_per_family;
  settings["clip_seconds"] = spec.clip_seconds;
  settings["families"] = fams;
  settings["kinds"] = {"note", "phrase"};
  settings["split"] = "by clip, 70/15/15 per family";
  plan.header.settings = settings.dump();

  Rng rng(derive_seed(o.seed, "instruments"));
  std::vector<int64_t> klass;
  const auto& families = instrument_families();
  for (size_t f = 0; f < families.size(); ++f) {
    for (int64_t k = 0; k < spec.items_per_family; ++k) {
      const Program& pr = families[f].programs[static_cast<size_t>(k) % families[f].programs.size()];
      const bool phrase = rng.uniform() < 0.5;
      const int velocity = static_cast<int>(rng.randint(30, 127));
      std::vector<midi::Note> notes;
      const double usable = spec.clip_seconds * 0.85;  // leave room for the release
      if (!phrase) {
        midi::Note n;
        n.pitch = static_cast<int>(rng.randint(pr.lo, pr.hi));
        n.velocity = velocity;
        n.onset = 0;
        n.offset = usable * rng.uniform(0.5, 1.0);
        n.program = pr.program;
        notes.push_back(n);
      } else {
        // A scale or arpeggio fragment in a random key, steps up or down.
        const int count = static_cast<int>(rng.randint(3, 6));
        const bool arpeggio = rng.uniform() < 0.5;
        const int tonic = static_cast<int>(rng.randint(0, 11));
        const int dir = rng.uniform() < 0.5 ? 1 : -1;
        std::vector<int> pitches;
        for (int attempt = 0; attempt < 8 && pitches.empty(); ++attempt) {
          const int base = static_cast<int>(rng.randint(pr.lo, std::max(pr.lo, pr.hi - 12)));
          std::vector<int> ps;
          for (int j = 0; j < count; ++j) {
            const int step = (dir > 0 ? j : count - 1 - j) * (arpeggio ? 2 : 1);
            const int p = base - (base - tonic) % 12 + 12 * (step / 7) + kMajor[step % 7];
            ps.push_back(p);
          }
          if (*std::min_element(ps.begin(), ps.end()) >= pr.lo && *std::max_element(ps.begin(), ps.end()) <= pr.hi)
            pitches = ps;
        }
        if (pitches.empty()) pitches.assign(static_cast<size_t>(count), (pr.lo + pr.hi) / 2);
        const double step = usable / count;
        const double legato = rng.uniform(0.5, 1.0);
        for (int j = 0; j < count; ++j) {
          midi::Note n;
          n.pitch = pitches[static_cast<size_t>(j)];
          n.velocity = std::clamp(velocity + static_cast<int>(rng.randint(-10, 10)), 1, 127);
          n.onset = j * step;
          n.offset = n.onset + step * legato;
          n.program = pr.program;
          notes.push_back(n);
        }
      }
      char group[64];
      std::snprintf(group, sizeof group, "%s-%04lld", families[f].name, static_cast<long long>(k));
      Unit u;
      u.group = group;
      ordered_json params;
      params["program"] = pr.program;
      params["kind"] = phrase ? "phrase" : "note";
      ordered_json jn = ordered_json::array();
      for (const auto& n : notes) jn.push_back({n.pitch, n.velocity, n.onset, n.offset});
      params["notes"] = jn;
      params["clip_seconds"] = spec.clip_seconds;
      params["sample_rate"] = kRate;
      u.params = params.dump();
      const std::string family = families[f].name;
      const auto label = static_cast<int64_t>(f);
      const double clip_seconds = spec.clip_seconds;
      const std::string id = group;
      const bool is_phrase = phrase;
      u.render = [notes, family, label, clip_seconds, id, is_phrase, pr](const std::string& dir) {
        std::vector<float> audio;
        {
          auto synth = SynthPool::acquire(synth_at(kRate));
          audio = synth->render(notes, clip_seconds);
        }
        audio.resize(static_cast<size_t>(std::llround(clip_seconds * kRate)), 0.f);
        FM_CHECK(rms(audio.data(), static_cast<int64_t>(audio.size())) > 1e-5, "instruments: program ", pr.program,
                 " (", family, ") rendered silence for pitch ", notes.front().pitch);
        normalize_peak(audio);
        ManifestItem it = save_audio(dir, "audio/" + family + "/" + id + ".wav", audio, kRate);
        it.id = id;
        it.label = family;
        it.label_index = label;
        ordered_json extra;
        extra["program"] = pr.program;
        extra["kind"] = is_phrase ? "phrase" : "note";
        extra["pitch"] = notes.front().pitch;
        extra["velocity"] = notes.front().velocity;
        extra["notes"] = static_cast<int64_t>(notes.size());
        it.extra = extra.dump();
        return std::vector<ManifestItem>{it};
      };
      plan.units.push_back(std::move(u));
      klass.push_back(label);
    }
  }
  assign_splits(plan.units, klass, o.seed);
  return plan;
}

}  // namespace fm::data::detail
