// Reductions against PyTorch 1.13 (data: make_golden.py), ties and zeros included.
#include <cmath>

#include "golden/golden_support.h"

using namespace fm;
using fm::testing::golden::both;
using fm::testing::golden::Case;

namespace {

const std::vector<Case>& reduce_cases() {
  static const std::vector<Case> cases = {
      GOLDEN("sum_all", sum(x[0])),
      GOLDEN("sum_dim", sum(x[0], {1})),
      GOLDEN("sum_dims_keepdim", sum(x[0], {0, 2}, true)),
      GOLDEN("sum_neg_dim_t", sum(t(x[0]), {-1})),
      GOLDEN("sum_f32", sum(x[0], {-1})),
      GOLDEN("mean_all", mean(x[0])),
      GOLDEN("mean_dims", mean(x[0], {0, 2})),
      GOLDEN("mean_keepdim", mean(x[0], {1}, true)),
      GOLDEN("mean_f32", mean(x[0], {0})),
      GOLDEN("prod_all", prod(x[0])),
      GOLDEN("prod_dim", prod(x[0], {1})),
      GOLDEN("prod_with_zeros", prod(x[0], {1})),
      GOLDEN("prod_all_one_zero", prod(x[0])),
      GOLDEN("max_all", max(x[0])),
      GOLDEN("max_all_ties", max(x[0])),
      GOLDEN("min_all", min(x[0])),
      GOLDEN("max_dim", both(max(x[0], 1))),
      GOLDEN("max_dim_keepdim", both(max(x[0], -1, true))),
      GOLDEN("min_dim", both(min(x[0], 0))),
      GOLDEN("min_dim_t", both(min(t(x[0]), 1))),
      GOLDEN("max_dim_ties", both(max(x[0], 1))),
      GOLDEN("amax", amax(x[0], {1})),
      GOLDEN("amax_dims_keepdim", amax(x[0], {0, 2}, true)),
      GOLDEN("amin", amin(x[0], {-1})),
      GOLDEN("amax_ties", amax(x[0], {1})),
      GOLDEN("amin_all_ties", amin(x[0])),
      GOLDEN("argmax_all", argmax(x[0])),
      GOLDEN("argmin_all", argmin(x[0])),
      GOLDEN("argmax_dim", argmax(x[0], 1)),
      GOLDEN("argmin_dim_keepdim", argmin(x[0], 2, true)),
      GOLDEN("argmax_ties", argmax(x[0], 1)),
      GOLDEN("argmin_ties", argmin(x[0], 1)),
      GOLDEN("argmax_all_ties", argmax(x[0])),
      GOLDEN("var_all", var(x[0])),
      GOLDEN("var_dim", var(x[0], {1})),
      GOLDEN("var_biased_keepdim", var(x[0], {0, 2}, 0, true)),
      GOLDEN("std_all", fm::std(x[0])),
      GOLDEN("std_dim", fm::std(x[0], {-1})),
      GOLDEN("std_biased", fm::std(x[0], {0}, 0)),
      GOLDEN("std_f32", fm::std(x[0], {-1})),
      GOLDEN("logsumexp", logsumexp(x[0], {1})),
      GOLDEN("logsumexp_dims_keepdim", logsumexp(x[0], {0, 2}, true)),
      GOLDEN("logsumexp_large", logsumexp(x[0], {-1})),
      GOLDEN("norm_p2", norm(x[0], 2)),
      GOLDEN("norm_p2_dim", norm(x[0], 2, {1})),
      GOLDEN("norm_p1", norm(x[0], 1)),
      GOLDEN("norm_p1_dim", norm(x[0], 1, {1})),
      GOLDEN("norm_p3", norm(x[0], 3)),
      GOLDEN("norm_p3_dim", norm(x[0], 3, {1})),
      GOLDEN("norm_pinf", norm(x[0], INFINITY)),
      GOLDEN("norm_pinf_dim", norm(x[0], INFINITY, {1})),
      GOLDEN("norm_p2_keepdim_t", norm(t(x[0]), 2, {0}, true)),
      GOLDEN("norm_p2_zero_row", norm(x[0], 2, {1})),
      GOLDEN("norm_pinf_ties", norm(x[0], INFINITY, {1})),
      GOLDEN("norm_p05", norm(x[0], 0.5, {1})),
      GOLDEN("norm_p1_at_zero", norm(x[0], 1)),
      GOLDEN("norm_p3_at_zero", norm(x[0], 3)),
      GOLDEN("norm_pinf_zero_row", norm(x[0], INFINITY, {1})),
      GOLDEN("var_correction2", var(x[0], {1}, 2)),
      GOLDEN("std_all_dims_keepdim", fm::std(x[0], {0, 1, 2}, 1, true)),
      GOLDEN("amax_all", amax(x[0])),
      GOLDEN("sum_dup_neg_dims", sum(x[0], {-1, 0})),
      GOLDEN("sum_empty", sum(x[0], {0})),
      GOLDEN("mean_empty", mean(x[0], {0})),
      GOLDEN("prod_empty", prod(x[0], {0})),
      GOLDEN("sum_int", sum(x[0], {1})),
      GOLDEN("sum_bool", sum(x[0])),
      GOLDEN("max_int", both(max(x[0], 1))),
      GOLDEN("argmax_1d", argmax(x[0])),
      GOLDEN("amax_nan", amax(x[0], {1})),
      GOLDEN("max_all_nan", max(x[0])),
      GOLDEN("max_dim_nan", both(max(x[0], 1))),
      GOLDEN("min_dim_nan", both(min(x[0], 1))),
      GOLDEN("argmax_nan", argmax(x[0], 1)),
      GOLDEN("argmin_all_nan", argmin(x[0])),
  };
  return cases;
}

}  // namespace

FM_GOLDEN_FAMILY(ReduceGolden, "reduce", reduce_cases)
