// Indexing ops against PyTorch 1.13 (data: make_golden.py), repeated indices included.
#include "golden/golden_support.h"

using namespace fm;
using fm::testing::golden::Case;

namespace {

const std::vector<Case>& index_cases() {
  static const std::vector<Case> cases = {
      GOLDEN("index_select", index_select(x[0], 0, x[1])),
      GOLDEN("index_select_d2", index_select(x[0], 2, x[1])),
      GOLDEN("index_select_t", index_select(t(x[0]), 0, x[1])),
      GOLDEN("gather", gather(x[0], 1, x[1])),
      GOLDEN("gather_d0", gather(x[0], 0, x[1])),
      GOLDEN("scatter", scatter(x[0], 1, x[1], x[2])),
      GOLDEN("scatter_src_larger", scatter(x[0], 1, x[1], x[2])),
      GOLDEN("scatter_d0", scatter(x[0], 0, x[1], x[2])),
      GOLDEN("scatter_value", scatter(x[0], 1, x[1], -2.5)),
      GOLDEN("scatter_add", scatter_add(x[0], 1, x[1], x[2])),
      GOLDEN("scatter_add_d0", scatter_add(x[0], 0, x[1], x[2])),
      GOLDEN("index_add", index_add(x[0], 0, x[1], x[2])),
      GOLDEN("index_add_alpha_d1", index_add(x[0], 1, x[1], x[2], -0.5)),
      // F.embedding(indices, weight): in0 holds the indices, in1 the weight
      GOLDEN("embedding", embedding(x[1], x[0])),
      GOLDEN("embedding_padding", embedding(x[1], x[0], 1)),
      GOLDEN("embedding_padding0", embedding(x[1], x[0], 0)),
      GOLDEN("index_select_0d", index_select(x[0], 1, x[1])),
      GOLDEN("index_select_int", index_select(x[0], 0, x[1])),
      GOLDEN("gather_smaller", gather(x[0], 1, x[1])),
      GOLDEN("gather_3d", gather(x[0], 2, x[1])),
      GOLDEN("scatter_add_smaller", scatter_add(x[0], 1, x[1], x[2])),
      GOLDEN("index_add_0d", index_add(x[0], 0, x[1], x[2])),
      GOLDEN("embedding_1d", embedding(x[1], x[0])),
      GOLDEN("embedding_0d", embedding(x[1], x[0])),
  };
  return cases;
}

}  // namespace

FM_GOLDEN_FAMILY(IndexGolden, "index", index_cases)
