// batch_norm / layer_norm (functional and modules, running statistics after the step) and the
// losses against PyTorch 1.13, in float64: outputs, every input gradient, and the buffers
// (data: make_golden_nn_norm_loss.py).
#include "golden/golden_support.h"
#include "layers/loss.h"
#include "layers/norm.h"

using namespace fm;
using namespace fm::nn;
using fm::testing::golden::Case;
using autograd::tensor_list;

namespace {

tensor_list bn2d_module(const tensor_list& x) {
  BatchNorm2d m(3, {.dtype = kFloat64});
  {
    NoGradGuard ng;
    copy_(m.weight, x[2]);
    copy_(m.bias, x[3]);
  }
  m(x[0]);
  const Tensor y2 = m(x[1]);
  m.eval();
  const Tensor ye = m(x[0]);
  return {y2, ye, m.running_mean, m.running_var, m.num_batches_tracked};
}

tensor_list bn1d_module_cma(const tensor_list& x) {
  BatchNorm1d m(4, {.momentum = std::nullopt, .affine = false, .dtype = kFloat64});
  m(x[0]);
  m(x[1]);
  const Tensor y3 = m(x[2]);
  m.eval();
  const Tensor ye = m(x[0]);
  return {y3, ye, m.running_mean, m.running_var, m.num_batches_tracked};
}

tensor_list ln_module(const tensor_list& x) {
  LayerNorm m(Shape{2, 3}, {.dtype = kFloat64});
  return {m(x[0])};
}

#define BN_TRAIN(name, input) GOLDEN(name, batch_norm(input, x[3], x[4], x[1], x[2], true, 0.1, 1e-5), x[3], x[4])
#define CE3(red)                                                                                          \
  GOLDEN("ce_" red, cross_entropy(x[0], x[1], {.reduction = red})),                                        \
      GOLDEN("ce_full_" red, cross_entropy(x[0], x[1], {.weight = x[2], .ignore_index = 1, .reduction = red, \
                                                        .label_smoothing = 0.15}))
#define BCE3(red)                                                                                   \
  GOLDEN("bce_" red, binary_cross_entropy(x[0], x[1], x[2], red)),                                   \
      GOLDEN("bce_logits_" red,                                                                      \
             binary_cross_entropy_with_logits(x[0], x[1], {.weight = x[2], .pos_weight = x[3], .reduction = red}))
#define REG3(red)                                                \
  GOLDEN("mse_" red, mse_loss(x[0], x[1], red)),                  \
      GOLDEN("l1_" red, l1_loss(x[0], x[1], red)),                \
      GOLDEN("smooth_l1_" red, smooth_l1_loss(x[0], x[1], red, 0.5))
#define KL2(red)                                          \
  GOLDEN("kl_div_" red, kl_div(x[0], x[1], red)),          \
      GOLDEN("kl_div_log_" red, kl_div(x[0], x[1], red, true))

const std::vector<Case>& norm_loss_cases() {
  static const std::vector<Case> cases = {
      // batch norm: inputs x, weight, bias, running_mean, running_var; outputs y and the stats after
      BN_TRAIN("bn1d_train_nc", x[0]),
      BN_TRAIN("bn1d_train_ncl", x[0]),
      BN_TRAIN("bn2d_train", x[0]),
      BN_TRAIN("bn1d_train_t", permute(x[0], {1, 2, 0})),
      GOLDEN("bn2d_eval", batch_norm(x[0], x[3], x[4], x[1], x[2], false, 0.1, 1e-5)),
      GOLDEN("bn1d_eval_nc", batch_norm(x[0], x[3], x[4], x[1], x[2], false, 0.1, 1e-5)),
      GOLDEN("bn2d_train_noaffine", batch_norm(x[0], x[1], x[2], Tensor(), Tensor(), true, 0.3, 1e-3), x[1], x[2]),
      Case{"bn2d_module", bn2d_module},
      Case{"bn1d_module_cma", bn1d_module_cma},
      // layer norm
      GOLDEN("ln_last", layer_norm(x[0], {5}, x[1], x[2], 1e-5)),
      GOLDEN("ln_2d", layer_norm(x[0], {3, 4}, x[1], x[2], 1e-5)),
      GOLDEN("ln_noaffine", layer_norm(x[0], {6}, Tensor(), Tensor(), 1e-3)),
      GOLDEN("ln_t", layer_norm(t(x[0]), {4}, x[1], x[2], 1e-5)),
      Case{"ln_module", ln_module},
      // cross entropy and nll
      CE3("mean"),
      CE3("sum"),
      CE3("none"),
      GOLDEN("ce_ignore_default", cross_entropy(x[0], x[1])),
      GOLDEN("ce_spatial", cross_entropy(x[0], x[1], {.ignore_index = 2, .label_smoothing = 0.1})),
      GOLDEN("ce_unbatched", cross_entropy(x[0], x[1])),
      GOLDEN("ce_t", cross_entropy(t(x[0]), x[1])),
      GOLDEN("ce_prob", cross_entropy(x[0], x[1], {.weight = x[2], .label_smoothing = 0.2})),
      GOLDEN("ce_prob_none", cross_entropy(x[0], x[1], {.reduction = "none"})),
      GOLDEN("nll", nll_loss(x[0], x[1], {.weight = x[2], .ignore_index = 0})),
      GOLDEN("nll_sum", nll_loss(x[0], x[1], {.reduction = "sum"})),
      // binary cross entropy
      BCE3("mean"),
      BCE3("sum"),
      BCE3("none"),
      GOLDEN("bce_clamp", binary_cross_entropy(x[0], x[1], Tensor(), "none")),
      GOLDEN("bce_logits_large", binary_cross_entropy_with_logits(x[0], x[1])),
      // regression
      REG3("mean"),
      REG3("sum"),
      REG3("none"),
      GOLDEN("smooth_l1_beta0", smooth_l1_loss(x[0], x[1], "mean", 0.0)),
      GOLDEN("mse_t", mse_loss(t(x[0]), x[1])),
      // kl_div
      KL2("mean"),
      KL2("sum"),
      KL2("none"),
      KL2("batchmean"),
      GOLDEN("kl_div_zeros", kl_div(x[0], x[1], "batchmean")),
      // similarity, contrastive, VAE
      GOLDEN("cosine_dim1", cosine_similarity(x[0], x[1], 1)),
      GOLDEN("cosine_dimm1", cosine_similarity(x[0], x[1], -1)),
      GOLDEN("cosine_bcast", cosine_similarity(x[0], x[1], 1)),
      GOLDEN("cosine_tiny", cosine_similarity(x[0], x[1], 1, 1e-6)),
      GOLDEN("nt_xent", nt_xent_loss(x[0], x[1], 0.5)),
      GOLDEN("nt_xent_t01", nt_xent_loss(x[0], x[1], 0.1)),
      GOLDEN("gaussian_kl_mean", gaussian_kl(x[0], x[1], "mean")),
      GOLDEN("gaussian_kl_sum", gaussian_kl(x[0], x[1], "sum")),
      GOLDEN("gaussian_kl_none", gaussian_kl(x[0], x[1], "none")),
  };
  return cases;
}

}  // namespace

FM_GOLDEN_FAMILY(NormLossGolden, "norm_loss", norm_loss_cases)
