// CUDA reductions against the CPU kernel: sum/prod/max/min over one dim, several dims and all
// dims, keepdim, strided inputs, sizes that split into two passes, both variants (label gpu).
#include "cuda_parity.h"
#include "kernels/reduce.h"

using namespace fm;
using namespace fm::cuda_test;
using kernels::ReduceOp;

class CudaReduce : public CudaParity {};

TEST_P(CudaReduce, MatchesCpuOverDimsAndLayouts) {
  struct Case {
    Shape shape;
    std::vector<int64_t> dims;  // empty: all
  };
  const std::vector<Case> cases = {
      {{1}, {}},          {{7}, {}},           {{1023}, {0}},      {{4097}, {}},        {{1000003}, {}},
      {{33, 129}, {1}},   {{33, 129}, {0}},    {{4097, 3}, {0}},   {{3, 4097}, {1}},    {{5, 7, 9}, {0, 2}},
      {{5, 7, 9}, {1}},   {{2, 3, 4, 5}, {1, 3}}, {{64, 20000}, {1}}, {{20000, 64}, {0}}, {{6, 1, 7}, {1}},
  };
  for (DType dt : {kFloat32, kFloat64}) {
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod}) {
      for (const Case& c : cases) {
        for (int layout : {0, 1, 2}) {
          for (bool keepdim : {false, true}) {
            const uint64_t seed = fresh_seed();
            // products of many factors stay finite near 1
            const Tensor x = op == ReduceOp::Prod ? random_cpu(c.shape, dt, seed, 0.999, 1.001)
                                                  : random_cpu(c.shape, dt, seed);
            const std::vector<bool> mask = kernels::reduction_mask(c.dims, x.dim(), "test");
            const Tensor ref = kernels::reduce(op, x, mask, keepdim);
            const Tensor out = kernels::reduce(op, to_cuda(x, layout), mask, keepdim);
            ASSERT_EQ(out.sizes(), ref.sizes());
            // float32 sums accumulate in double on both sides and are rounded once; float64
            // sums differ by the order of additions (absolute error ~ eps * sum |x|)
            EXPECT_CUDA_CLOSE(out, ref, dt == kFloat32 ? 1e-6 : 1e-10, dt == kFloat32 ? 1e-5 : 1e-9, seed,
                                "reduce op " + std::to_string(static_cast<int>(op)) + " of " + shape_str(c.shape) +
                                    " over " + std::to_string(c.dims.size()) + " dims, " +
                                    std::string(dtype_name(dt)) + ", layout " + std::to_string(layout));
          }
        }
      }
    }
  }
}

TEST_P(CudaReduce, MaxPropagatesNaNAndEmptyReductionsGiveTheIdentity) {
  Tensor x = random_cpu({5, 300}, kFloat32, fresh_seed());
  std::vector<float> v = x.to_vector<float>();
  v[2 * 300 + 17] = NAN;
  x = from_vector(v, {5, 300});
  const std::vector<bool> last = {false, true};
  const std::vector<float> got = to(kernels::reduce(ReduceOp::Max, to_cuda(x, 0), last, false), Device::cpu())
                                     .to_vector<float>();
  for (int r = 0; r < 5; ++r) EXPECT_EQ(std::isnan(got[r]), r == 2) << "row " << r;
  const Tensor empty_rows = to(zeros({4, 0}), Device::cuda());
  const std::vector<float> sums = to(kernels::reduce(ReduceOp::Sum, empty_rows, last, false), Device::cpu())
                                      .to_vector<float>();
  for (float s : sums) EXPECT_EQ(s, 0.0f);
}

TEST_P(CudaReduce, MaxAndMinWithIndicesMatchCpu) {
  struct Case {
    Shape shape;
    int64_t dim;
  };
  const std::vector<Case> cases = {{{1}, 0},       {{7}, 0},         {{4099}, 0},      {{33, 65}, 1},
                                   {{33, 65}, 0},  {{5, 3, 300}, 2}, {{5, 300, 3}, 1}, {{2000, 10}, -1}};
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    for (const Case& c : cases) {
      for (int layout : {0, 1}) {
        const uint64_t seed = fresh_seed();
        // few distinct values, so ties are common and the first position must win
        Tensor x = random_cpu(c.shape, kFloat64, seed, -4, 4);
        x = to(to(x, kInt64), dt);
        for (bool keepdim : {false, true}) {
          for (kernels::ReduceOp op : {kernels::ReduceOp::Max, kernels::ReduceOp::Min}) {
            const std::string what = std::string(op == kernels::ReduceOp::Max ? "max " : "min ") + shape_str(c.shape) +
                                     " dim " + std::to_string(c.dim) + " " + std::string(dtype_name(dt)) + " layout " +
                                     std::to_string(layout);
            const auto [v, i] = kernels::reduce_with_index(op, x, c.dim, keepdim);
            const auto [vg, ig] = kernels::reduce_with_index(op, to_cuda(x, layout), c.dim, keepdim);
            EXPECT_EQ(vg.sizes(), v.sizes()) << what;
            EXPECT_EQ(to(vg, Device::cpu()).to_vector<double>(), v.to_vector<double>()) << what << ", seed " << seed;
            EXPECT_EQ(to(ig, Device::cpu()).to_vector<int64_t>(), i.to_vector<int64_t>()) << what << ", seed " << seed;
          }
        }
      }
    }
  }
}

TEST_P(CudaReduce, MaxWithIndicesTakesTheFirstNaN) {
  Tensor x = zeros({3, 200});
  x.data_ptr<float>()[17] = NAN;
  x.data_ptr<float>()[150] = NAN;
  x.data_ptr<float>()[200 + 199] = NAN;
  x.data_ptr<float>()[400 + 5] = 1;
  const auto [v, i] = kernels::reduce_with_index(kernels::ReduceOp::Max, to_cuda(x, 0), 1, false);
  EXPECT_EQ(to(i, Device::cpu()).to_vector<int64_t>(), (std::vector<int64_t>{17, 199, 5}));
  EXPECT_EQ(count_nonfinite(v), 2);
}

FM_CUDA_PARITY_SUITE(CudaReduce);
