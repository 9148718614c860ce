// float64 gradcheck of the fused scaled_dot_product_attention (kernels/attention.h through
// autograd/attention.h): plain, causal, key padding, both, L != S, Ev != E, several batch dims,
// non-contiguous inputs, and gradgradcheck (the composed create_graph path).
#include "autograd/attention.h"
#include "support/test_support.h"

using namespace fm;
using autograd::tensor_list;
using fm::testing::leaf64;

namespace {

Tensor bools(const std::vector<int64_t>& v, const Shape& shape) { return ne(from_vector(v, shape), 0.0); }

autograd::TestFn sdpa(bool causal, Tensor kpm = Tensor(), std::optional<double> scale = std::nullopt) {
  return [=](const tensor_list& in) {
    return tensor_list{scaled_dot_product_attention(in[0], in[1], in[2],
                                                    {.causal = causal, .key_padding_mask = kpm, .scale = scale})};
  };
}

tensor_list qkv(Shape batch, int64_t L, int64_t S, int64_t E, int64_t Ev, uint64_t seed) {
  auto with = [&](int64_t r, int64_t c) {
    Shape s = batch;
    s.insert(s.end(), {r, c});
    return s;
  };
  return {leaf64(with(L, E), -1, 1, seed), leaf64(with(S, E), -1, 1, seed + 1), leaf64(with(S, Ev), -1, 1, seed + 2)};
}

}  // namespace

TEST(SdpaGradcheck, Plain) { EXPECT_GRADCHECK(sdpa(false), qkv({2}, 3, 4, 3, 2, 1)); }
TEST(SdpaGradcheck, Causal) {
  EXPECT_GRADCHECK(sdpa(true), qkv({2}, 4, 4, 3, 3, 2));
  EXPECT_GRADCHECK(sdpa(true), qkv({1}, 3, 5, 2, 4, 3));  // L < S
  EXPECT_GRADCHECK(sdpa(true, Tensor(), 0.7), qkv({2}, 5, 3, 3, 2, 4));  // L > S, explicit scale
}
TEST(SdpaGradcheck, KeyPaddingAndCausal) {
  const Tensor kpm = bools({0, 0, 1, 0, 0, 0, 1, 0, 1, 0}, {2, 5});
  EXPECT_GRADCHECK(sdpa(false, kpm), qkv({2}, 3, 5, 3, 2, 5));
  EXPECT_GRADCHECK(sdpa(true, kpm), qkv({2}, 5, 5, 2, 3, 6));
}
TEST(SdpaGradcheck, BatchDimsBroadcastMaskAndNonContiguous) {
  // [N, H, L, E] with a key padding mask [N, 1, S] broadcast over the heads
  const Tensor kpm = reshape(bools({0, 1, 0, 0, 0, 0, 1, 0}, {2, 4}), {2, 1, 4});
  EXPECT_GRADCHECK(sdpa(false, kpm), qkv({2, 2}, 3, 4, 2, 3, 7));
  auto fn = [kpm](const tensor_list& in) {  // transposed views of the inputs
    return tensor_list{scaled_dot_product_attention(transpose(in[0], -1, -2), transpose(in[1], -1, -2),
                                                    transpose(in[2], -1, -2), {.key_padding_mask = kpm})};
  };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 2, 3, 3}, -1, 1, 8), leaf64({2, 2, 3, 4}, -1, 1, 9),
                                    leaf64({2, 2, 2, 4}, -1, 1, 10)}));
}
TEST(SdpaGradcheck, SecondDerivatives) {
  EXPECT_GRADGRADCHECK(sdpa(true), qkv({1}, 3, 3, 2, 2, 11));
}
