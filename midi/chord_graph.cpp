#include "midi/chord_graph.h"

#include <cstdlib>

#include "tensor/error.h"
#include "tensor/factory.h"

namespace fm::midi {

namespace {
int mod12(int v) { return ((v % 12) + 12) % 12; }
}  // namespace

ChordGraph chord_graph(const std::vector<Chord>& chords, const ChordGraphOptions& o) {
  std::vector<std::array<float, 12>> features;
  features.reserve(chords.size());
  for (const Chord& c : chords) features.push_back(pitch_class_vector(c));
  return chord_graph(chords, features, o);
}

ChordGraph chord_graph(const std::vector<Chord>& chords, const std::vector<std::array<float, 12>>& features,
                       const ChordGraphOptions& o) {
  FM_CHECK(features.size() == chords.size(), "midi: chord_graph: ", features.size(), " feature rows for ",
           chords.size(), " chords (expected one per chord)");
  FM_CHECK(o.max_harmonic_distance >= 0, "midi: chord_graph: max_harmonic_distance ", o.max_harmonic_distance,
           " (expected >= 0)");
  const int64_t n = static_cast<int64_t>(chords.size());
  for (int64_t i = 0; i < n; ++i)
    FM_CHECK(chords[i].root >= 0 && chords[i].root < 12, "midi: chord_graph: chord ", i, " has root ",
             chords[i].root, " outside 0..11");
  std::vector<int64_t> src, dst, type;
  auto add = [&](int64_t s, int64_t d, int64_t t) {
    src.push_back(s);
    dst.push_back(d);
    type.push_back(t);
  };
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0) {
      add(i - 1, i, kTemporalEdge);
      if (o.bidirectional_temporal) add(i, i - 1, kTemporalBackEdge);
    }
    for (int64_t j = 0; j < n; ++j) {
      if (j == i) continue;
      if (o.max_harmonic_distance > 0 && std::llabs(i - j) > o.max_harmonic_distance) continue;
      const int interval = mod12(chords[i].root - chords[j].root);
      if (interval == 7) add(i, j, kFifthEdge);
      else if (interval == 5) add(i, j, kFourthEdge);
    }
  }
  std::vector<float> x;
  x.reserve(features.size() * 12);
  for (const auto& f : features) x.insert(x.end(), f.begin(), f.end());
  const int64_t e = static_cast<int64_t>(type.size());
  std::vector<int64_t> ei = src;
  ei.insert(ei.end(), dst.begin(), dst.end());
  ChordGraph g;
  g.x = from_vector(x, {n, 12});
  g.edge_index = from_vector(ei, {2, e});
  g.edge_type = from_vector(type, {e});
  return g;
}

ChordGraphBatch batch_chord_graphs(const std::vector<ChordGraph>& graphs) {
  std::vector<float> x;
  std::vector<int64_t> src, dst, type, batch;
  int64_t offset = 0;
  for (size_t gi = 0; gi < graphs.size(); ++gi) {
    const ChordGraph& g = graphs[gi];
    FM_CHECK(g.x.dtype() == DType::Float32 && g.x.dim() == 2 && g.edge_index.dtype() == DType::Int64 &&
                 g.edge_index.dim() == 2 && g.edge_index.size(0) == 2 && g.edge_type.dim() == 1 &&
                 g.edge_type.size(0) == g.edge_index.size(1),
             "midi: batch_chord_graphs: graph ", gi, " has x ", g.x.describe(), ", edge_index ",
             g.edge_index.describe(), ", edge_type ", g.edge_type.describe(),
             " (expected float32 [N, F], int64 [2, E], int64 [E])");
    FM_CHECK(gi == 0 || g.x.size(1) == graphs[0].x.size(1), "midi: batch_chord_graphs: graph ", gi, " has ",
             g.x.size(1), " features per node, graph 0 has ", graphs[0].x.size(1));
    const int64_t n = g.x.size(0), e = g.edge_type.size(0);
    const auto gx = g.x.to_vector<float>();
    x.insert(x.end(), gx.begin(), gx.end());
    const auto ei = g.edge_index.to_vector<int64_t>();
    for (int64_t k = 0; k < e; ++k) {
      FM_CHECK(ei[k] >= 0 && ei[k] < n && ei[e + k] >= 0 && ei[e + k] < n, "midi: batch_chord_graphs: graph ", gi,
               " edge ", k, " (", ei[k], " -> ", ei[e + k], ") outside its ", n, " nodes");
      src.push_back(ei[k] + offset);
      dst.push_back(ei[e + k] + offset);
    }
    const auto et = g.edge_type.to_vector<int64_t>();
    type.insert(type.end(), et.begin(), et.end());
    batch.insert(batch.end(), n, static_cast<int64_t>(gi));
    offset += n;
  }
  const int64_t features = graphs.empty() ? 12 : graphs[0].x.size(1);
  const int64_t e = static_cast<int64_t>(type.size());
  src.insert(src.end(), dst.begin(), dst.end());
  ChordGraphBatch b;
  b.x = from_vector(x, {offset, features});
  b.edge_index = from_vector(src, {2, e});
  b.edge_type = from_vector(type, {e});
  b.batch = from_vector(batch, {offset});
  b.num_graphs = static_cast<int64_t>(graphs.size());
  return b;
}

}  // namespace fm::midi
