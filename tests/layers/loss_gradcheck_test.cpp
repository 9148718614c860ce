// float64 gradcheck (and gradgradcheck) for every loss, in every differentiable input, with
// non-contiguous inputs where the loss takes them.
#include "layers/loss.h"
#include "support/test_support.h"

using namespace fm;
using namespace fm::nn;
using autograd::tensor_list;
using fm::testing::leaf64;
using fm::testing::noncontig64;

namespace {
Tensor idx(const std::vector<int64_t>& v, const Shape& s) { return from_vector(v, s); }
}  // namespace

TEST(LossGradcheck, CrossEntropyClassIndices) {
  const Tensor t = idx({0, 4, 2, 1}, {4});
  const Tensor w = leaf64({5}, 0.2, 2, 99).detach();
  for (const char* red : {"mean", "sum", "none"}) {
    SCOPED_TRACE(red);
    std::string r = red;
    auto plain = [t, r](const tensor_list& in) { return tensor_list{cross_entropy(in[0], t, {.reduction = r})}; };
    EXPECT_GRADCHECK(plain, (tensor_list{leaf64({4, 5}, -2, 2, 1)}));
    EXPECT_GRADCHECK(plain, (tensor_list{noncontig64(4, 5, -2, 2, 2)}));
    auto full_opts = [t, w, r](const tensor_list& in) {
      return tensor_list{cross_entropy(in[0], t, {.weight = w, .ignore_index = 2, .reduction = r, .label_smoothing = 0.2})};
    };
    EXPECT_GRADCHECK(full_opts, (tensor_list{leaf64({4, 5}, -2, 2, 3)}));
  }
}

TEST(LossGradcheck, CrossEntropySpatialAndUnbatched) {
  const Tensor t = idx({0, 2, 1, 1, 2, 0}, {2, 3});
  auto fs = [t](const tensor_list& in) {
    return tensor_list{cross_entropy(in[0], t, {.ignore_index = 1, .label_smoothing = 0.1})};
  };
  EXPECT_GRADCHECK(fs, (tensor_list{leaf64({2, 3, 3}, -2, 2, 4)}));  // [N, C, d1]
  const Tensor t0 = idx({2}, {});
  auto fu = [t0](const tensor_list& in) { return tensor_list{cross_entropy(in[0], t0, {.reduction = "none"})}; };
  EXPECT_GRADCHECK(fu, (tensor_list{leaf64({4}, -2, 2, 5)}));
}

TEST(LossGradcheck, CrossEntropyProbabilities) {
  const Tensor w = leaf64({3}, 0.2, 2, 98).detach();
  auto fp = [w](const tensor_list& in) {
    return tensor_list{cross_entropy(in[0], in[1], {.weight = w, .label_smoothing = 0.3})};
  };
  EXPECT_GRADCHECK(fp, (tensor_list{leaf64({4, 3}, -2, 2, 6), leaf64({4, 3}, 0, 1, 7)}));
  auto fn = [](const tensor_list& in) { return tensor_list{cross_entropy(in[0], in[1], {.reduction = "none"})}; };
  EXPECT_GRADCHECK(fn, (tensor_list{leaf64({2, 3, 2}, -2, 2, 8), leaf64({2, 3, 2}, 0, 1, 9)}));
}

TEST(LossGradcheck, CrossEntropyGradGrad) {
  const Tensor t = idx({1, 0, 2}, {3});
  const Tensor w = leaf64({3}, 0.2, 2, 97).detach();
  auto f = [t, w](const tensor_list& in) {
    return tensor_list{cross_entropy(in[0], t, {.weight = w, .label_smoothing = 0.1})};
  };
  EXPECT_GRADGRADCHECK(f, (tensor_list{leaf64({3, 3}, -2, 2, 10)}));
  EXPECT_GRADGRADCHECK(f, (tensor_list{noncontig64(3, 3, -2, 2, 11)}));
  auto fp = [](const tensor_list& in) { return tensor_list{cross_entropy(in[0], in[1])}; };
  EXPECT_GRADGRADCHECK(fp, (tensor_list{leaf64({2, 3}, -2, 2, 12), leaf64({2, 3}, 0, 1, 13)}));
}

TEST(LossGradcheck, NllLoss) {
  const Tensor t = idx({3, 0, 1}, {3});
  const Tensor w = leaf64({4}, 0.2, 2, 96).detach();
  auto f = [t, w](const tensor_list& in) { return tensor_list{nll_loss(in[0], t, {.weight = w, .ignore_index = 0})}; };
  EXPECT_GRADCHECK(f, (tensor_list{leaf64({3, 4}, -3, 0, 14)}));
  EXPECT_GRADCHECK(f, (tensor_list{noncontig64(3, 4, -3, 0, 15)}));
  EXPECT_GRADGRADCHECK(f, (tensor_list{leaf64({3, 4}, -3, 0, 16)}));
}

TEST(LossGradcheck, BinaryCrossEntropy) {
  const Tensor w = leaf64({3}, 0.2, 2, 95).detach();
  for (const char* red : {"mean", "sum", "none"}) {
    std::string r = red;
    auto f = [w, r](const tensor_list& in) { return tensor_list{binary_cross_entropy(in[0], in[1], w, r)}; };
    EXPECT_GRADCHECK(f, (tensor_list{leaf64({2, 3}, 0.05, 0.95, 17), leaf64({2, 3}, 0, 1, 18)}));
  }
  auto f = [](const tensor_list& in) { return tensor_list{binary_cross_entropy(in[0], in[1])}; };
  EXPECT_GRADCHECK(f, (tensor_list{noncontig64(3, 2, 0.05, 0.95, 19), noncontig64(3, 2, 0, 1, 20)}));
  EXPECT_GRADGRADCHECK(f, (tensor_list{leaf64({2, 3}, 0.1, 0.9, 21), leaf64({2, 3}, 0, 1, 22)}));
}

TEST(LossGradcheck, BinaryCrossEntropyWithLogits) {
  const Tensor pw = leaf64({3}, 0.5, 3, 94).detach(), w = leaf64({2, 1}, 0.2, 2, 93).detach();
  for (const char* red : {"mean", "sum", "none"}) {
    std::string r = red;
    auto f = [pw, w, r](const tensor_list& in) {
      return tensor_list{binary_cross_entropy_with_logits(in[0], in[1], {.weight = w, .pos_weight = pw, .reduction = r})};
    };
    EXPECT_GRADCHECK(f, (tensor_list{leaf64({2, 3}, -4, 4, 23), leaf64({2, 3}, 0, 1, 24)}));
  }
  auto f = [](const tensor_list& in) { return tensor_list{binary_cross_entropy_with_logits(in[0], in[1])}; };
  EXPECT_GRADCHECK(f, (tensor_list{noncontig64(3, 2, -30, 30, 25), noncontig64(3, 2, 0, 1, 26)}));
  EXPECT_GRADGRADCHECK(f, (tensor_list{leaf64({2, 3}, -4, 4, 27), leaf64({2, 3}, 0, 1, 28)}));
  auto fp = [pw](const tensor_list& in) {
    return tensor_list{binary_cross_entropy_with_logits(in[0], in[1], {.pos_weight = pw})};
  };
  EXPECT_GRADGRADCHECK(fp, (tensor_list{leaf64({2, 3}, -4, 4, 29), leaf64({2, 3}, 0, 1, 30)}));
}

TEST(LossGradcheck, RegressionLosses) {
  for (const char* red : {"mean", "sum", "none"}) {
    std::string r = red;
    auto mse = [r](const tensor_list& in) { return tensor_list{mse_loss(in[0], in[1], r)}; };
    auto l1 = [r](const tensor_list& in) { return tensor_list{l1_loss(in[0], in[1], r)}; };
    auto sl1 = [r](const tensor_list& in) { return tensor_list{smooth_l1_loss(in[0], in[1], r, 0.5)}; };
    EXPECT_GRADCHECK(mse, (tensor_list{leaf64({2, 3}, -1, 1, 31), leaf64({2, 3}, -1, 1, 32)}));
    EXPECT_GRADCHECK(mse, (tensor_list{noncontig64(3, 2, -1, 1, 33), leaf64({3, 2}, -1, 1, 34)}));
    // |input - target| well away from 0 (and from beta): inputs in [1, 2], targets in [-1, 0]
    EXPECT_GRADCHECK(l1, (tensor_list{leaf64({2, 3}, 1, 2, 35), noncontig64(2, 3, -1, 0, 36)}));
    EXPECT_GRADCHECK(sl1, (tensor_list{leaf64({2, 3}, 1, 2, 37), leaf64({2, 3}, -1, 0, 38)}));
    EXPECT_GRADCHECK(sl1, (tensor_list{leaf64({2, 3}, 0, 0.2, 39), leaf64({2, 3}, 0, 0.2, 40)}));
  }
  auto sl1 = [](const tensor_list& in) { return tensor_list{smooth_l1_loss(in[0], in[1], "mean", 1.0)}; };
  EXPECT_GRADGRADCHECK(sl1, (tensor_list{leaf64({2, 3}, 0, 0.4, 41), leaf64({2, 3}, 0, 0.4, 42)}));
  auto mse = [](const tensor_list& in) { return tensor_list{mse_loss(in[0], in[1])}; };
  EXPECT_GRADGRADCHECK(mse, (tensor_list{leaf64({2, 3}, -1, 1, 43), leaf64({2, 3}, -1, 1, 44)}));
}

TEST(LossGradcheck, KlDiv) {
  for (const char* red : {"mean", "sum", "none", "batchmean"}) {
    std::string r = red;
    auto f = [r](const tensor_list& in) { return tensor_list{kl_div(in[0], in[1], r)}; };
    EXPECT_GRADCHECK(f, (tensor_list{leaf64({3, 4}, -3, 0, 45), leaf64({3, 4}, 0.1, 1, 46)}));
    auto fl = [r](const tensor_list& in) { return tensor_list{kl_div(in[0], in[1], r, true)}; };
    EXPECT_GRADCHECK(fl, (tensor_list{noncontig64(3, 4, -3, 0, 47), leaf64({3, 4}, -3, 0, 48)}));
  }
  auto f = [](const tensor_list& in) { return tensor_list{kl_div(in[0], in[1], "batchmean")}; };
  EXPECT_GRADGRADCHECK(f, (tensor_list{leaf64({3, 4}, -3, 0, 49), leaf64({3, 4}, 0.1, 1, 50)}));
}

TEST(LossGradcheck, CosineSimilarity) {
  auto f = [](const tensor_list& in) { return tensor_list{cosine_similarity(in[0], in[1], 1)}; };
  EXPECT_GRADCHECK(f, (tensor_list{leaf64({3, 4}, -1, 1, 51), leaf64({3, 4}, -1, 1, 52)}));
  EXPECT_GRADCHECK(f, (tensor_list{noncontig64(3, 4, -1, 1, 53), leaf64({1, 4}, -1, 1, 54)}));  // broadcast
  auto fd = [](const tensor_list& in) { return tensor_list{cosine_similarity(in[0], in[1], -1)}; };
  EXPECT_GRADCHECK(fd, (tensor_list{leaf64({2, 3, 4}, -1, 1, 55), leaf64({2, 3, 4}, -1, 1, 56)}));
  EXPECT_GRADGRADCHECK(f, (tensor_list{leaf64({2, 3}, -1, 1, 57), leaf64({2, 3}, -1, 1, 58)}));
}

TEST(LossGradcheck, NtXent) {
  auto f = [](const tensor_list& in) { return tensor_list{nt_xent_loss(in[0], in[1], 0.5)}; };
  EXPECT_GRADCHECK(f, (tensor_list{leaf64({3, 4}, -1, 1, 59), leaf64({3, 4}, -1, 1, 60)}));
  EXPECT_GRADCHECK(f, (tensor_list{noncontig64(3, 4, -1, 1, 61), noncontig64(3, 4, -1, 1, 62)}));
  EXPECT_GRADGRADCHECK(f, (tensor_list{leaf64({2, 3}, -1, 1, 63), leaf64({2, 3}, -1, 1, 64)}));
}

TEST(LossGradcheck, NtXentFusedTemperaturesAndOnePair) {
  for (double tau : {0.1, 0.5}) {
    SCOPED_TRACE(tau);
    auto f = [tau](const tensor_list& in) { return tensor_list{nt_xent_loss(in[0], in[1], tau)}; };
    EXPECT_GRADCHECK(f, (tensor_list{leaf64({1, 3}, -1, 1, 71), leaf64({1, 3}, -1, 1, 72)}));  // N = 1
    EXPECT_GRADCHECK(f, (tensor_list{leaf64({4, 5}, -1, 1, 73), leaf64({4, 5}, -1, 1, 74)}));
    EXPECT_GRADCHECK(f, (tensor_list{noncontig64(3, 2, -1, 1, 75), leaf64({3, 2}, -1, 1, 76)}));
    EXPECT_GRADGRADCHECK(f, (tensor_list{leaf64({1, 2}, -1, 1, 77), leaf64({1, 2}, -1, 1, 78)}));
  }
}

TEST(LossGradcheck, GaussianKl) {
  for (const char* red : {"mean", "sum", "none"}) {
    std::string r = red;
    auto f = [r](const tensor_list& in) { return tensor_list{gaussian_kl(in[0], in[1], r)}; };
    EXPECT_GRADCHECK(f, (tensor_list{leaf64({3, 4}, -1, 1, 65), leaf64({3, 4}, -1, 1, 66)}));
    EXPECT_GRADCHECK(f, (tensor_list{noncontig64(3, 4, -1, 1, 67), noncontig64(3, 4, -1, 1, 68)}));
  }
  auto f = [](const tensor_list& in) { return tensor_list{gaussian_kl(in[0], in[1])}; };
  EXPECT_GRADGRADCHECK(f, (tensor_list{leaf64({2, 3}, -1, 1, 69), leaf64({2, 3}, -1, 1, 70)}));
}
