// The symbolic corpus: the MIDI the other generators make -- MMA songs of the genres
// families (drums left out), piano performances and modal chord progressions -- as Music
// Transformer event-token sequences (midi/events.h, 388 tokens), for language models and the
// VAE. No audio is rendered. Label = the source ("genres", "piano", "chords"); each item also
// keeps its MIDI file. The songs are drawn from their own seed streams, so they are not the
// songs of the audio corpora rendered with the same seed.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/corpus_internal.h"
#include "midi/events.h"
#include "tensor/error.h"

namespace fm::data::detail {
namespace {
using ordered_json = nlohmann::ordered_json;

struct SizeSpec {
  int64_t genre_songs_per_family, piano, chords;
};
SizeSpec size_spec(int s) {
  if (s == 0) return {1, 6, 7};
  if (s == 1) return {6, 60, 84};
  return {40, 300, 672};
}

}  // namespace

Plan plan_symbolic(const RenderOptions& o) {
  const SizeSpec spec = size_spec(size_index(o.size, "symbolic"));
  Plan plan;
  plan.unit_name = "sequences";
  plan.header.corpus = "symbolic";
  plan.header.size = o.size;
  plan.header.seed = o.seed;
  plan.header.sample_rate = 0;
  plan.header.classes = {"genres", "piano", "chords"};
  ordered_json settings;
  settings["generator"] = "mma+generators";
  settings["vocabulary"] = "music-transformer-388";
  settings["vocab_size"] = midi::kVocabSize;
  settings["drums"] = false;
  settings["genre_songs_per_family"] = spec.genre_songs_per_family;
  settings["piano"] = spec.piano;
  settings["chords"] = spec.chords;
  settings["split"] = "by sequence, 70/15/15 per source";
  plan.header.settings = settings.dump();

  std::vector<SymbolicSource> sources = genres_midi_sources(o, spec.genre_songs_per_family);
  for (auto& s : piano_midi_sources(o, spec.piano)) sources.push_back(std::move(s));
  for (auto& s : chords_midi_sources(o, spec.chords)) sources.push_back(std::move(s));
  std::vector<int64_t> klass;
  for (auto& src : sources) {
    const auto label = static_cast<int64_t>(
        std::find(plan.header.classes.begin(), plan.header.classes.end(), src.corpus) - plan.header.classes.begin());
    Unit u;
    u.group = src.group;
    // The generators are deterministic functions of the seed: the seed, the size and the group
    // name identify the sequence.
    u.params = ordered_json{{"source", src.corpus}, {"group", src.group}, {"seed", o.seed}, {"size", o.size}}.dump();
    auto notes_of = src.notes;
    const std::string group = src.group, source = src.corpus;
    u.render = [notes_of, group, source, label](const std::string& dir) {
      const std::vector<midi::Note> notes = notes_of();
      const std::vector<int64_t> tokens = midi::encode_events(notes);
      FM_CHECK(!tokens.empty(), "symbolic: ", group, " encodes to no tokens");
      const std::string midi_rel = "midi/" + group + ".mid", tokens_rel = "tokens/" + group + ".txt";
      save_midi(dir, midi_rel, notes);
      const std::filesystem::path tp = std::filesystem::path(dir) / tokens_rel;
      std::filesystem::create_directories(tp.parent_path());
      {
        std::ofstream out(tp, std::ios::binary | std::ios::trunc);
        for (size_t i = 0; i < tokens.size(); ++i) out << (i ? " " : "") << tokens[i];
        out << "\n";
        FM_CHECK(out.good(), "symbolic: cannot write ", tp.string());
      }
      ManifestItem it;
      it.id = group;
      it.file = tokens_rel;
      it.file_bytes = static_cast<int64_t>(std::filesystem::file_size(tp));
      it.file_hash = file_hash(tp.string());
      it.label = source;
      it.label_index = label;
      it.files["midi"] = midi_rel;
      it.extra = ordered_json{{"tokens", static_cast<int64_t>(tokens.size())},
                              {"notes", static_cast<int64_t>(notes.size())}}.dump();
      return std::vector<ManifestItem>{it};
    };
    plan.units.push_back(std::move(u));
    klass.push_back(label);
  }
  assign_splits(plan.units, klass, o.seed);
  return plan;
}

}  // namespace fm::data::detail
