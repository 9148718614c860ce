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

FM_CUDA_PARITY_SUITE(CudaReduce);
