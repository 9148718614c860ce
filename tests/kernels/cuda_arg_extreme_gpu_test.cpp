// CUDA max/min with their positions (kernels/cuda/arg_extreme.cu, behind kernels::reduce_with_index)
// against the CPU's arg_extreme: every dim of odd shapes, rows short and long (v2's block per row
// from 64 values), few distinct values so that ties are common and the first position must win,
// float32, float64 and int64, strided inputs, and the first NaN winning (label gpu).
#include "cuda_parity.h"
#include "kernels/reduce.h"

using namespace fm;
using namespace fm::cuda_test;

class CudaArgExtreme : public CudaParity {};

TEST_P(CudaArgExtreme, MaxAndMinWithIndicesMatchCpu) {
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

TEST_P(CudaArgExtreme, MaxWithIndicesTakesTheFirstNaN) {
  Tensor x = zeros({3, 200});
  x.data_ptr<float>()[17] = NAN;
  x.data_ptr<float>()[150] = NAN;
  x.data_ptr<float>()[200 + 199] = NAN;
  x.data_ptr<float>()[400 + 5] = 1;
  const auto [v, i] = kernels::reduce_with_index(kernels::ReduceOp::Max, to_cuda(x, 0), 1, false);
  EXPECT_EQ(to(i, Device::cpu()).to_vector<int64_t>(), (std::vector<int64_t>{17, 199, 5}));
  EXPECT_EQ(count_nonfinite(v), 2);
}

FM_CUDA_PARITY_SUITE(CudaArgExtreme);
