#include "support/test_support.h"

using namespace fm;

namespace {
Tensor iota(const Shape& s, DType dt = kFloat32) {
  return reshape(arange(0, static_cast<double>(shape_numel(s)), 1, {.dtype = dt}), s);
}
Tensor idx(std::vector<int64_t> v, Shape s = {}) {
  if (s.empty()) s = {static_cast<int64_t>(v.size())};
  return from_vector(v, s);
}
std::vector<float> vals(const Tensor& t) { return t.to_vector<float>(); }
using V = std::vector<float>;
}  // namespace

TEST(Index, IndexSelect) {
  Tensor x = iota({3, 2});  // [[0,1],[2,3],[4,5]]
  EXPECT_EQ(vals(index_select(x, 0, idx({2, 0, 2}))), (V{4, 5, 0, 1, 4, 5}));
  Tensor c = index_select(x, 1, idx({1}));
  EXPECT_EQ(c.sizes(), (Shape{3, 1}));
  EXPECT_EQ(vals(c), (V{1, 3, 5}));
  EXPECT_EQ(vals(index_select(transpose(x, 0, 1), 1, idx({1, 1}))), (V{2, 2, 3, 3}));
  EXPECT_EQ(index_select(x, 0, idx({})).sizes(), (Shape{0, 2}));
  EXPECT_EQ(index_select(iota({4}, kInt64), 0, idx({3, 1})).to_vector<int64_t>(),
            (std::vector<int64_t>{3, 1}));
}

TEST(Index, IndexSelectErrors) {
  Tensor x = iota({3, 2});
  EXPECT_THROW_MSG(index_select(x, 0, idx({0, 3})),
                   "index_select: index 3 (at flat position 1 of the indices) is out of range for "
                   "dimension 0 with size 3");
  EXPECT_THROW_MSG(index_select(x, 0, idx({0, 3})), "self float32[3, 2] on cpu, index int64[2] on cpu");
  EXPECT_THROW_MSG(index_select(x, 1, idx({-1})), "index -1");
  EXPECT_THROW_MSG(index_select(x, 0, iota({2})), "index_select: index must be an int64 tensor");
  EXPECT_THROW_MSG(index_select(x, 0, idx({0, 1}, {1, 2})), "index must be 1-D or 0-D");
  EXPECT_THROW_MSG(index_select(x, 2, idx({0})), "index_select: dimension 2 is out of range");
}

TEST(Index, Gather) {
  Tensor x = iota({2, 3});  // [[0,1,2],[3,4,5]]
  Tensor g = gather(x, 1, idx({2, 0, 1, 1}, {2, 2}));
  EXPECT_EQ(vals(g), (V{2, 0, 4, 4}));
  Tensor g0 = gather(x, 0, idx({1, 0, 1}, {1, 3}));
  EXPECT_EQ(vals(g0), (V{3, 1, 5}));
  // index smaller than x in the other dim; non-contiguous x and index
  Tensor g1 = gather(transpose(x, 0, 1), 1, transpose(idx({1, 0}, {1, 2}), 0, 1));
  EXPECT_EQ(g1.sizes(), (Shape{2, 1}));
  EXPECT_EQ(vals(g1), (V{3, 1}));
  EXPECT_THROW_MSG(gather(x, 1, idx({3}, {1, 1})),
                   "gather: index 3 (at flat position 0 of the indices) is out of range for dimension 1 with size 3");
  EXPECT_THROW_MSG(gather(x, 1, idx({0, 0, 0}, {3, 1})), "gather: index size 3 exceeds self size 2 in dimension 0");
  EXPECT_THROW_MSG(gather(x, 1, idx({0})), "gather: index must have as many dimensions as self");
}

TEST(Index, ScatterAndScatterAdd) {
  Tensor x = zeros({2, 3});
  Tensor src = add(iota({2, 3}), 1.0);  // [[1,2,3],[4,5,6]]
  Tensor i = idx({2, 0, 1, 1}, {2, 2});
  EXPECT_EQ(vals(scatter(x, 1, i, src)), (V{2, 0, 1, 0, 5, 0}));  // row 1: 4 then 5 into col 1
  EXPECT_EQ(vals(scatter_add(x, 1, i, src)), (V{2, 0, 1, 0, 9, 0}));
  EXPECT_EQ(vals(scatter(x, 1, i, 7.0)), (V{7, 0, 7, 0, 7, 0}));
  EXPECT_EQ(vals(x), (V{0, 0, 0, 0, 0, 0}));  // out of place
  Tensor s0 = scatter_add(ones({3}), 0, idx({0, 0, 2, 0}), iota({4}));
  EXPECT_EQ(vals(s0), (V{1 + 0 + 1 + 3, 1, 1 + 2}));
  // along dim 0 of a non-contiguous target
  Tensor t = scatter(transpose(zeros({3, 2}), 0, 1), 0, idx({1, 0, 0}, {1, 3}), src);
  EXPECT_EQ(vals(t), (V{0, 2, 3, 1, 0, 0}));
  EXPECT_THROW_MSG(scatter(x, 1, idx({0, 3}, {1, 2}), src),
                   "scatter: index 3 (at flat position 1 of the indices) is out of range for dimension 1 with size 3");
  EXPECT_THROW_MSG(scatter_add(x, 0, idx({5}, {1, 1}), src), "scatter_add: index 5");
  EXPECT_THROW_MSG(scatter_add(x, 0, idx({5}, {1, 1}), src), "src float32[2, 3] on cpu");
  EXPECT_THROW_MSG(scatter(x, 1, idx({0, 0, 0, 0}, {1, 4}), src), "index size 4 exceeds src size 3");
  EXPECT_THROW_MSG(scatter(x, 1, i, to(src, kFloat64)), "scatter: src dtype float64 must match self dtype float32");
}

TEST(Index, IndexAdd) {
  Tensor x = ones({3, 2});
  Tensor src = iota({4, 2});  // rows [0,1],[2,3],[4,5],[6,7]
  Tensor y = index_add(x, 0, idx({0, 2, 0, 2}), src);
  EXPECT_EQ(vals(y), (V{1 + 0 + 4, 1 + 1 + 5, 1, 1, 1 + 2 + 6, 1 + 3 + 7}));
  Tensor z = index_add(x, 1, idx({1}), iota({3, 1}), 2.0);
  EXPECT_EQ(vals(z), (V{1, 1, 1, 3, 1, 5}));
  EXPECT_EQ(vals(x), (V{1, 1, 1, 1, 1, 1}));
  EXPECT_THROW_MSG(index_add(x, 0, idx({0, 3}), iota({2, 2})),
                   "index_add: index 3 (at flat position 1 of the indices) is out of range for dimension 0 with size 3");
  EXPECT_THROW_MSG(index_add(x, 0, idx({0}), iota({2, 2})), "index_add: source must have self's shape");
}

TEST(Index, Embedding) {
  Tensor w = iota({4, 2});
  Tensor e = embedding(w, idx({3, 0, 3, 1}, {2, 2}));
  EXPECT_EQ(e.sizes(), (Shape{2, 2, 2}));
  EXPECT_EQ(vals(e), (V{6, 7, 0, 1, 6, 7, 2, 3}));
  EXPECT_THROW_MSG(embedding(w, idx({4})),
                   "embedding: index 4 (at flat position 0 of the indices) is out of range for dimension 0 with size 4");
  EXPECT_THROW_MSG(embedding(w, idx({4})), "weight float32[4, 2] on cpu, indices int64[1] on cpu");
  EXPECT_THROW_MSG(embedding(iota({4}), idx({0})), "embedding: weight must be 2-D");
  EXPECT_THROW_MSG(embedding(w, idx({0}), 4), "embedding: padding_idx 4 must be smaller than the 4 rows");
}

TEST(Index, EmbeddingGradientAccumulatesAndSkipsPadding) {
  Tensor w = zeros({4, 2}, {.requires_grad = true});
  Tensor e = embedding(w, idx({3, 0, 3, 1, 0}), /*padding_idx=*/0);
  sum(e).backward();
  // row 3 used twice, row 1 once, row 0 is padding (no gradient), row 2 unused
  EXPECT_EQ(vals(w.grad()), (V{0, 0, 1, 1, 0, 0, 2, 2}));
  Tensor w2 = zeros({3, 1}, {.requires_grad = true});
  sum(mul(embedding(w2, idx({2, 2, 2})), iota({3, 1}))).backward();
  EXPECT_EQ(vals(w2.grad()), (V{0, 0, 3}));
}

TEST(Index, GradientsOfSelectAndGather) {
  Tensor x = zeros({3}, {.requires_grad = true});
  sum(index_select(x, 0, idx({0, 0, 2}))).backward();
  EXPECT_EQ(vals(x.grad()), (V{2, 0, 1}));
  Tensor y = zeros({2, 2}, {.requires_grad = true});
  sum(gather(y, 1, idx({1, 1, 0}, {1, 3}))).backward();
  EXPECT_EQ(vals(y.grad()), (V{1, 2, 0, 0}));
}

TEST(Index, LargeParallelMatchesSerialReference) {
  // big enough to take the threaded paths; compare with a plain loop
  const int64_t V = 500, D = 96, K = 4000;
  Generator g(3);
  Tensor w = randn({V, D}, {.dtype = kFloat64}, &g);
  Tensor ids = randint(0, V, {K}, {.dtype = kInt64}, &g);
  Tensor src = randn({K, D}, {.dtype = kFloat64}, &g);
  Tensor acc = index_add(zeros({V, D}, {.dtype = kFloat64}), 0, ids, src);
  std::vector<double> ref(V * D, 0.0);
  auto iv = ids.to_vector<int64_t>();
  auto sv = src.to_vector<double>();
  for (int64_t k = 0; k < K; ++k)
    for (int64_t d = 0; d < D; ++d) ref[iv[k] * D + d] += sv[k * D + d];
  EXPECT_CLOSE(acc, from_vector(ref, {V, D}), 1e-12, 1e-12);
  Tensor sel = index_select(w, 0, ids);
  auto wv = w.to_vector<double>();
  auto selv = sel.to_vector<double>();
  bool same = true;
  for (int64_t k = 0; k < K && same; ++k)
    for (int64_t d = 0; d < D; ++d) same = same && selv[k * D + d] == wv[iv[k] * D + d];
  EXPECT_TRUE(same);
  // scatter_add along dim 1 with many duplicates equals index_add on the transpose
  Tensor ids2 = reshape(randint(0, D, {V * D}, {.dtype = kInt64}, &g), {V, D});
  Tensor s2 = scatter_add(zeros({V, D}, {.dtype = kFloat64}), 1, ids2, w);
  auto i2 = ids2.to_vector<int64_t>();
  std::vector<double> ref2(V * D, 0.0);
  for (int64_t r = 0; r < V; ++r)
    for (int64_t c = 0; c < D; ++c) ref2[r * D + i2[r * D + c]] += wv[r * D + c];
  EXPECT_CLOSE(s2, from_vector(ref2, {V, D}), 1e-12, 1e-12);
  // and along dim 0 (the loop order flips: rows outside, columns inside)
  Tensor ids3 = reshape(randint(0, V, {V * D}, {.dtype = kInt64}, &g), {V, D});
  Tensor s3 = scatter_add(zeros({V, D}, {.dtype = kFloat64}), 0, ids3, w);
  auto i3 = ids3.to_vector<int64_t>();
  std::vector<double> ref3(V * D, 0.0);
  for (int64_t r = 0; r < V; ++r)
    for (int64_t c = 0; c < D; ++c) ref3[i3[r * D + c] * D + c] += wv[r * D + c];
  EXPECT_CLOSE(s3, from_vector(ref3, {V, D}), 1e-12, 1e-12);
  Tensor gt = gather(w, 1, ids2);
  auto gv = gt.to_vector<double>();
  bool same2 = true;
  for (int64_t r = 0; r < V; ++r)
    for (int64_t c = 0; c < D; ++c) same2 = same2 && gv[r * D + c] == wv[r * D + i2[r * D + c]];
  EXPECT_TRUE(same2);
}
