// Joining, splitting, flipping, rolling, padding, repeating, triangles and one_hot against
// PyTorch 1.13 (data: make_golden.py).
#include "golden/golden_support.h"

using namespace fm;
using fm::testing::golden::Case;

namespace {

const std::vector<Case>& shape_cases() {
  static const std::vector<Case> cases = {
      GOLDEN("cat_d0", cat({x[0], x[1]})),
      GOLDEN("cat_d1_three", cat({x[0], x[1], x[2]}, 1)),
      GOLDEN("cat_neg_t", cat({t(x[0]), x[1]}, -1)),
      GOLDEN("cat_mixed", cat({x[0], x[1]})),
      GOLDEN("cat_skip_empty", cat({x[0], x[1]})),
      GOLDEN("stack", stack({x[0], x[1]})),
      GOLDEN("stack_last", stack({x[0], x[1], x[2]}, -1)),
      GOLDEN("stack_t", stack({t(x[0]), x[1]}, 1)),
      GOLDEN("split_size", split(x[0], 2, 2)),
      GOLDEN("split_sizes", split(x[0], std::vector<int64_t>{1, 2}, 1)),
      GOLDEN("chunk", chunk(x[0], 3, -1)),
      GOLDEN("chunk_fewer", chunk(x[0], 4, 0)),
      GOLDEN("flip", flip(x[0], {0, 2})),
      GOLDEN("flip_t", flip(t(x[0]), {1})),
      GOLDEN("roll_flat", roll(x[0], {5})),
      GOLDEN("roll_dims", roll(x[0], {1, -3}, {0, 2})),
      GOLDEN("roll_dim", roll(x[0], -1, 1)),
      GOLDEN("pad_constant", pad(x[0], {1, 2}, "constant", 0.5)),
      GOLDEN("pad_constant_2d", pad(x[0], {2, 0, 1, 1})),
      GOLDEN("pad_constant_crop", pad(x[0], {-1, 1, 0, -1})),
      GOLDEN("pad_reflect", pad(x[0], {2, 3}, "reflect")),
      GOLDEN("pad_reflect_2d", pad(x[0], {1, 2, 2, 1}, "reflect")),
      GOLDEN("pad_replicate", pad(x[0], {2, 1}, "replicate")),
      GOLDEN("pad_replicate_2d", pad(x[0], {1, 3, 2, 0}, "replicate")),
      GOLDEN("repeat", repeat(x[0], {2, 1, 3})),
      GOLDEN("repeat_same_rank", repeat(x[0], {2, 3})),
      GOLDEN("repeat_t", repeat(t(x[0]), {1, 2})),
      GOLDEN("tril", tril(x[0])),
      GOLDEN("tril_neg", tril(x[0], -1)),
      GOLDEN("triu", triu(x[0])),
      GOLDEN("triu_pos", triu(x[0], 2)),
      GOLDEN("triu_t", triu(t(x[0]), 1)),
      GOLDEN("one_hot", one_hot(x[0])),
      GOLDEN("one_hot_classes", one_hot(x[0], 6)),
      GOLDEN("cat_int_float", cat({x[0], x[1]})),
      GOLDEN("cat_int", cat({x[0], x[1]}, 1)),
      GOLDEN("split_uneven", split(x[0], 3, 2)),
      GOLDEN("flip_neg", flip(x[0], {-1, -2})),
      GOLDEN("roll_big_shift", roll(x[0], {7, -9}, {1, 2})),
      GOLDEN("pad_reflect_t", pad(transpose(x[0], 1, 2), {1, 1}, "reflect")),
      GOLDEN("pad_reflect_3d", pad(x[0], {1, 1, 1, 0, 0, 1}, "reflect")),
      GOLDEN("pad_replicate_3d", pad(x[0], {1, 2, 0, 1, 1, 0}, "replicate")),
      GOLDEN("pad_constant_3d", pad(x[0], {1, 0, 0, 1, 1, 1}, "constant", -1.0)),
      GOLDEN("repeat_ones", repeat(x[0], {1, 1})),
      GOLDEN("tril_big", tril(x[0], 5)),
      GOLDEN("triu_neg_big", triu(x[0], -5)),
      GOLDEN("tril_int", tril(x[0])),
  };
  return cases;
}

}  // namespace

FM_GOLDEN_FAMILY(ShapeGolden, "shape", shape_cases)
