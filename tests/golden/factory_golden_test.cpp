// Factories against PyTorch 1.13 (data: make_golden.py): no inputs, one output each.
#include "golden/golden_support.h"

using namespace fm;
using fm::testing::golden::Case;

namespace {

constexpr Options f32{.dtype = DType::Float32}, f64{.dtype = DType::Float64};

const std::vector<Case>& factory_cases() {
  static const std::vector<Case> cases = {
      GOLDEN("arange_int", arange(5)),
      GOLDEN("arange_f64", arange(0, 1, 0.1, f64)),
      GOLDEN("arange_neg_step", arange(2, -1, -0.5, f64)),
      // PyTorch infers float32 from the float arguments; fermata's default dtype is int64
      GOLDEN("arange_f32", arange(1, 2.5, 0.25, f32)),
      GOLDEN("linspace_f64", linspace(0, 1, 7, f64)),
      GOLDEN("linspace_f32", linspace(-1, 3, 10)),
      GOLDEN("linspace_one", linspace(2, 5, 1, f64)),
      GOLDEN("eye", eye(3, 4)),
      GOLDEN("eye_square", eye(3, -1, f64)),
      GOLDEN("full", full({2, 3}, -1.5, f64)),
  };
  return cases;
}

}  // namespace

FM_GOLDEN_FAMILY(FactoryGolden, "factory", factory_cases)
