// float64 gradcheck and gradgradcheck for batch_norm and layer_norm: every input (x, weight,
// bias), training and eval, [N, C] / [N, C, L] / [N, C, H, W], non-contiguous inputs. The first
// derivative runs through the fused backward kernels, the second through the recorded formula.
#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;
using fm::testing::noncontig64;

namespace {

// batch_norm in training mode on in[0] with weight in[1] and bias in[2] (when present).
autograd::TestFn bn_train(bool with_stats = false) {
  return [with_stats](const tensor_list& in) {
    const int64_t C = in[0].size(1);
    Tensor rm, rv;
    if (with_stats) {
      rm = zeros({C}, {.dtype = kFloat64});
      rv = ones({C}, {.dtype = kFloat64});
    }
    return tensor_list{batch_norm(in[0], rm, rv, in.size() > 1 ? in[1] : Tensor(), in.size() > 2 ? in[2] : Tensor(),
                                  /*training=*/true, 0.1, 1e-5)};
  };
}

Tensor stats64(const Shape& s, double lo, double hi, uint64_t seed) { return leaf64(s, lo, hi, seed).detach(); }

}  // namespace

TEST(NormGradcheck, BatchNormTrainingShapes) {
  for (const Shape& s : {Shape{5, 3}, Shape{3, 2, 4}, Shape{2, 3, 2, 3}}) {
    SCOPED_TRACE(shape_str(s));
    const int64_t C = s[1];
    EXPECT_GRADCHECK(bn_train(true), (tensor_list{leaf64(s, -2, 2, 1), leaf64({C}, 0.5, 1.5, 2), leaf64({C}, -1, 1, 3)}));
    EXPECT_GRADCHECK(bn_train(), (tensor_list{leaf64(s, -2, 2, 4)}));  // affine = false
  }
}

TEST(NormGradcheck, BatchNormNonContiguous) {
  // [N, C] seen through a transpose, and [N, C, L] from a permuted buffer
  EXPECT_GRADCHECK(bn_train(), (tensor_list{noncontig64(6, 3, -1, 1, 5), leaf64({3}, 0.5, 1.5, 6), leaf64({3}, -1, 1, 7)}));
  auto fp = [](const tensor_list& in) {
    return tensor_list{batch_norm(permute(in[0], {2, 0, 1}), Tensor(), Tensor(), in[1], in[2], true, 0.1, 1e-5)};
  };
  EXPECT_GRADCHECK(fp, (tensor_list{leaf64({2, 4, 3}, -1, 1, 8), leaf64({2}, 0.5, 1.5, 9), leaf64({2}, -1, 1, 10)}));
}

TEST(NormGradcheck, BatchNormEval) {
  const Tensor rm = stats64({3}, -0.5, 0.5, 11), rv = stats64({3}, 0.5, 2, 12);
  auto fe = [rm, rv](const tensor_list& in) {
    return tensor_list{batch_norm(in[0], rm, rv, in[1], in[2], /*training=*/false, 0.1, 1e-5)};
  };
  EXPECT_GRADCHECK(fe, (tensor_list{leaf64({2, 3, 4}, -2, 2, 13), leaf64({3}, 0.5, 1.5, 14), leaf64({3}, -1, 1, 15)}));
  EXPECT_GRADCHECK(fe, (tensor_list{noncontig64(4, 3, -2, 2, 16), leaf64({3}, 0.5, 1.5, 17), leaf64({3}, -1, 1, 18)}));
  EXPECT_GRADGRADCHECK(fe, (tensor_list{leaf64({2, 3, 2}, -2, 2, 19), leaf64({3}, 0.5, 1.5, 20), leaf64({3}, -1, 1, 21)}));
}

TEST(NormGradcheck, BatchNormGradGrad) {
  EXPECT_GRADGRADCHECK(bn_train(), (tensor_list{leaf64({4, 3}, -2, 2, 22), leaf64({3}, 0.5, 1.5, 23), leaf64({3}, -1, 1, 24)}));
  EXPECT_GRADGRADCHECK(bn_train(true), (tensor_list{leaf64({2, 2, 3}, -2, 2, 25), leaf64({2}, 0.5, 1.5, 26), leaf64({2}, -1, 1, 27)}));
  EXPECT_GRADGRADCHECK(bn_train(), (tensor_list{leaf64({2, 2, 2, 2}, -2, 2, 28)}));
  EXPECT_GRADGRADCHECK(bn_train(), (tensor_list{noncontig64(5, 2, -1, 1, 29), leaf64({2}, 0.5, 1.5, 30), leaf64({2}, -1, 1, 31)}));
}

TEST(NormGradcheck, LayerNorm) {
  auto f1 = [](const tensor_list& in) { return tensor_list{layer_norm(in[0], {4}, in[1], in[2], 1e-5)}; };
  EXPECT_GRADCHECK(f1, (tensor_list{leaf64({3, 4}, -2, 2, 1), leaf64({4}, 0.5, 1.5, 2), leaf64({4}, -1, 1, 3)}));
  EXPECT_GRADCHECK(f1, (tensor_list{noncontig64(3, 4, -2, 2, 4), leaf64({4}, 0.5, 1.5, 5), leaf64({4}, -1, 1, 6)}));
  EXPECT_GRADGRADCHECK(f1, (tensor_list{leaf64({3, 4}, -2, 2, 7), leaf64({4}, 0.5, 1.5, 8), leaf64({4}, -1, 1, 9)}));
  auto f2 = [](const tensor_list& in) { return tensor_list{layer_norm(in[0], {3, 4}, in[1], in[2], 1e-5)}; };
  EXPECT_GRADCHECK(f2, (tensor_list{leaf64({2, 3, 4}, -2, 2, 10), leaf64({3, 4}, 0.5, 1.5, 11), leaf64({3, 4}, -1, 1, 12)}));
  EXPECT_GRADGRADCHECK(f2, (tensor_list{leaf64({2, 3, 4}, -2, 2, 13), leaf64({3, 4}, 0.5, 1.5, 14), leaf64({3, 4}, -1, 1, 15)}));
  auto f3 = [](const tensor_list& in) { return tensor_list{layer_norm(in[0], {5}, Tensor(), Tensor(), 1e-5)}; };
  EXPECT_GRADCHECK(f3, (tensor_list{leaf64({2, 3, 5}, -2, 2, 16)}));
  EXPECT_GRADGRADCHECK(f3, (tensor_list{leaf64({3, 5}, -2, 2, 17)}));
  // weight only / bias only, on a transposed 3-D input
  auto f4 = [](const tensor_list& in) { return tensor_list{layer_norm(transpose(in[0], 0, 2), {3}, in[1], Tensor(), 1e-3)}; };
  EXPECT_GRADCHECK(f4, (tensor_list{leaf64({3, 2, 4}, -2, 2, 18), leaf64({3}, 0.5, 1.5, 19)}));
  auto f5 = [](const tensor_list& in) { return tensor_list{layer_norm(in[0], {3}, Tensor(), in[1], 1e-3)}; };
  EXPECT_GRADGRADCHECK(f5, (tensor_list{leaf64({4, 3}, -2, 2, 20), leaf64({3}, -1, 1, 21)}));
}
