#pragma once
// Chord progressions as graphs for the graph layers (layers/graph.h), as the "GNN for Chord
// Progression Analysis" section of the MIR paradigms blog builds them, with its bugs fixed.
//
// Nodes: one per chord, in order; features x float32 [N, 12], the chord's pitch-class vector
// (1 at its pitch classes) or a profile given by the caller (e.g. duration-weighted, from
// pitch_class_profile).
// Edges, in the blog's order: for each chord i, first the temporal edge (i-1 -> i) when i > 0,
// then for every other chord j (j in order, j != i) an edge i -> j when
//   (root_i - root_j) mod 12 == 7: i's root is a fifth above j's (i is j's dominant): type 1,
//   (root_i - root_j) mod 12 == 5: i's root is a fourth above j's:                    type 2.
// So harmonic edges come in pairs -- i -> j of type 1 and j -> i of type 2 -- and that part of
// the graph is symmetric, as GCNConv wants for undirected relations. Temporal edges point
// forward only (a node aggregates its predecessor: source row 0, target row 1, torch_geometric's
// source_to_target flow); with bidirectional_temporal the reverse edge (i -> i-1) is added right
// after each temporal edge with type 3. Chords with the same root are not linked harmonically.
// One (source, target) pair can appear twice with different types (G -> C adjacent gives a
// temporal and a fifth edge): GCNConv, like torch_geometric's, sums duplicate edges, so such a
// neighbour weighs twice; pass the edge types to a relational layer to tell them apart.
// Self-loops are not added (GCNConv adds its own).
//
// The blog's bugs, fixed here: its edges are one [E, 3] tensor (source, target, type) where
// GCNConv needs edge_index [2, E] (we return edge_index and edge_type apart); its node features
// would be an integer tensor (ours are float32); `(a - b) % 12` is Python's non-negative modulo
// (C++'s % is not, mod 12 is taken properly here); and its edge-type embedding is never used
// (edge_type is returned for a layer that wants it).
#include <array>
#include <vector>

#include "midi/chords.h"
#include "tensor/tensor.h"

namespace fm::midi {

enum ChordEdgeType : int64_t {
  kTemporalEdge = 0,
  kFifthEdge = 1,
  kFourthEdge = 2,
  kTemporalBackEdge = 3,
};
inline constexpr int64_t kNumChordEdgeTypes = 4;

struct ChordGraphOptions {
  bool bidirectional_temporal = false;
  // Harmonic edges only between chords at most this many positions apart (0: all pairs, as the
  // blog does).
  int max_harmonic_distance = 0;
};

struct ChordGraph {
  Tensor x;           // float32 [N, 12]
  Tensor edge_index;  // int64 [2, E]: row 0 sources, row 1 targets
  Tensor edge_type;   // int64 [E]
  int64_t num_nodes() const { return x.size(0); }
  int64_t num_edges() const { return edge_type.size(0); }
};

ChordGraph chord_graph(const std::vector<Chord>& chords, const ChordGraphOptions& o = {});
// The same edges with the given node features (one profile per chord).
ChordGraph chord_graph(const std::vector<Chord>& chords, const std::vector<std::array<float, 12>>& features,
                       const ChordGraphOptions& o = {});

// Graphs in one batch, as torch_geometric's Batch.from_data_list: x and edge_type concatenated,
// each graph's edge_index shifted by the nodes before it, and batch int64 [N] giving each node's
// graph (for the global pooling layers).
struct ChordGraphBatch {
  Tensor x, edge_index, edge_type, batch;
  int64_t num_graphs = 0;
};
ChordGraphBatch batch_chord_graphs(const std::vector<ChordGraph>& graphs);

}  // namespace fm::midi
