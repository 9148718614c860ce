// CUDA indexing kernels against the CPU: index_select, gather, scatter / scatter_add /
// scatter with a value, index_add, with duplicate indices (last write wins, sums in index
// order), every dim, strided inputs and indices, float32, float64, int64 and bool data, both
// variants (label gpu); embedding's forward and backward on CUDA through autograd; and the
// range check of CUDA indices, which must raise the CPU's error before touching memory.
#include <random>

#include "cuda_parity.h"
#include "kernels/index.h"

using namespace fm;
using namespace fm::cuda_test;

namespace {

// Indices uniform in [0, hi): with more indices than hi, duplicates are certain.
Tensor random_index(const Shape& shape, int64_t hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)));
  for (int64_t& e : v) e = static_cast<int64_t>(rng() % static_cast<uint64_t>(hi));
  return from_vector(v, shape);
}

// Sums compare with a tolerance; integers and bools exactly.
::testing::AssertionResult sums_match(const Tensor& a, const Tensor& ref) {
  if (is_floating(ref.dtype())) return cuda_close(a, ref, rtol_for(ref.dtype()), atol_for(ref.dtype()));
  return exactly_equal(a, ref);
}

const std::vector<DType> kAllTypes = {kFloat32, kFloat64, kInt64, kBool};

std::string name_of(const std::string& op, const Shape& s, int64_t dim, DType dt, int layout) {
  return op + " " + shape_str(s) + " dim " + std::to_string(dim) + " " + std::string(dtype_name(dt)) + " layout " +
         std::to_string(layout);
}

}  // namespace

class CudaIndex : public CudaParity {};

TEST_P(CudaIndex, IndexSelectEqualsCpu) {
  struct Case {
    Shape shape;
    int64_t dim, K;
  };
  // inner rows of whole 16-byte packs (v2) and odd ones, K below and above the size (duplicates)
  const std::vector<Case> cases = {{{7}, 0, 13},       {{5, 9}, 0, 1},     {{5, 9}, 1, 40},
                                   {{3, 11, 32}, 1, 17}, {{2, 6, 8}, 2, 5},  {{1000, 64}, 0, 333},
                                   {{4, 3, 1, 5}, 2, 3}, {{6, 0, 4}, 0, 2}};
  for (DType dt : kAllTypes)
    for (const Case& c : cases)
      for (int layout : {0, 1, 2}) {
        const uint64_t seed = fresh_seed();
        const std::string what = name_of("index_select", c.shape, c.dim, dt, layout);
        const Tensor x = any_data(c.shape, dt, seed);
        const Tensor idx = random_index({c.K}, c.shape[c.dim], seed + 1);
        const Tensor y = kernels::index_select(x, c.dim, idx);
        const Tensor yg = kernels::index_select(to_cuda(x, layout), c.dim, to_cuda(idx, layout == 2 ? 2 : 0));
        ASSERT_TRUE(yg.device().is_cuda()) << what;
        EXPECT_TRUE(exactly_equal(yg, y)) << what << ", seed " << seed;
      }
}

TEST_P(CudaIndex, GatherEqualsCpu) {
  struct Case {
    Shape x, index;
    int64_t dim;
  };
  // the index smaller than x outside dim, any length along dim
  const std::vector<Case> cases = {{{5, 7, 9}, {4, 6, 9}, 0},  {{5, 7, 9}, {5, 11, 3}, 1}, {{5, 7, 9}, {2, 7, 20}, 2},
                                   {{13}, {29}, 0},             {{3, 1, 4}, {3, 1, 1}, 2},  {{64, 300}, {64, 257}, 1}};
  for (DType dt : kAllTypes)
    for (const Case& c : cases)
      for (int layout : {0, 1, 2}) {
        const uint64_t seed = fresh_seed();
        const std::string what = name_of("gather", c.x, c.dim, dt, layout);
        const Tensor x = any_data(c.x, dt, seed);
        const Tensor idx = random_index(c.index, c.x[c.dim], seed + 1);
        const Tensor y = kernels::gather(x, c.dim, idx);
        const Tensor yg = kernels::gather(to_cuda(x, layout), c.dim, to_cuda(idx, 2 - layout));
        EXPECT_TRUE(exactly_equal(yg, y)) << what << ", seed " << seed;
      }
}

TEST_P(CudaIndex, ScatterWithDuplicatesEqualsCpu) {
  struct Case {
    Shape out, index, src;
    int64_t dim;
  };
  const std::vector<Case> cases = {
      {{5, 7, 9}, {12, 6, 9}, {12, 7, 9}, 0},   // duplicates along dim 0, index smaller elsewhere
      {{5, 7, 9}, {5, 30, 9}, {5, 31, 10}, 1},  // src larger than the index
      {{5, 7, 9}, {4, 7, 50}, {4, 7, 50}, 2},   // the index dense along dim (v2: a warp per line)
      {{3, 1000}, {3, 2000}, {3, 2000}, 1},     // few lines, many positions each
      {{3, 5000}, {7, 5000}, {7, 5000}, 0},     // many lines, strided along dim (v1 in both)
      {{11}, {100}, {100}, 0},                  // one line
      {{6, 4}, {0, 4}, {2, 4}, 0},              // no positions
  };
  for (DType dt : kAllTypes)
    for (const Case& c : cases)
      for (bool accumulate : {false, true})
        for (int layout : {0, 1, 2}) {
          const uint64_t seed = fresh_seed();
          const std::string what = name_of(accumulate ? "scatter_add" : "scatter", c.out, c.dim, dt, layout);
          const Tensor out = any_data(c.out, dt, seed);
          const Tensor idx = random_index(c.index, c.out[c.dim], seed + 1);
          const Tensor src = any_data(c.src, dt, seed + 2);
          const Tensor ref = contiguous_raw(out, true);
          kernels::scatter_(ref, c.dim, idx, src, accumulate);
          // in place on a strided CUDA tensor
          const Tensor og = to_cuda(out, layout);
          kernels::scatter_(og, c.dim, to_cuda(idx, layout == 1 ? 1 : 0), to_cuda(src, 2 - layout), accumulate);
          // last write wins: which write is last must agree exactly; sums in the same order too
          EXPECT_TRUE(accumulate ? sums_match(og, ref) : exactly_equal(og, ref)) << what << ", seed " << seed;

          if (accumulate) continue;
          const Tensor refv = contiguous_raw(out, true);
          kernels::scatter_value_(refv, c.dim, idx, 2.5);
          const Tensor ogv = to_cuda(out, layout);
          kernels::scatter_value_(ogv, c.dim, to_cuda(idx, 0), 2.5);
          EXPECT_TRUE(exactly_equal(ogv, refv)) << what << " value, seed " << seed;
        }
}

TEST_P(CudaIndex, ScatterOfFloatSourceConvertsLikeCpu) {
  const uint64_t seed = fresh_seed();
  const Tensor out = any_data({4, 6}, kFloat64, seed);
  const Tensor idx = random_index({9, 6}, 4, seed + 1);
  const Tensor src = any_data({9, 6}, kFloat32, seed + 2);
  const Tensor ref = contiguous_raw(out, true);
  kernels::scatter_(ref, 0, idx, src, true);
  const Tensor og = to_cuda(out, 0);
  kernels::scatter_(og, 0, to_cuda(idx, 0), to_cuda(src, 0), true);
  EXPECT_TRUE(sums_match(og, ref)) << "seed " << seed;
}

TEST_P(CudaIndex, IndexAddWithDuplicatesMatchesCpu) {
  struct Case {
    Shape out;
    int64_t dim, K;
  };
  // many indices over few columns (v2 sorts them), few indices, wide rows
  const std::vector<Case> cases = {{{6, 11, 5}, 1, 40}, {{6, 11, 5}, 0, 3},    {{6, 11, 5}, 2, 64},
                                   {{50, 8}, 0, 1000},  {{7, 20000}, 0, 33},  {{13}, 0, 77},
                                   {{2, 3}, 1, 0}};
  for (DType dt : kAllTypes)
    for (const Case& c : cases)
      for (double alpha : {1.0, -0.5})
        for (int layout : {0, 1, 2}) {
          const uint64_t seed = fresh_seed();
          const std::string what =
              name_of("index_add", c.out, c.dim, dt, layout) + " K " + std::to_string(c.K) + " alpha " +
              std::to_string(alpha);
          Shape ss = c.out;
          ss[c.dim] = c.K;
          const Tensor out = any_data(c.out, dt, seed);
          const Tensor src = any_data(ss, dt, seed + 1);
          const Tensor idx = random_index({c.K}, c.out[c.dim], seed + 2);
          const Tensor ref = contiguous_raw(out, true);
          kernels::index_add_(ref, c.dim, idx, src, alpha);
          const Tensor og = to_cuda(out, layout);  // non-contiguous: through a contiguous copy
          kernels::index_add_(og, c.dim, to_cuda(idx, layout == 2 ? 2 : 0), to_cuda(src, layout), alpha);
          EXPECT_TRUE(sums_match(og, ref)) << what << ", seed " << seed;
        }
}

TEST_P(CudaIndex, EmbeddingForwardAndBackwardOnCuda) {
  for (DType dt : {kFloat32, kFloat64})
    for (int64_t padding_idx : {int64_t{-1}, int64_t{3}})
      for (const Shape& ishape : {Shape{5}, Shape{4, 37}, Shape{300}}) {
        const uint64_t seed = fresh_seed();
        const std::string what = "embedding " + shape_str(ishape) + " " + std::string(dtype_name(dt)) +
                                 " padding_idx " + std::to_string(padding_idx);
        const int64_t V = 10, D = 7;
        const Tensor w = random_cpu({V, D}, dt, seed);
        const Tensor idx = random_index(ishape, V, seed + 1);  // repeated rows: summed gradients
        Shape yshape = ishape;
        yshape.push_back(D);
        const Tensor gy = random_cpu(yshape, dt, seed + 2);

        Tensor wc = w.detach();
        wc.requires_grad_(true);
        const Tensor y = embedding(wc, idx, padding_idx);
        y.backward(gy);

        Tensor wg = to_cuda(w, 0);
        wg.requires_grad_(true);
        const Tensor yg = embedding(wg, to_cuda(idx, 0), padding_idx);
        ASSERT_TRUE(yg.device().is_cuda()) << what;
        EXPECT_TRUE(exactly_equal(yg.detach(), y.detach())) << what << ", seed " << seed;
        yg.backward(to_cuda(gy, 0));
        ASSERT_TRUE(wg.grad().defined()) << what;
        EXPECT_CUDA_CLOSE(wg.grad(), wc.grad(), rtol_for(dt), atol_for(dt), seed, what + " grad");
      }
}

TEST_P(CudaIndex, OutOfRangeIndicesRaiseTheCpuErrorOnCuda) {
  // a large index tensor (many blocks in the min/max reduction) with one bad value
  for (int64_t bad : {int64_t{-1}, int64_t{50}, int64_t{1} << 40}) {
    const uint64_t seed = fresh_seed();
    std::vector<int64_t> v = random_index({100003}, 50, seed).to_vector<int64_t>();
    const size_t at = static_cast<size_t>(seed % v.size());
    v[at] = bad;
    v[v.size() - 1] = bad < 0 ? -7 : bad + 1;  // a later offender: the error names the first
    const Tensor idx = from_vector(v, {static_cast<int64_t>(v.size())});
    std::string cpu_msg, cuda_msg;
    try {
      kernels::check_index_range("gather", idx, 50, 1, "some context");
    } catch (const Error& e) {
      cpu_msg = e.what();
    }
    try {
      kernels::check_index_range("gather", to_cuda(idx, 0), 50, 1, "some context");
    } catch (const Error& e) {
      cuda_msg = e.what();
    }
    EXPECT_FALSE(cpu_msg.empty());
    EXPECT_EQ(cuda_msg, cpu_msg) << "seed " << seed;
    EXPECT_NE(cuda_msg.find("position " + std::to_string(at)), std::string::npos) << cuda_msg;
  }
  // in range: no error, and the empty index passes
  EXPECT_NO_THROW(kernels::check_index_range("gather", to_cuda(random_index({4097}, 9, 1), 0), 9, 0, "ctx"));
  EXPECT_NO_THROW(kernels::check_index_range("gather", to_cuda(from_vector(std::vector<int64_t>{}, {0}), 0), 9, 0,
                                             "ctx"));

  // through the ops: the error names the op, and the target is left as it was
  const Tensor x = to_cuda(random_cpu({4, 5}, kFloat32, 3), 0);
  const Tensor bad_idx = to_cuda(from_vector(std::vector<int64_t>{0, 4, 2}, {3}), 0);
  EXPECT_THROW_MSG(index_select(x, 0, bad_idx), "index_select");
  EXPECT_THROW_MSG(embedding(x, bad_idx), "embedding");
  EXPECT_THROW_MSG(index_add(x, 0, bad_idx, to_cuda(random_cpu({3, 5}, kFloat32, 4), 0)), "index_add");
  const Tensor bad2 = to_cuda(from_vector(std::vector<int64_t>{0, 1, 9, 2}, {1, 4}), 0);
  EXPECT_THROW_MSG(gather(x, 1, bad2), "gather");
  const Tensor before = to(x, Device::cpu());
  EXPECT_THROW_MSG(scatter_add(x, 1, bad2, to_cuda(random_cpu({1, 4}, kFloat32, 5), 0)), "scatter_add");
  EXPECT_THROW_MSG(scatter(x, 1, bad2, 1.0), "scatter");
  EXPECT_TRUE(exactly_equal(x, before));
}

TEST_P(CudaIndex, IndexOpsGradientsOnCudaMatchCpu) {
  // the backward passes of gather / index_select / scatter run index_add and scatter_add on CUDA
  const uint64_t seed = fresh_seed();
  const Tensor x = random_cpu({6, 9}, kFloat64, seed);
  const Tensor gi = random_index({6, 20}, 9, seed + 1);
  const Tensor si = random_index({13}, 6, seed + 2);
  auto run = [&](Device d) {
    Tensor xv = to(x, d);
    xv.requires_grad_(true);
    const Tensor y = add(sum(mul(gather(xv, 1, to(gi, d)), 1.5)), sum(index_select(xv, 0, to(si, d))));
    y.backward();
    return to(xv.grad(), Device::cpu());
  };
  EXPECT_CUDA_CLOSE(run(Device::cuda()), run(Device::cpu()), 1e-12, 1e-12, seed, "gradients");
}

FM_CUDA_PARITY_SUITE(CudaIndex);
