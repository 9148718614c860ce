#pragma once
// Music corpora rendered from MIDI (see data/corpus_*.cpp for each generator):
//   genres       MMA grooves of 11 style families -> 22.05 kHz clips, label = family
//   instruments  General MIDI programs in 11 NSynth families -> notes and phrases, label = family
//   piano        generated piano performances -> 16 kHz audio + their exact notes (MIDI + TSV)
//   chords       diatonic progressions in 7 modes x 12 keys -> audio, label = mode, chord
//                symbols per segment and frame-wise chroma from the MIDI
//   symbolic     the MIDI of the generators above as event-token sequences
// Every corpus lives in one folder with manifest.json (data/manifest.h), its files in
// sub-folders, and a train/valid/test split made by song (group), so no song has clips on both
// sides. The same (corpus, size, seed) renders the same manifest and the same bytes; a re-run
// skips the songs whose files exist and match.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/manifest.h"

namespace fm::data {

struct RenderOptions {
  std::string out_dir;
  std::string size = "small";  // tiny | small | full
  uint64_t seed = 0;
  bool progress = true;        // a progress bar on stdout
  int threads = 0;             // 0: OpenMP's default
};

struct RenderSummary {
  std::string corpus;
  std::string manifest;        // path of manifest.json
  int64_t items = 0;
  int64_t groups = 0;          // songs (units of work)
  int64_t groups_rendered = 0;
  int64_t groups_skipped = 0;  // reused from a previous render
  std::map<std::string, int64_t> splits;
  double seconds = 0;
};

// The corpora render_corpus knows, in order.
std::vector<std::string> corpus_names();
RenderSummary render_corpus(const std::string& name, const RenderOptions& options);

// A rendered corpus read back, one split ("train", "valid", "test" or "all"). Examples:
//   genres, instruments: {"audio": float32 (1, T), "label": int64 ()}
//   piano:   {"audio": float32 (1, T), "notes": float32 (N, 4) [onset s, offset s, pitch, velocity]}
//   chords:  {"audio": float32 (1, T), "label": int64 () (mode), "chroma": float32 (F, 12),
//             "chord_roots": int64 (S), "chord_qualities": int64 (S) (midi::ChordQuality),
//             and the progression's chord graph (midi/chord_graph.h): "graph_x" float32 (S, 12),
//             "graph_edge_index" int64 (2, E), "graph_edge_type" int64 (E)}
//   symbolic: {"tokens": int64 (L), "label": int64 () (source corpus)}
class CorpusDataset : public Dataset {
 public:
  CorpusDataset(const std::string& dir, const std::string& split = "train");
  int64_t size() const override { return static_cast<int64_t>(items_.size()); }
  Example get(int64_t index) const override;

  const Manifest& manifest() const { return manifest_; }
  const ManifestItem& item(int64_t index) const;
  const std::vector<std::string>& classes() const { return manifest_.classes; }
  int64_t num_classes() const { return static_cast<int64_t>(manifest_.classes.size()); }
  // Chroma frames: one per hop_length samples of the audio (chords corpus).
  static constexpr int64_t kChromaHop = 512;

 private:
  std::string dir_;
  Manifest manifest_;
  std::vector<ManifestItem> items_;
};

// Chord quality names of the chords corpus ("chord_qualities" indexes this list): the
// midi::ChordQuality enum's order, named by their lead-sheet suffix ("maj" for the major triad).
const std::vector<std::string>& chord_quality_names();
// The 7 diatonic modes in order of their index (the chords corpus label).
const std::vector<std::string>& mode_names();

}  // namespace fm::data
