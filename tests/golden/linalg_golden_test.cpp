// Matrix products against PyTorch 1.13 (data: make_golden.py).
#include "golden/golden_support.h"

using namespace fm;
using fm::testing::golden::Case;

namespace {

const std::vector<Case>& linalg_cases() {
  static const std::vector<Case> cases = {
      GOLDEN("mm", mm(x[0], x[1])),
      GOLDEN("mm_t", mm(t(x[0]), t(x[1]))),
      GOLDEN("mm_f32", mm(x[0], x[1])),
      GOLDEN("bmm", bmm(x[0], x[1])),
      GOLDEN("bmm_t", bmm(x[0], transpose(x[1], 1, 2))),
      GOLDEN("matmul_1d_1d", matmul(x[0], x[1])),
      GOLDEN("matmul_1d_2d", matmul(x[0], x[1])),
      GOLDEN("matmul_2d_1d", matmul(x[0], x[1])),
      GOLDEN("matmul_3d_2d", matmul(x[0], x[1])),
      GOLDEN("matmul_2d_3d", matmul(x[0], x[1])),
      GOLDEN("matmul_bcast", matmul(x[0], x[1])),
      GOLDEN("matmul_1d_3d", matmul(x[0], x[1])),
      GOLDEN("matmul_3d_1d", matmul(x[0], x[1])),
      GOLDEN("matmul_f32", matmul(x[0], x[1])),
      GOLDEN("addmm", addmm(x[0], x[1], x[2])),
      GOLDEN("addmm_bias_row", addmm(x[0], x[1], x[2], 0.5, 2.0)),
      GOLDEN("linear", linear(x[0], x[1], x[2])),
      GOLDEN("linear_nobias", linear(x[0], x[1])),
      GOLDEN("linear_3d", linear(x[0], x[1], x[2])),
      GOLDEN("linear_f32", linear(x[0], x[1], x[2])),
      GOLDEN("dot", dot(x[0], x[1])),
      GOLDEN("outer", outer(x[0], x[1])),
      GOLDEN("mm_empty_k", mm(x[0], x[1])),
      GOLDEN("bmm_t_first", bmm(transpose(x[0], 1, 2), x[1])),
      GOLDEN("matmul_bcast_both", matmul(x[0], x[1])),
      GOLDEN("matmul_t", matmul(t(x[0]), t(x[1]))),
      GOLDEN("addmm_bias_col", addmm(x[0], x[1], x[2])),
      GOLDEN("addmm_bias_0d", addmm(x[0], x[1], x[2], -1.0)),
      GOLDEN("linear_tied_t", linear(x[0], t(x[1]))),
      GOLDEN("dot_strided", dot(slice(x[0], 0, 0, 6, 2), slice(x[1], 0, 1, 6, 2))),
      GOLDEN("outer_strided", outer(slice(x[0], 0, 0, 6, 2), x[1])),
  };
  return cases;
}

}  // namespace

FM_GOLDEN_FAMILY(LinalgGolden, "linalg", linalg_cases)
