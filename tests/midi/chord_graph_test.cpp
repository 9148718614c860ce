#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "layers/graph.h"
#include "midi/chord_graph.h"
#include "midi/chords.h"
#include "support/test_support.h"

using namespace fm::midi;

namespace {

using Edge = std::tuple<int64_t, int64_t, int64_t>;  // source, target, type

std::vector<Chord> progression(const std::vector<std::string>& names) {
  std::vector<Chord> v;
  for (const auto& n : names) v.push_back(parse_chord(n));
  return v;
}

std::vector<Edge> edges(const ChordGraph& g) {
  const auto ei = g.edge_index.to_vector<int64_t>();
  const auto et = g.edge_type.to_vector<int64_t>();
  const size_t e = et.size();
  std::vector<Edge> out;
  for (size_t k = 0; k < e; ++k) out.emplace_back(ei[k], ei[e + k], et[k]);
  return out;
}

}  // namespace

TEST(ChordGraph, OneFourFiveOneInC) {
  // C F G C: C's root is a fifth above F's (type 1 C -> F) and a fourth above G's (type 2 C -> G);
  // F - G are a tone apart (no edge); C - C share a root (no edge).
  const ChordGraph g = chord_graph(progression({"C", "F", "G", "C"}));
  ASSERT_EQ(g.x.dtype(), fm::DType::Float32);
  EXPECT_EQ(g.x.sizes(), (fm::Shape{4, 12}));
  EXPECT_EQ(g.edge_index.dtype(), fm::DType::Int64);
  EXPECT_EQ(g.edge_type.dtype(), fm::DType::Int64);
  const std::vector<Edge> want{
      {0, 1, kFifthEdge},  {0, 2, kFourthEdge},                        // C
      {0, 1, kTemporalEdge}, {1, 0, kFourthEdge}, {1, 3, kFourthEdge},  // F
      {1, 2, kTemporalEdge}, {2, 0, kFifthEdge},  {2, 3, kFifthEdge},   // G
      {2, 3, kTemporalEdge}, {3, 1, kFifthEdge},  {3, 2, kFourthEdge},  // C
  };
  EXPECT_EQ(edges(g), want);
  EXPECT_EQ(g.num_nodes(), 4);
  EXPECT_EQ(g.num_edges(), 11);
  EXPECT_EQ(g.edge_index.sizes(), (fm::Shape{2, 11}));
  // Node features: the chords' pitch classes.
  const auto x = g.x.to_vector<float>();
  const std::vector<float> c{1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0}, f{1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0},
      gm{0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1};
  EXPECT_EQ(std::vector<float>(x.begin(), x.begin() + 12), c);
  EXPECT_EQ(std::vector<float>(x.begin() + 12, x.begin() + 24), f);
  EXPECT_EQ(std::vector<float>(x.begin() + 24, x.begin() + 36), gm);
  EXPECT_EQ(std::vector<float>(x.begin() + 36, x.end()), c);
}

TEST(ChordGraph, HarmonicEdgesComeInPairsAndOptionsWork) {
  // ii - V - I - vi - ii - V - I in Bb with a non-diatonic Gb.
  const auto chords = progression({"Cm7", "F7", "Bbmaj7", "Gm7", "Gb7", "Cm7", "F7", "Bbmaj7"});
  const auto all = edges(chord_graph(chords));
  std::set<Edge> set(all.begin(), all.end());
  EXPECT_EQ(set.size(), all.size());  // no exact duplicates
  int harmonic = 0;
  for (const auto& [s, t, type] : all) {
    if (type == kFifthEdge) {
      ++harmonic;
      EXPECT_TRUE(set.count({t, s, kFourthEdge})) << s << " -> " << t;
      EXPECT_EQ(((chords[s].root - chords[t].root) % 12 + 12) % 12, 7);
    } else if (type == kFourthEdge) {
      EXPECT_TRUE(set.count({t, s, kFifthEdge})) << s << " -> " << t;
    } else {
      EXPECT_EQ(type, kTemporalEdge);
      EXPECT_EQ(t, s + 1);
    }
  }
  EXPECT_GT(harmonic, 0);

  ChordGraphOptions o;
  o.bidirectional_temporal = true;
  o.max_harmonic_distance = 1;
  const auto near = edges(chord_graph(chords, o));
  for (const auto& [s, t, type] : near) {
    EXPECT_LE(std::abs(s - t), 1);
    if (type == kTemporalBackEdge) EXPECT_EQ(t, s - 1);
  }
  // C is a fifth above F (Cm7 -> F7, type 1) and F a fourth above C (F7 -> Cm7, type 2); F is a
  // fifth above Bb. Temporal edges both ways.
  const std::vector<Edge> first{{0, 1, kFifthEdge}, {0, 1, kTemporalEdge}, {1, 0, kTemporalBackEdge},
                                {1, 0, kFourthEdge}, {1, 2, kFifthEdge}};
  EXPECT_EQ(std::vector<Edge>(near.begin(), near.begin() + 5), first);
}

TEST(ChordGraph, GivenFeaturesEmptyGraphsAndErrors) {
  const auto chords = progression({"Am", "Dm"});
  std::vector<std::array<float, 12>> feats(2);
  feats[0][9] = 0.5f;
  feats[1][2] = 0.25f;
  const ChordGraph g = chord_graph(chords, feats);
  EXPECT_FLOAT_EQ(g.x.to_vector<float>()[9], 0.5f);
  EXPECT_FLOAT_EQ(g.x.to_vector<float>()[12 + 2], 0.25f);
  EXPECT_THROW_MSG(chord_graph(chords, std::vector<std::array<float, 12>>(1)), "1 feature rows for 2 chords");
  const ChordGraph empty = chord_graph({});
  EXPECT_EQ(empty.x.sizes(), (fm::Shape{0, 12}));
  EXPECT_EQ(empty.edge_index.sizes(), (fm::Shape{2, 0}));
  EXPECT_THROW_MSG(chord_graph({Chord{12, ChordQuality::Major, -1}}), "root 12");
}

TEST(ChordGraph, FeedsGcnConvAndBatches) {
  const ChordGraph a = chord_graph(progression({"C", "F", "G", "C"}));
  const ChordGraph b = chord_graph(progression({"Am", "E7", "Am"}));
  fm::nn::GCNConv conv(12, 8);
  const fm::Tensor h = conv(a.x, a.edge_index);
  EXPECT_EQ(h.sizes(), (fm::Shape{4, 8}));

  const ChordGraphBatch batch = batch_chord_graphs({a, b});
  EXPECT_EQ(batch.num_graphs, 2);
  EXPECT_EQ(batch.x.sizes(), (fm::Shape{7, 12}));
  EXPECT_EQ(batch.batch.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(batch.edge_type.size(0), a.num_edges() + b.num_edges());
  // The second graph's edges are shifted by the first graph's 4 nodes.
  const auto ei = batch.edge_index.to_vector<int64_t>();
  const int64_t e = batch.edge_type.size(0);
  const auto eb = b.edge_index.to_vector<int64_t>();
  for (int64_t k = 0; k < b.num_edges(); ++k) {
    EXPECT_EQ(ei[a.num_edges() + k], eb[k] + 4);
    EXPECT_EQ(ei[e + a.num_edges() + k], eb[b.num_edges() + k] + 4);
  }
  // Convolving the batch equals convolving each graph (no edges cross graphs).
  const fm::Tensor hb = conv(batch.x, batch.edge_index);
  EXPECT_CLOSE(fm::narrow(hb, 0, 0, 4), h);
  EXPECT_CLOSE(fm::narrow(hb, 0, 4, 3), conv(b.x, b.edge_index));
  const fm::Tensor pooled = fm::nn::global_mean_pool(hb, batch.batch);
  EXPECT_EQ(pooled.sizes(), (fm::Shape{2, 8}));
}
