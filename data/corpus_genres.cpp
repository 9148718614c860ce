// The genres corpus: MMA grooves grouped into 11 style families, each song a groove at a tempo
// in its natural range, in a random key, over a chord progression typical of the family, with
// its own MMA random seed; rendered through FluidR3_GM and cut into clips. Label = family.
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/corpus_internal.h"
#include "data/mma.h"
#include "data/synth.h"
#include "midi/notes.h"
#include "midi/smf.h"
#include "tensor/error.h"

namespace fm::data::detail {
namespace {
using ordered_json = nlohmann::ordered_json;

struct Groove {
  const char* name;
  int tempo_lo, tempo_hi;  // quarter notes per minute, as MMA counts them for this groove
};

// A chord relative to the tonic: semitones above it and MMA's quality suffix.
struct Degree {
  int offset;
  const char* quality;
};
using Progression = std::vector<Degree>;

struct Family {
  const char* name;
  std::vector<Groove> grooves;
  std::vector<Progression> major, minor;  // progressions for major and minor keys
};

// Common progressions, written once.
const Degree I{0, ""}, ii{2, "m"}, iii{4, "m"}, IV{5, ""}, V{7, ""}, vi{9, "m"}, V7{7, "7"}, I7{0, "7"},
    IV7{5, "7"}, IM7{0, "M7"}, ii7{2, "m7"}, iii7{4, "m7"}, vi7{9, "m7"}, VI7{9, "7"}, IVM7{5, "M7"}, bVII{10, ""},
    i{0, "m"}, iv{5, "m"}, v{7, "m"}, bVI{8, ""}, bIII{3, ""}, i7{0, "m7"}, iv7{5, "m7"}, iim7b5{2, "m7b5"},
    bVI7{8, "7"};

const std::vector<Progression> kPopMajor = {{I, V, vi, IV}, {I, vi, IV, V}, {I, IV, V, IV}, {vi, IV, I, V},
                                            {I, IV, I, V}, {I, iii, IV, V}};
const std::vector<Progression> kPopMinor = {{i, bVI, bIII, bVII}, {i, iv, v, i}, {i, bVII, bVI, bVII},
                                            {i, iv, bVII, bIII}};
const std::vector<Progression> kJazzMajor = {{IM7, vi7, ii7, V7}, {ii7, V7, IM7, IM7}, {iii7, VI7, ii7, V7},
                                             {IM7, IVM7, iii7, VI7}};
const std::vector<Progression> kJazzMinor = {{iim7b5, V7, i7, i7}, {i7, iv7, iim7b5, V7}};
const std::vector<Progression> kBlues = {{I7, I7, I7, I7, IV7, IV7, I7, I7, V7, IV7, I7, V7},
                                         {I7, IV7, I7, I7, IV7, IV7, I7, I7, V7, IV7, I7, V7}};
const std::vector<Progression> kMinorBlues = {{i7, i7, i7, i7, iv7, iv7, i7, i7, bVI7, V7, i7, V7}};
const std::vector<Progression> kCountry = {{I, I, IV, I}, {I, IV, V7, I}, {I, V7, I, IV}, {I, IV, I, V7}};
const std::vector<Progression> kMarch = {{I, V7, I, V7}, {I, IV, V7, I}, {I, I, V7, I}, {I, ii, V7, I}};
const std::vector<Progression> kBallad = {{IM7, vi7, IVM7, V}, {I, vi, IV, V}, {IV, V, iii, vi}, {I, iii, vi, IV}};
const std::vector<Progression> kFunkMajor = {{I7, I7, IV7, I7}, {I7, IV7, I7, IV7}};
const std::vector<Progression> kFunkMinor = {{i7, i7, iv7, i7}, {i7, bVII, i7, bVII}, {i7, iv7, bVII, i7}};
const std::vector<Progression> kLatinMajor = {{IM7, ii7, V7, IM7}, {ii7, V7, IM7, VI7}, {I, IV, V7, I}};
const std::vector<Progression> kLatinMinor = {{i7, iv7, V7, i7}, {i, iv, V7, i}, {iim7b5, V7, i, i}};
const std::vector<Progression> kTango = {{i, iv, V7, i}, {i, V7, i, V7}, {i, bVI, V7, i}, {i, iv, bVI, V7}};

const std::vector<Family>& families() {
  static const std::vector<Family> f = {
      {"rock",
       {{"50sRock", 110, 150}, {"60sRock", 110, 150}, {"BasicRock", 100, 140}, {"8Beat", 100, 140},
        {"SoftRock", 80, 115}, {"FolkRock", 100, 140}, {"BubbleRock", 110, 150}},
       kPopMajor, kPopMinor},
      {"jazz",
       {{"Swing", 120, 180}, {"JazzCombo", 110, 170}, {"Bebop", 170, 240}, {"EasySwing", 100, 140},
        {"BigBand", 120, 180}, {"FastSwing", 180, 240}},
       kJazzMajor, kJazzMinor},
      {"blues",
       {{"Blues", 80, 120}, {"SlowBlues", 55, 75}, {"FastBlues", 120, 160}, {"CountryBlues", 90, 130},
        {"ShuffleBoggie", 100, 140}, {"BoggieWoggie", 110, 150}},
       kBlues, kMinorBlues},
      {"latin",
       {{"BossaNova", 110, 150}, {"Samba", 90, 130}, {"Salsa", 140, 190}, {"Mambo", 130, 180}, {"ChaCha", 110, 130},
        {"Rhumba", 90, 120}, {"Son", 90, 130}, {"Merengue", 120, 160}},
       kLatinMajor, kLatinMinor},
      {"country",
       {{"CountrySwing", 140, 180}, {"BlueGrass", 140, 200}, {"SlowCountry", 70, 100}, {"HillCountry", 100, 140},
        {"WesternSwing", 130, 180}},
       kCountry, kPopMinor},
      {"waltz",
       {{"Waltz", 90, 140}, {"VieneseWaltz", 150, 190}, {"FrenchWaltz", 120, 170}, {"CountryWaltz", 90, 130},
        {"FastWaltz", 160, 200}},
       kPopMajor, kPopMinor},
      {"march",
       {{"March", 100, 130}, {"68March", 100, 130}, {"DixieMarch", 100, 130}, {"BWMarch", 100, 130},
        {"Polka", 100, 140}},
       kMarch, kPopMinor},
      {"ballad",
       {{"Ballad", 60, 80}, {"PianoBallad", 60, 80}, {"PopBallad", 60, 85}, {"RockBallad", 60, 85},
        {"StringBallad", 55, 80}, {"GuitarBallad", 60, 85}},
       kBallad, kPopMinor},
      {"funk",
       {{"BVFunk", 90, 115}, {"DSoul", 80, 110}, {"R&B", 80, 110}, {"Strut", 90, 120}, {"LFusion", 90, 120}},
       kFunkMajor, kFunkMinor},
      {"caribbean",
       {{"Calypso", 100, 130}, {"Ska", 120, 160}, {"BoneyM", 110, 135}, {"Beguine", 100, 130}},
       kCountry, kPopMinor},
      {"tango",
       {{"Tango", 110, 130}, {"LightTango", 110, 130}, {"Tango1", 110, 130}, {"LightTango1", 110, 130}},
       kTango, kTango},
  };
  return f;
}

struct SizeSpec {
  int64_t songs_per_family;
  int bars;  // blues forms use max(bars, 12) when bars >= 12
  double clip_seconds;
  int max_clips;
};

SizeSpec size_spec(int s) {
  if (s == 0) return {3, 4, 1.5, 2};
  if (s == 1) return {12, 8, 3.0, 4};
  return {60, 16, 5.0, 6};
}

struct Song {
  std::string group;
  int64_t family;
  MmaSong mma;
  std::string key;  // "Eb" or "Ebm"
};

std::string chord_name(int tonic, const Degree& d) {
  return std::string(pitch_class_name(tonic + d.offset)) + d.quality;
}

std::vector<Song> plan_songs(uint64_t seed, int64_t songs_per_family, int bars) {
  std::vector<Song> songs;
  Rng rng(derive_seed(seed, "genres"));
  const auto& fams = families();
  for (size_t f = 0; f < fams.size(); ++f) {
    for (int64_t k = 0; k < songs_per_family; ++k) {
      const Family& fam = fams[f];
      Song s;
      char group[64];
      std::snprintf(group, sizeof group, "%s-%04lld", fam.name, static_cast<long long>(k));
      s.group = group;
      s.family = static_cast<int64_t>(f);
      // Grooves in turn, so that each family's songs spread over all its grooves.
      const Groove& g = fam.grooves[static_cast<size_t>(k) % fam.grooves.size()];
      s.mma.groove = g.name;
      s.mma.tempo = static_cast<double>(rng.randint(g.tempo_lo, g.tempo_hi));
      const int tonic = static_cast<int>(rng.randint(0, 11));
      const bool minor = rng.uniform() < 0.3;
      const Progression& p = rng.choice(minor ? fam.minor : fam.major);
      s.key = std::string(pitch_class_name(tonic)) + (minor ? "m" : "");
      const int n = p.size() >= 12 && bars >= 12 ? static_cast<int>(p.size()) : bars;
      for (int b = 0; b < n; ++b) s.mma.chords.push_back(chord_name(tonic, p[static_cast<size_t>(b) % p.size()]));
      s.mma.seed = static_cast<uint32_t>(rng.next() & 0x7fffffff);
      songs.push_back(std::move(s));
    }
  }
  return songs;
}

constexpr int64_t kRate = 22050;

}  // namespace

Plan plan_genres(const RenderOptions& o) {
  const SizeSpec spec = size_spec(size_index(o.size, "genres"));
  Plan plan;
  plan.header.corpus = "genres";
  plan.header.size = o.size;
  plan.header.seed = o.seed;
  plan.header.sample_rate = kRate;
  for (const auto& f : families()) plan.header.classes.push_back(f.name);
  ordered_json settings;
  settings["generator"] = "mma+fluidsynth";
  settings["soundfont"] = std::filesystem::path(default_soundfont()).filename().string();
  settings["songs_per_family"] = spec.songs_per_family;
  settings["bars"] = spec.bars;
  settings["clip_seconds"] = spec.clip_seconds;
  settings["max_clips_per_song"] = spec.max_clips;
  ordered_json grooves;
  for (const auto& f : families()) {
    ordered_json g = ordered_json::array();
    for (const auto& gr : f.grooves) g.push_back({{"groove", gr.name}, {"tempo", {gr.tempo_lo, gr.tempo_hi}}});
    grooves[f.name] = g;
  }
  settings["families"] = grooves;
  settings["split"] = "by song, 70/15/15 per family";
  plan.header.settings = settings.dump();

  std::vector<int64_t> klass;
  for (auto& song : plan_songs(o.seed, spec.songs_per_family, spec.bars)) {
    Unit u;
    u.group = song.group;
    ordered_json params;
    params["groove"] = song.mma.groove;
    params["tempo"] = song.mma.tempo;
    params["key"] = song.key;
    params["chords"] = song.mma.chords;
    params["mma_seed"] = song.mma.seed;
    params["clip_seconds"] = spec.clip_seconds;
    params["max_clips"] = spec.max_clips;
    params["sample_rate"] = kRate;
    u.params = params.dump();
    const std::string family = families()[static_cast<size_t>(song.family)].name;
    const int64_t label = song.family;
    u.render = [song, spec, family, label](const std::string& dir) {
      const midi::File file = run_mma(song.mma);
      const std::string midi_rel = "midi/" + family + "/" + song.group + ".mid";
      std::filesystem::create_directories(std::filesystem::path(dir) / "midi" / family);
      midi::write_smf(file, (std::filesystem::path(dir) / midi_rel).string());
      std::vector<float> audio;
      {
        auto synth = SynthPool::acquire(synth_at(kRate));
        audio = synth->render(file, 0.5);
      }
      const auto clip = static_cast<int64_t>(std::llround(spec.clip_seconds * kRate));
      std::vector<ManifestItem> items;
      for (int c = 0; c < spec.max_clips; ++c) {
        const int64_t start = c * clip;
        if (start + clip > static_cast<int64_t>(audio.size())) break;
        // A clip must sound: MMA grooves can open with a rest or a lone pickup.
        if (rms(audio.data() + start, clip) < 1e-3) continue;
        std::vector<float> samples(audio.begin() + start, audio.begin() + start + clip);
        normalize_peak(samples);
        const std::string id = song.group + "-" + std::to_string(c);
        ManifestItem it = save_audio(dir, "audio/" + family + "/" + id + ".wav", samples, kRate);
        it.id = id;
        it.label = family;
        it.label_index = label;
        it.files["midi"] = midi_rel;
        ordered_json extra;
        extra["groove"] = song.mma.groove;
        extra["tempo"] = song.mma.tempo;
        extra["key"] = song.key;
        extra["chords"] = song.mma.chords;
        extra["start_seconds"] = static_cast<double>(start) / kRate;
        extra["seconds"] = static_cast<double>(clip) / kRate;
        it.extra = extra.dump();
        items.push_back(std::move(it));
      }
      FM_CHECK(!items.empty(), "genres: groove ", song.mma.groove, " at ", song.mma.tempo, " bpm rendered ",
               audio.size() / static_cast<double>(kRate), " s, too short or silent for one ", spec.clip_seconds,
               " s clip");
      return items;
    };
    plan.units.push_back(std::move(u));
    klass.push_back(song.family);
  }
  assign_splits(plan.units, klass, o.seed);
  return plan;
}

std::vector<SymbolicSource> genres_midi_sources(const RenderOptions& o, int64_t songs_per_class) {
  const SizeSpec spec = size_spec(size_index(o.size, "genres"));
  std::vector<SymbolicSource> out;
  for (auto& song : plan_songs(derive_seed(o.seed, "symbolic"), songs_per_class, spec.bars)) {
    MmaSong m = song.mma;
    out.push_back({"genres", "genres-" + song.group, [m] { return midi::extract_notes(run_mma(m)); }});
  }
  return out;
}

}  // namespace fm::data::detail
