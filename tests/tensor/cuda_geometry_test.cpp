// The host side of the CUDA kernels' indexing (tensor/cuda_geometry.h), on the CPU: merged
// dims must address exactly the elements the unmerged layout addresses.
#include "support/test_support.h"
#include "tensor/cuda_geometry.h"

using namespace fm;
using namespace fm::cuda_geom;

namespace {

// The offsets of every row-major index of an unmerged layout, computed directly.
std::vector<int64_t> direct_offsets(const Shape& sizes, const Shape& strides) {
  std::vector<int64_t> out;
  const int64_t n = shape_numel(sizes);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, off = 0;
    for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
      off += (rem % sizes[d]) * strides[d];
      rem /= sizes[d];
    }
    out.push_back(off);
  }
  return out;
}

std::vector<int64_t> geom_offsets(const StridedGeom<2>& g, int64_t n, int k) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    int64_t off[2];
    g.offsets(i, off);
    out.push_back(off[k]);
  }
  return out;
}

}  // namespace

TEST(CudaGeometry, ContiguousOperandsMergeIntoOneDim) {
  const Shape sizes = {3, 4, 5};
  const auto g = make_geom<2>(sizes, {contiguous_strides(sizes), contiguous_strides(sizes)}, "test");
  EXPECT_EQ(g.ndim, 1);
  EXPECT_EQ(g.size[0], 60);
  EXPECT_TRUE(all_contiguous(g));
}

TEST(CudaGeometry, MergedOffsetsMatchTheLayoutForTransposesSlicesAndBroadcasts) {
  struct Case {
    Shape sizes, s0, s1;
    int merged_dims;
  };
  const std::vector<Case> cases = {
      {{4, 6}, {6, 1}, {1, 4}, 2},                       // transposed second operand
      {{2, 3, 4}, {12, 4, 1}, {24, 8, 2}, 1},            // every other element: one run of stride 2
      {{2, 3, 4}, {12, 4, 1}, {0, 4, 1}, 2},             // broadcast along dim 0
      {{5, 1, 7}, {7, 7, 1}, {1, 0, 0}, 2},              // size-1 dim dropped, scalar-like column
      {{2, 1, 3, 1, 2}, {6, 6, 2, 2, 1}, {0, 0, 1, 0, 0}, 3},
  };
  for (const Case& c : cases) {
    const auto g = make_geom<2>(c.sizes, {c.s0, c.s1}, "test");
    EXPECT_EQ(g.ndim, c.merged_dims) << shape_str(c.sizes);
    const int64_t n = shape_numel(c.sizes);
    EXPECT_EQ(geom_offsets(g, n, 0), direct_offsets(c.sizes, c.s0)) << shape_str(c.sizes);
    EXPECT_EQ(geom_offsets(g, n, 1), direct_offsets(c.sizes, c.s1)) << shape_str(c.sizes);
    EXPECT_FALSE(all_contiguous(g));
  }
}

TEST(CudaGeometry, TooManyDimsAfterMergingIsAnError) {
  Shape sizes(9, 2), s0(9), s1(9);
  for (int d = 0; d < 9; ++d) {
    s0[d] = int64_t{1} << (2 * (8 - d));  // gaps everywhere: nothing merges
    s1[d] = s0[d];
  }
  EXPECT_THROW_MSG((make_geom<2>(sizes, {s0, s1}, "add")), "add: the CUDA kernels index at most 8 dims");
}

TEST(CudaGeometry, BroadcastStridesAlignRight) {
  EXPECT_EQ(broadcast_strides({3, 1}, {1, 1}, {2, 3, 4}), (Shape{0, 1, 0}));
  EXPECT_EQ(broadcast_strides({}, {}, {2, 3}), (Shape{0, 0}));
}

TEST(CudaGeometry, ReduceGeomSplitsKeptAndReducedDims) {
  const Shape sizes = {4, 5, 6}, strides = contiguous_strides(sizes);
  const ReduceGeom g = make_reduce_geom(sizes, strides, {true, false, true}, "sum");
  EXPECT_EQ(g.n_out, 5);
  EXPECT_EQ(g.n_red, 24);
  // output 2 reduces x[a, 2, c] for all a, c
  int64_t base[1];
  g.kept.offsets(2, base);
  std::vector<int64_t> got;
  for (int64_t j = 0; j < g.n_red; ++j) {
    int64_t off[1];
    g.red.offsets(j, off);
    got.push_back(base[0] + off[0]);
  }
  std::vector<int64_t> want;
  for (int64_t a = 0; a < 4; ++a)
    for (int64_t c = 0; c < 6; ++c) want.push_back(a * 30 + 2 * 6 + c);
  EXPECT_EQ(got, want);
}

TEST(CudaGeometry, LaunchSizes) {
  EXPECT_EQ(blocks_for(0, 256), 1);
  EXPECT_EQ(blocks_for(257, 256), 2);
  EXPECT_EQ(blocks_for(int64_t{1} << 40, 256, 1000), 1000);
  EXPECT_EQ(reduce_splits(1, 10000000, 132), 528);  // fill 4 blocks per SM
  EXPECT_EQ(reduce_splits(1, 10000, 132), 2);       // but at least 4096 inputs per block
  EXPECT_EQ(reduce_splits(100000, 1000, 132), 1);   // enough outputs: one pass
  int buf[8];
  EXPECT_TRUE(aligned_to({buf}, 4));
  EXPECT_FALSE(aligned_to({reinterpret_cast<char*>(buf) + 4, reinterpret_cast<char*>(buf) + 8}, 8) &&
               aligned_to({reinterpret_cast<char*>(buf) + 4}, 8));
}
