// CUDA shape kernels (kernels/shape.h) against the CPU: cat (one launch and per input, mixed
// dtypes, legacy empty inputs, many inputs), flip, roll (any sign, repeated dims), constant
// padding and cropping, tril/triu, one_hot (given and inferred classes, out-of-range errors)
// and unfold_backward (overlapping windows, gaps, lines and tiles), strided inputs, every
// dtype the CPU kernel takes, both variants (label gpu). Data movement must be exact.
#include <random>

#include "cuda_parity.h"
#include "kernels/shape.h"

using namespace fm;
using namespace fm::cuda_test;

namespace {

const std::vector<DType> kAllTypes = {kFloat32, kFloat64, kInt64, kBool};

std::string what_of(const std::string& op, const Shape& s, DType dt, int layout) {
  return op + " " + shape_str(s) + " " + std::string(dtype_name(dt)) + " layout " + std::to_string(layout);
}

}  // namespace

class CudaShape : public CudaParity {};

TEST_P(CudaShape, CatEqualsCpu) {
  struct Case {
    std::vector<Shape> shapes;
    int64_t dim;
  };
  std::vector<Shape> many;
  for (int i = 0; i < 150; ++i) many.push_back({3, 1 + i % 4, 5});
  const std::vector<Case> cases = {
      {{{2, 3}, {5, 3}, {1, 3}}, 0},      {{{4, 1, 6}, {4, 7, 6}, {4, 0, 6}, {4, 2, 6}}, 1},
      {{{3, 33}, {3, 1}, {3, 64}}, 1},    {{{0}, {4, 5}, {0}, {2, 5}}, 0},  // legacy empty [0] skipped
      {{{7}, {0}, {9}}, 0},               {many, 1},
      {{{2, 0, 3}, {2, 0, 3}}, 0},
  };
  for (DType dt : kAllTypes)
    for (const Case& c : cases)
      for (int layout : {0, 1, 2}) {
        const uint64_t seed = fresh_seed();
        const std::string what = "cat of " + std::to_string(c.shapes.size()) + " at dim " + std::to_string(c.dim) +
                                 ", first " + shape_str(c.shapes[0]) + " " + std::string(dtype_name(dt)) +
                                 " layout " + std::to_string(layout);
        std::vector<Tensor> cpu, gpu;
        for (size_t i = 0; i < c.shapes.size(); ++i) {
          cpu.push_back(any_data(c.shapes[i], dt, seed + i));
          // contiguous inputs (one launch), or every other one strided (per-input launches)
          gpu.push_back(to_cuda(cpu.back(), i % 2 == 1 ? layout : 0));
        }
        const Tensor y = kernels::cat(cpu, c.dim, dt);
        const Tensor yg = kernels::cat(gpu, c.dim, dt);
        ASSERT_TRUE(yg.device().is_cuda()) << what;
        EXPECT_TRUE(exactly_equal(yg, y)) << what << ", seed " << seed;
      }
}

TEST_P(CudaShape, CatConvertsMixedDtypesLikeCpu) {
  const uint64_t seed = fresh_seed();
  const std::vector<Tensor> cpu = {any_data({2, 3}, kFloat32, seed), any_data({4, 3}, kInt64, seed + 1),
                                   any_data({1, 3}, kFloat64, seed + 2), any_data({2, 3}, kBool, seed + 3)};
  std::vector<Tensor> gpu;
  for (const Tensor& t : cpu) gpu.push_back(to_cuda(t, 0));
  EXPECT_TRUE(exactly_equal(kernels::cat(gpu, 0, kFloat64), kernels::cat(cpu, 0, kFloat64))) << "seed " << seed;
}

TEST_P(CudaShape, FlipEqualsCpu) {
  const std::vector<std::pair<Shape, std::vector<bool>>> cases = {
      {{13}, {true}},
      {{5, 7, 9}, {true, false, true}},
      {{5, 7, 9}, {false, true, true}},
      {{5, 7, 9}, {true, true, true}},
      {{4, 300}, {false, true}},
      {{3, 1, 70}, {true, true, false}},
      {{2, 0, 3}, {true, true, true}},
  };
  for (DType dt : kAllTypes)
    for (const auto& [shape, mask] : cases)
      for (int layout : {0, 1, 2}) {
        const uint64_t seed = fresh_seed();
        const Tensor x = any_data(shape, dt, seed);
        EXPECT_TRUE(exactly_equal(kernels::flip(to_cuda(x, layout), mask), kernels::flip(x, mask)))
            << what_of("flip", shape, dt, layout) << ", seed " << seed;
      }
}

TEST_P(CudaShape, RollEqualsCpu) {
  struct Case {
    Shape shape;
    std::vector<int64_t> shifts, dims;
  };
  const std::vector<Case> cases = {
      {{13}, {5}, {0}},          {{13}, {-30}, {0}},          {{5, 7, 9}, {2, -3}, {0, 2}},
      {{5, 7, 9}, {1, 2}, {1, 1}},  // one dim twice: the shifts add up
      {{4, 300}, {123}, {1}},    {{4, 300}, {0}, {1}},        {{6, 5}, {}, {}},
      {{3, 0, 4}, {2}, {2}},
  };
  for (DType dt : kAllTypes)
    for (const Case& c : cases)
      for (int layout : {0, 1, 2}) {
        const uint64_t seed = fresh_seed();
        const Tensor x = any_data(c.shape, dt, seed);
        EXPECT_TRUE(
            exactly_equal(kernels::roll(to_cuda(x, layout), c.shifts, c.dims), kernels::roll(x, c.shifts, c.dims)))
            << what_of("roll", c.shape, dt, layout) << ", seed " << seed;
      }
}

TEST_P(CudaShape, PadConstantEqualsCpu) {
  using Pads = std::vector<std::pair<int64_t, int64_t>>;
  const std::vector<std::pair<Shape, Pads>> cases = {
      {{7}, {{2, 3}}},
      {{5, 7, 9}, {{0, 0}, {1, 2}, {3, 0}}},
      {{5, 7, 9}, {{-1, 2}, {0, -3}, {-2, -2}}},  // crops
      {{4, 100}, {{0, 0}, {40, 1}}},
      {{3, 0}, {{1, 1}, {2, 2}}},   // an empty input padded: all fill
      {{3, 4}, {{-3, 0}, {1, 1}}},  // cropped to nothing along one dim
      {{}, {}},
  };
  for (DType dt : kAllTypes)
    for (const auto& [shape, pads] : cases)
      for (int layout : {0, 1, 2}) {
        const uint64_t seed = fresh_seed();
        const Tensor x = any_data(shape, dt, seed);
        const double value = dt == kBool ? 1.0 : -2.5;
        EXPECT_TRUE(exactly_equal(kernels::pad_constant(to_cuda(x, layout), pads, value),
                                  kernels::pad_constant(x, pads, value)))
            << what_of("pad", shape, dt, layout) << ", seed " << seed;
      }
}

TEST_P(CudaShape, TrilTriuEqualCpu) {
  const std::vector<Shape> shapes = {{7, 9}, {9, 7}, {3, 5, 4}, {2, 1, 33, 65}, {0, 4}};
  for (DType dt : kAllTypes)
    for (const Shape& shape : shapes)
      for (int64_t diagonal : {int64_t{0}, int64_t{-2}, int64_t{3}, int64_t{100}, int64_t{-100}})
        for (bool lower : {true, false})
          for (int layout : {0, 1, 2}) {
            const uint64_t seed = fresh_seed();
            const Tensor x = any_data(shape, dt, seed);
            EXPECT_TRUE(exactly_equal(kernels::tril_triu(to_cuda(x, layout), diagonal, lower),
                                      kernels::tril_triu(x, diagonal, lower)))
                << what_of(lower ? "tril" : "triu", shape, dt, layout) << " diagonal " << diagonal << ", seed "
                << seed;
          }
}

TEST_P(CudaShape, OneHotEqualsCpuAndRejectsOutOfRange) {
  for (const Shape& shape : {Shape{13}, Shape{3, 4}, Shape{0}, Shape{2000}})
    for (int64_t classes : {int64_t{-1}, int64_t{10}}) {
      if (shape_numel(shape) == 0 && classes < 0) continue;
      const uint64_t seed = fresh_seed();
      std::mt19937_64 rng(seed);
      std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)));
      for (int64_t& e : v) e = static_cast<int64_t>(rng() % 10);
      const Tensor idx = from_vector(v, shape);
      for (int layout : {0, 2}) {
        EXPECT_TRUE(exactly_equal(kernels::one_hot(to_cuda(idx, layout), classes), kernels::one_hot(idx, classes)))
            << "one_hot " << shape_str(shape) << " classes " << classes << " layout " << layout << ", seed " << seed;
      }
    }
  const Tensor bad = from_vector(std::vector<int64_t>{1, 4, -1}, {3});
  std::string cpu_msg, cuda_msg;
  try {
    kernels::one_hot(bad, 5);
  } catch (const Error& e) {
    cpu_msg = e.what();
  }
  try {
    kernels::one_hot(to_cuda(bad, 0), 5);
  } catch (const Error& e) {
    cuda_msg = e.what();
  }
  EXPECT_NE(cuda_msg.find("one_hot"), std::string::npos) << cuda_msg;
  // the same text but for the device in the description of the indices
  EXPECT_NE(cuda_msg.find("index -1 (at flat position 2"), std::string::npos) << cuda_msg;
  EXPECT_NE(cpu_msg.find("index -1 (at flat position 2"), std::string::npos) << cpu_msg;
  EXPECT_THROW_MSG(kernels::one_hot(to_cuda(from_vector(std::vector<int64_t>{}, {0}), 0), -1), "one_hot");
}

TEST_P(CudaShape, UnfoldBackwardMatchesCpu) {
  struct Case {
    Shape input;
    int64_t dim, size, step;
  };
  const std::vector<Case> cases = {
      {{100}, 0, 4, 1},        // short overlapping windows (v1)
      {{1000}, 0, 64, 16},     // long windows on a line (v2, a warp per line)
      {{3, 500}, 1, 40, 7},    // lines of odd length: warps straddle lines
      {{50, 6}, 0, 33, 1},     // long windows with inner > 1 (v2 tiles)
      {{70, 40}, 0, 32, 5},    // inner spanning two tiles
      {{2, 90, 3}, 1, 35, 50}, // gaps between windows
      {{5, 9, 3}, 1, 3, 2},    // short windows, inner > 1 (v1)
      {{6}, 0, 0, 2},          // empty windows: zeros
      {{}, 0, 1, 1},           // a 0-dim input
      {{4, 0}, 0, 2, 1},       // an empty input
  };
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : cases)
      for (int layout : {0, 1, 2}) {
        const uint64_t seed = fresh_seed();
        const int64_t nd = static_cast<int64_t>(c.input.size());
        const int64_t n = nd == 0 ? 1 : c.input[c.dim];
        Shape gs = nd == 0 ? Shape{1} : c.input;
        gs[c.dim] = (n - c.size) / c.step + 1;
        gs.push_back(c.size);
        const Tensor g = random_cpu(gs, dt, seed);
        const Tensor ref = kernels::unfold_backward(g, c.input, c.dim, c.size, c.step);
        const Tensor out = kernels::unfold_backward(to_cuda(g, layout), c.input, c.dim, c.size, c.step);
        // the same additions in the same (window) order
        EXPECT_CUDA_CLOSE(out, ref, rtol_for(dt), atol_for(dt), seed,
                          "unfold_backward " + shape_str(c.input) + " dim " + std::to_string(c.dim) + " size " +
                              std::to_string(c.size) + " step " + std::to_string(c.step) + " " +
                              std::string(dtype_name(dt)) + " layout " + std::to_string(layout));
      }
}

TEST_P(CudaShape, AutogradShapeOpsOnCudaMatchCpu) {
  // pad (constant and reflect: index_select / index_add), flip, roll, cat and unfold with their
  // gradients, all on the device
  const uint64_t seed = fresh_seed();
  const Tensor x = random_cpu({3, 40}, kFloat64, seed);
  const Tensor w = random_cpu({3, 47}, kFloat64, seed + 1);
  auto run = [&](Device d) {
    Tensor xv = to(x, d);
    xv.requires_grad_(true);
    const Tensor a = pad(xv, {2, 5}, "reflect");
    const Tensor b = roll(flip(pad(xv, {4, 3}, "constant", 1.5), {1}), 3, 1);
    const Tensor u = unfold(cat({a, b}, 0), 1, 8, 3);
    const Tensor y = add(sum(mul(cat({a, b}, 0), cat({to(w, d), to(w, d)}, 0))), sum(mul(u, u)));
    y.backward();
    return std::pair{to(y.detach(), Device::cpu()), to(xv.grad(), Device::cpu())};
  };
  const auto [y_cpu, g_cpu] = run(Device::cpu());
  const auto [y_gpu, g_gpu] = run(Device::cuda());
  EXPECT_CUDA_CLOSE(y_gpu, y_cpu, 1e-12, 1e-12, seed, "value");
  EXPECT_CUDA_CLOSE(g_gpu, g_cpu, 1e-12, 1e-12, seed, "gradient");
}

FM_CUDA_PARITY_SUITE(CudaShape);
