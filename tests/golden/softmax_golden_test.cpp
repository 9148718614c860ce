// softmax and log_softmax against PyTorch 1.13 (data: make_golden.py).
#include "golden/golden_support.h"

using namespace fm;
using fm::testing::golden::Case;

namespace {

const std::vector<Case>& softmax_cases() {
  static const std::vector<Case> cases = {
      GOLDEN("softmax_d0", softmax(x[0], 0)),
      GOLDEN("log_softmax_d0", log_softmax(x[0], 0)),
      GOLDEN("softmax_d1", softmax(x[0], 1)),
      GOLDEN("log_softmax_d1", log_softmax(x[0], 1)),
      GOLDEN("softmax_dm1", softmax(x[0], -1)),
      GOLDEN("log_softmax_dm1", log_softmax(x[0], -1)),
      GOLDEN("softmax_t", softmax(t(x[0]), -1)),
      GOLDEN("log_softmax_t", log_softmax(t(x[0]), 0)),
      GOLDEN("softmax_large", softmax(x[0], -1)),
      GOLDEN("log_softmax_large", log_softmax(x[0], -1)),
      GOLDEN("softmax_neg_inf", softmax(x[0], -1)),
      GOLDEN("log_softmax_neg_inf", log_softmax(x[0], -1)),
      GOLDEN("softmax_size_one", softmax(x[0], 1)),
      GOLDEN("softmax_1d", softmax(x[0], 0)),
      GOLDEN("softmax_f32", softmax(x[0], -1)),
      GOLDEN("log_softmax_f32", log_softmax(x[0], 1)),
  };
  return cases;
}

}  // namespace

FM_GOLDEN_FAMILY(SoftmaxGolden, "softmax", softmax_cases)
