// Views and conversions against PyTorch 1.13 (data: make_golden.py).
#include <limits>

#include "golden/golden_support.h"

using namespace fm;
using fm::testing::golden::Case;

namespace {

constexpr int64_t kEnd = std::numeric_limits<int64_t>::max();  // Python's open slice end

const std::vector<Case>& views_cases() {
  static const std::vector<Case> cases = {
      GOLDEN("view", view(x[0], {6, 4})),
      GOLDEN("reshape", reshape(x[0], {4, -1})),
      GOLDEN("reshape_t", reshape(transpose(x[0], 0, 2), {-1, 6})),
      GOLDEN("flatten", flatten(x[0], 1)),
      GOLDEN("permute", permute(x[0], {2, 0, 1})),
      GOLDEN("transpose", transpose(x[0], 0, 2)),
      GOLDEN("t", t(x[0])),
      GOLDEN("movedim", movedim(x[0], 0, -1)),
      GOLDEN("narrow", narrow(x[0], 2, 1, 2)),
      GOLDEN("slice_step", slice(x[0], 2, 1, kEnd, 2)),
      GOLDEN("slice_neg", slice(x[0], 1, -2, kEnd)),
      GOLDEN("select", select(x[0], 1, 2)),
      GOLDEN("select_neg", select(x[0], -1, -1)),
      GOLDEN("expand", expand(x[0], {2, 3, 4})),
      GOLDEN("expand_keep", expand(x[0], {2, -1, 4})),
      GOLDEN("squeeze", squeeze(x[0])),
      GOLDEN("squeeze_dim", squeeze(x[0], 2)),
      GOLDEN("unsqueeze", unsqueeze(x[0], 1)),
      GOLDEN("unsqueeze_neg", unsqueeze(x[0], -1)),
      GOLDEN("unfold", unfold(x[0], 1, 2, 1)),
      GOLDEN("unfold_step", unfold(x[0], -1, 3, 2)),
      GOLDEN("diagonal", diagonal(x[0])),
      GOLDEN("diagonal_offset", diagonal(x[0], 1, 1, 2)),
      GOLDEN("contiguous_t", contiguous(t(x[0]))),
      GOLDEN("clone", clone(x[0])),
      GOLDEN("to_f32", to(x[0], DType::Float32)),
      GOLDEN("view_chain_t", narrow(expand(unsqueeze(t(x[0]), 0), {2, 4, 3}), 1, 1, 2)),
      GOLDEN("expand_0d", expand(x[0], {2, 3})),
      GOLDEN("unsqueeze_0d", unsqueeze(x[0], 0)),
      GOLDEN("reshape_0d", reshape(x[0], {1, 1})),
      GOLDEN("select_1d", select(x[0], 0, 1)),
      GOLDEN("squeeze_not_one", squeeze(x[0], 0)),
      GOLDEN("narrow_neg_start", narrow(x[0], 1, -2, 2)),
      GOLDEN("slice_clamped", slice(x[0], 1, 1, 100)),
      GOLDEN("slice_empty", slice(x[0], 1, 3, 1)),
      GOLDEN("unfold_full", unfold(x[0], 1, 4, 1)),
      GOLDEN("diagonal_neg", diagonal(x[0], -1)),
      GOLDEN("movedim_neg", movedim(x[0], -1, 0)),
      GOLDEN("permute_t", permute(t(x[0]), {1, 0})),
      GOLDEN("to_f64_from_f32", to(x[0], DType::Float64)),
      GOLDEN("to_int", to(x[0], DType::Int64)),
      GOLDEN("to_bool", to(x[0], DType::Bool)),
      GOLDEN("bool_to_f32", to(x[0], DType::Float32)),
  };
  return cases;
}

}  // namespace

FM_GOLDEN_FAMILY(ViewsGolden, "views", views_cases)
