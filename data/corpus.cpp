#include "data/corpus.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audio/io.h"
#include "data/corpus_internal.h"
#include "data/progress.h"
#include "midi/chord_graph.h"
#include "midi/chords.h"
#include "midi/notes.h"
#include "midi/smf.h"
#include "tensor/error.h"
#include "tensor/factory.h"

namespace fm::data {
namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

namespace detail {

uint64_t derive_seed(uint64_t seed, std::string_view tag) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : tag) {
    h ^= c;
    h *= 1099511628211ull;
  }
  Rng r(seed ^ h);
  return r.next();
}

int size_index(const std::string& size, const std::string& corpus) {
  if (size == "tiny") return 0;
  if (size == "small") return 1;
  if (size == "full") return 2;
  fm::fail("render ", corpus, ": size '", size, "' is not one of tiny, small, full");
}

const char* pitch_class_name(int pc) {
  static const char* names[12] = {"C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"};
  return names[((pc % 12) + 12) % 12];
}

void assign_splits(std::vector<Unit>& units, const std::vector<int64_t>& klass, uint64_t seed) {
  FM_CHECK(klass.size() == units.size(), "assign_splits: ", klass.size(), " classes for ", units.size(), " units");
  std::map<int64_t, std::vector<size_t>> by_class;
  for (size_t i = 0; i < units.size(); ++i) by_class[klass[i]].push_back(i);
  Rng rng(derive_seed(seed, "splits"));
  for (auto& [k, idx] : by_class) {
    rng.shuffle(idx);
    const auto n = static_cast<int64_t>(idx.size());
    int64_t n_valid = std::llround(0.15 * n), n_test = std::llround(0.15 * n);
    if (n >= 3) {
      n_valid = std::max<int64_t>(n_valid, 1);
      n_test = std::max<int64_t>(n_test, 1);
    }
    for (int64_t j = 0; j < n; ++j)
      units[idx[j]].split = j < n_test ? "test" : j < n_test + n_valid ? "valid" : "train";
  }
}

double rms(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return n > 0 ? std::sqrt(s / n) : 0.0;
}

double normalize_peak(std::vector<float>& samples, double peak) {
  float m = 0;
  for (float v : samples) m = std::max(m, std::abs(v));
  if (m < 1e-6f) return 1.0;
  const double g = peak / m;
  for (float& v : samples) v = static_cast<float>(v * g);
  return g;
}

ManifestItem save_audio(const std::string& dir, const std::string& rel, const std::vector<float>& samples,
                        int64_t sample_rate) {
  const fs::path p = fs::path(dir) / rel;
  fs::create_directories(p.parent_path());
  audio::save(p.string(), from_vector(samples, {1, static_cast<int64_t>(samples.size())}), sample_rate);
  ManifestItem it;
  it.file = rel;
  it.file_bytes = static_cast<int64_t>(fs::file_size(p));
  it.file_hash = file_hash(p.string());
  return it;
}

void save_midi(const std::string& dir, const std::string& rel, const std::vector<midi::Note>& notes, double bpm) {
  const fs::path p = fs::path(dir) / rel;
  fs::create_directories(p.parent_path());
  midi::NotesToSmfOptions o;
  o.per_channel = true;
  o.bpm = bpm;
  midi::write_smf(midi::notes_to_smf(notes, o), p.string());
}

void save_notes_tsv(const std::string& dir, const std::string& rel, const std::vector<midi::Note>& notes) {
  const fs::path p = fs::path(dir) / rel;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << "onset\toffset\tpitch\tvelocity\tprogram\n";
  char line[128];
  for (const auto& n : notes) {
    std::snprintf(line, sizeof line, "%.6f\t%.6f\t%d\t%d\t%d\n", n.onset, n.offset, n.pitch, n.velocity, n.program);
    out << line;
  }
  FM_CHECK(out.good(), "save_notes_tsv: cannot write ", p.string());
}

std::vector<midi::Note> read_notes_tsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FM_CHECK(in.good(), "read_notes_tsv: cannot open ", path);
  std::string line;
  std::getline(in, line);
  FM_CHECK(line.rfind("onset\toffset\tpitch\tvelocity", 0) == 0, "read_notes_tsv: ", path,
           ": expected the header 'onset offset pitch velocity program'");
  std::vector<midi::Note> notes;
  int64_t row = 1;
  while (std::getline(in, line)) {
    ++row;
    if (line.empty()) continue;
    std::istringstream s(line);
    midi::Note n;
    s >> n.onset >> n.offset >> n.pitch >> n.velocity >> n.program;
    FM_CHECK(!s.fail() && n.offset > n.onset && n.pitch >= 0 && n.pitch < 128 && n.velocity > 0 && n.velocity < 128,
             "read_notes_tsv: ", path, ": line ", row, " is not 'onset offset pitch velocity program' with "
             "offset > onset, pitch 0..127, velocity 1..127");
    notes.push_back(n);
  }
  return notes;
}

RenderSummary run_plan(Plan plan, const RenderOptions& options) {
  FM_CHECK(!options.out_dir.empty(), "render ", plan.header.corpus, ": no output folder given");
  const auto t0 = std::chrono::steady_clock::now();
  const std::string dir = options.out_dir;
  fs::create_directories(dir);
  const std::string mpath = manifest_path(dir);

  // What a previous render left, by group: reused when the parameters and files still match.
  std::map<std::string, std::vector<ManifestItem>> previous;
  if (fs::exists(mpath)) {
    try {
      Manifest old = read_manifest(mpath);
      if (old.corpus == plan.header.corpus && old.classes == plan.header.classes &&
          old.sample_rate == plan.header.sample_rate)
        for (auto& it : old.items) previous[it.group].push_back(std::move(it));
    } catch (const Error&) {
      // A damaged manifest is simply rendered over.
    }
  }
  const size_t n = plan.units.size();
  std::vector<std::vector<ManifestItem>> results(n);
  std::vector<size_t> todo;
  for (size_t i = 0; i < n; ++i) {
    const Unit& u = plan.units[i];
    auto p = previous.find(u.group);
    bool reuse = p != previous.end() && !p->second.empty();
    if (reuse)
      for (const auto& it : p->second)
        if (it.params != u.params || !item_files_match(it, dir)) {
          reuse = false;
          break;
        }
    if (reuse) results[i] = p->second;
    else todo.push_back(i);
  }

  ProgressOptions po;
  po.enabled = options.progress;
  po.unit = plan.unit_name;
  ProgressBar bar(plan.header.corpus, static_cast<int64_t>(todo.size()), po);
  std::mutex mutex;
  std::vector<std::string> errors;
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  const auto count = static_cast<int64_t>(todo.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t k = 0; k < count; ++k) {
    const size_t i = todo[static_cast<size_t>(k)];
    const Unit& u = plan.units[i];
    try {
      results[i] = u.render(dir);
      FM_CHECK(!results[i].empty(), "render ", plan.header.corpus, ": song ", u.group, " produced no items");
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex);
      errors.push_back(u.group + ": " + e.what());
      results[i].clear();
    }
    bar.advance(1, {{"last", u.group}});
  }
  bar.finish();

  Manifest m = plan.header;
  RenderSummary summary;
  for (size_t i = 0; i < n; ++i) {
    const Unit& u = plan.units[i];
    for (auto& it : results[i]) {
      it.group = u.group;
      it.split = u.split;
      it.params = u.params;
      m.items.push_back(it);
      ++summary.splits[u.split];
    }
  }
  // Written even after a failure, so that a re-run keeps what was rendered.
  write_manifest(m, mpath);
  FM_CHECK(errors.empty(), "render ", plan.header.corpus, ": ", errors.size(), " of ", todo.size(),
           " songs failed; the first: ", errors.front());
  summary.corpus = m.corpus;
  summary.manifest = mpath;
  summary.items = static_cast<int64_t>(m.items.size());
  summary.groups = static_cast<int64_t>(n);
  summary.groups_rendered = static_cast<int64_t>(todo.size());
  summary.groups_skipped = static_cast<int64_t>(n - todo.size());
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

}  // namespace detail

std::vector<std::string> corpus_names() { return {"genres", "instruments", "piano", "chords", "symbolic"}; }

RenderSummary render_corpus(const std::string& name, const RenderOptions& options) {
  detail::Plan plan;
  if (name == "genres") plan = detail::plan_genres(options);
  else if (name == "instruments") plan = detail::plan_instruments(options);
  else if (name == "piano") plan = detail::plan_piano(options);
  else if (name == "chords") plan = detail::plan_chords(options);
  else if (name == "symbolic") plan = detail::plan_symbolic(options);
  else fm::fail("render_corpus: unknown corpus '", name, "' (known: genres, instruments, piano, chords, symbolic)");
  return detail::run_plan(std::move(plan), options);
}

const std::vector<std::string>& mode_names() {
  static const std::vector<std::string> names = {"ionian", "dorian", "phrygian", "lydian",
                                                 "mixolydian", "aeolian", "locrian"};
  return names;
}

// ---- reading a corpus back ----

CorpusDataset::CorpusDataset(const std::string& dir, const std::string& split) : dir_(dir) {
  FM_CHECK(split == "train" || split == "valid" || split == "test" || split == "all", "CorpusDataset: split '", split,
           "' is not one of train, valid, test, all");
  manifest_ = read_manifest(manifest_path(dir));
  for (const auto& it : manifest_.items)
    if (split == "all" || it.split == split) items_.push_back(it);
}

const ManifestItem& CorpusDataset::item(int64_t index) const {
  FM_CHECK(index >= 0 && index < size(), "CorpusDataset: index ", index, " is outside 0..", size() - 1, " (", dir_,
           ")");
  return items_[static_cast<size_t>(index)];
}

namespace {

Tensor scalar_label(int64_t v) { return from_vector(std::vector<int64_t>{v}, Shape{}); }

Tensor load_mono(const std::string& path, int64_t expected_rate) {
  audio::LoadOptions o;
  o.mono = true;  // the corpora are mono; a user's replacement file may not be
  audio::Audio a = audio::load(path, o);
  FM_CHECK(expected_rate <= 0 || a.sample_rate == expected_rate, "CorpusDataset: ", path, " has ", a.sample_rate,
           " Hz, the manifest says ", expected_rate);
  return a.samples;
}

}  // namespace

Example CorpusDataset::get(int64_t index) const {
  const ManifestItem& it = item(index);
  const std::string corpus = manifest_.corpus;
  const auto path_of = [&](const std::string& rel) { return (fs::path(dir_) / rel).string(); };
  Example ex;
  if (corpus == "symbolic") {
    std::ifstream in(path_of(it.file), std::ios::binary);
    FM_CHECK(in.good(), "CorpusDataset: cannot open ", path_of(it.file));
    std::vector<int64_t> tokens;
    int64_t t = 0;
    while (in >> t) tokens.push_back(t);
    FM_CHECK(in.eof(), "CorpusDataset: ", path_of(it.file), " holds something other than integers");
    const auto n = static_cast<int64_t>(tokens.size());
    ex["tokens"] = from_vector(tokens, {n});
    ex["label"] = scalar_label(it.label_index);
    return ex;
  }
  Tensor audio = load_mono(path_of(it.file), manifest_.sample_rate);
  ex["audio"] = audio;
  if (corpus == "genres" || corpus == "instruments" || corpus == "chords") ex["label"] = scalar_label(it.label_index);
  if (corpus == "piano") {
    auto f = it.files.find("notes");
    FM_CHECK(f != it.files.end(), "CorpusDataset: piano item ", it.id, " has no notes file");
    const auto notes = detail::read_notes_tsv(path_of(f->second));
    std::vector<float> v;
    for (const auto& n : notes) v.insert(v.end(), {static_cast<float>(n.onset), static_cast<float>(n.offset),
                                                   static_cast<float>(n.pitch), static_cast<float>(n.velocity)});
    ex["notes"] = from_vector(v, {static_cast<int64_t>(notes.size()), 4});
  }
  if (corpus == "chords") {
    auto f = it.files.find("midi");
    FM_CHECK(f != it.files.end(), "CorpusDataset: chords item ", it.id, " has no midi file");
    const auto notes = midi::extract_notes(midi::read_smf(path_of(f->second)));
    const int64_t frames_audio = audio.size(1);
    const int64_t frames = frames_audio / kChromaHop + 1;
    std::vector<float> chroma(static_cast<size_t>(frames * 12), 0.f);
    const double rate = static_cast<double>(manifest_.sample_rate);
    for (const auto& n : notes) {
      if (n.is_drum) continue;
      const auto first = static_cast<int64_t>(std::ceil(n.onset * rate / kChromaHop));
      const auto last = static_cast<int64_t>(std::ceil(n.offset * rate / kChromaHop));  // exclusive
      for (int64_t fi = std::max<int64_t>(first, 0); fi < std::min(last, frames); ++fi)
        chroma[fi * 12 + n.pitch % 12] += n.velocity / 127.f;
    }
    for (int64_t fi = 0; fi < frames; ++fi) {
      float m = 0;
      for (int k = 0; k < 12; ++k) m = std::max(m, chroma[fi * 12 + k]);
      if (m > 0)
        for (int k = 0; k < 12; ++k) chroma[fi * 12 + k] /= m;
    }
    ex["chroma"] = from_vector(chroma, {frames, 12});
    const auto extra = ordered_json::parse(it.extra, nullptr, false);
    std::vector<int64_t> roots, qualities;
    if (!extra.is_discarded() && extra.contains("chords"))
      for (const auto& c : extra["chords"]) {
        roots.push_back(c.value("root", int64_t{0}));
        qualities.push_back(c.value("quality", int64_t{0}));
      }
    ex["chord_roots"] = from_vector(roots, {static_cast<int64_t>(roots.size())});
    ex["chord_qualities"] = from_vector(qualities, {static_cast<int64_t>(qualities.size())});
    std::vector<midi::Chord> chords;
    for (size_t k = 0; k < roots.size(); ++k) {
      FM_CHECK(roots[k] >= 0 && roots[k] < 12 && qualities[k] >= 0 && qualities[k] < midi::kNumChordQualities,
               "CorpusDataset: ", it.id, ": chord ", k, " has root ", roots[k], " and quality ", qualities[k],
               " (expected 0..11 and 0..", midi::kNumChordQualities - 1, ")");
      chords.push_back(midi::Chord{static_cast<int>(roots[k]), static_cast<midi::ChordQuality>(qualities[k]), -1});
    }
    if (!chords.empty()) {
      const midi::ChordGraph g = midi::chord_graph(chords);
      ex["graph_x"] = g.x;
      ex["graph_edge_index"] = g.edge_index;
      ex["graph_edge_type"] = g.edge_type;
    }
  }
  return ex;
}

}  // namespace fm::data
