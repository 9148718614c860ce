#pragma once
// Loss functions (namespace fm::nn), with PyTorch 1.13's semantics, defaults and names, plus the
// module wrappers PyTorch has (CrossEntropyLoss, ...). All are differentiable in every floating
// input PyTorch differentiates (class weights and pos_weight are constants, as in PyTorch), and
// twice differentiable. `reduction` is "mean" (default), "sum" or "none" (kl_div also takes
// "batchmean"). Wrong shapes, dtypes or options throw fm::Error naming the loss and the shapes.
//
// Shape mismatches: where PyTorch broadcasts input against target with a warning (mse_loss,
// l1_loss, smooth_l1_loss, kl_div), fermata refuses: input and target must have the same shape.
#include <string>

#include "layers/module.h"

namespace fm::nn {

struct CrossEntropyOptions {
  Tensor weight;               // [C] class weights, or undefined
  int64_t ignore_index = -100;  // class-index targets equal to this contribute nothing
  std::string reduction = "mean";
  double label_smoothing = 0.0;  // in [0, 1]
};

// input: [N, C] or [N, C, d1, ...] (classes at dim 1) or [C] (one sample), raw scores.
// target: class indices, int64 [N] / [N, d1, ...] / [] in [0, C) (or ignore_index); or class
// probabilities, floating, input's shape.
// Class indices: loss_i = -w[t_i] log softmax(x_i)[t_i]; "mean" divides the sum by the sum of
// w[t_i] over the non-ignored elements (PyTorch's weighted mean; NaN if all are ignored). With
// label_smoothing e: (1 - e) * that + e / C * the smoothed term -sum_c w[c] log softmax(x_i)[c]
// (ignored elements excluded, the same denominator for "mean").
// Probabilities: loss_i = -sum_c w[c] p_ic log softmax(x_i)_c, with p smoothed to
// p (1 - e) + e / C; "mean" divides by the number of elements N * d1 * ... (not by the weights).
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& o = {});

struct NLLLossOptions {
  Tensor weight;
  int64_t ignore_index = -100;
  std::string reduction = "mean";
};
// input: log-probabilities [N, C] / [N, C, d1, ...] / [C]; target int64 as for cross_entropy.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& o = {});

// input: probabilities in [0, 1]; target: input's shape; weight broadcasts to it (or undefined).
// -w (t log p + (1 - t) log(1 - p)), each log clamped at -100 as PyTorch does. The gradient
// is PyTorch's: w (p - t) / max(p (1 - p), 1e-12).
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                            const std::string& reduction = "mean");

struct BCEWithLogitsOptions {
  Tensor weight;      // broadcasts to input
  Tensor pos_weight;  // broadcasts to input (typically [C], the last dim)
  std::string reduction = "mean";
};
// x: logits; t: input's shape. w [(1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)], computed
// stably for any |x| (no exp overflow).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsOptions& o = {});

Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean");
Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean");
// 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0: l1_loss).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
                      double beta = 1.0);

// input: log-probabilities; target: probabilities (or log-probabilities with log_target), same
// shape. Pointwise target (log target - input) (0 where target = 0). "batchmean" divides the sum
// by input.size(0) (the mathematically correct KL per sample); "mean" by the number of elements.
Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
              bool log_target = false);

// Along `dim` of the broadcast of x1 and x2: sum(x1 x2) / sqrt(max(|x1|^2, eps^2) max(|x2|^2, eps^2)),
// computed as PyTorch 1.13 does (the clamp changes the value, not the gradient formula).
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim = 1, double eps = 1e-8);

// NT-Xent, the SimCLR contrastive loss (Chen et al. 2020). z1, z2: [N, D], two views of the
// same N samples (row i of z1 and row i of z2 are a positive pair). With z = [z1; z2] (2N rows),
// s_ij = cos(z_i, z_j) / temperature (rows L2-normalised, norm clamped at 1e-12), and the
// diagonal s_ii excluded (set to -inf), the loss is the mean over all 2N anchors of
//   -log( exp(s_{i,p(i)}) / sum_{j != i} exp(s_ij) ),  p(i) = i + N for i < N, i - N otherwise,
// i.e. cross_entropy over the rows of the masked similarity matrix with the positive as the
// class: (l(i, j) + l(j, i)) / 2N summed over the pairs, as in the paper.
Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double temperature = 0.5);

// The VAE's KL(N(mu, exp(logvar)) || N(0, 1)) = -0.5 sum(1 + logvar - mu^2 - exp(logvar)),
// summed over the last (latent) dim; mu, logvar: [..., D], same shape. reduction: "mean"
// averages the per-sample KL over the leading (batch) dims, "sum" sums it, "none" returns it
// per sample (shape [...]). A 1-D input is one sample.
Tensor gaussian_kl(const Tensor& mu, const Tensor& logvar, const std::string& reduction = "mean");

// ----- modules: forward(input, target), options stored as in PyTorch (weights as buffers) -----

class LossModule : public Module {
 public:
  virtual Tensor forward(const Tensor& input, const Tensor& target) = 0;
  Tensor operator()(const Tensor& input, const Tensor& target) {
    return run_forward_hooks(forward(input, target));
  }
};

class CrossEntropyLoss : public LossModule {
 public:
  explicit CrossEntropyLoss(CrossEntropyOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::string type_name() const override { return "CrossEntropyLoss"; }
  CrossEntropyOptions options;
};

class NLLLoss : public LossModule {
 public:
  explicit NLLLoss(NLLLossOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::string type_name() const override { return "NLLLoss"; }
  NLLLossOptions options;
};

class BCELoss : public LossModule {
 public:
  explicit BCELoss(Tensor weight = Tensor(), std::string reduction = "mean");
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::string type_name() const override { return "BCELoss"; }
  Tensor weight;
  std::string reduction;
};

class BCEWithLogitsLoss : public LossModule {
 public:
  explicit BCEWithLogitsLoss(BCEWithLogitsOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::string type_name() const override { return "BCEWithLogitsLoss"; }
  BCEWithLogitsOptions options;
};

class MSELoss : public LossModule {
 public:
  explicit MSELoss(std::string reduction = "mean") : reduction(std::move(reduction)) {}
  Tensor forward(const Tensor& input, const Tensor& target) override { return mse_loss(input, target, reduction); }
  std::string type_name() const override { return "MSELoss"; }
  std::string reduction;
};

class L1Loss : public LossModule {
 public:
  explicit L1Loss(std::string reduction = "mean") : reduction(std::move(reduction)) {}
  Tensor forward(const Tensor& input, const Tensor& target) override { return l1_loss(input, target, reduction); }
  std::string type_name() const override { return "L1Loss"; }
  std::string reduction;
};

class SmoothL1Loss : public LossModule {
 public:
  explicit SmoothL1Loss(std::string reduction = "mean", double beta = 1.0)
      : reduction(std::move(reduction)), beta(beta) {}
  Tensor forward(const Tensor& input, const Tensor& target) override {
    return smooth_l1_loss(input, target, reduction, beta);
  }
  std::string type_name() const override { return "SmoothL1Loss"; }
  std::string reduction;
  double beta;
};

class KLDivLoss : public LossModule {
 public:
  explicit KLDivLoss(std::string reduction = "mean", bool log_target = false)
      : reduction(std::move(reduction)), log_target(log_target) {}
  Tensor forward(const Tensor& input, const Tensor& target) override {
    return kl_div(input, target, reduction, log_target);
  }
  std::string type_name() const override { return "KLDivLoss"; }
  std::string reduction;
  bool log_target;
};

// forward(x1, x2) -> cosine_similarity(x1, x2, dim, eps).
class CosineSimilarity : public LossModule {
 public:
  explicit CosineSimilarity(int64_t dim = 1, double eps = 1e-8) : dim(dim), eps(eps) {}
  Tensor forward(const Tensor& x1, const Tensor& x2) override { return cosine_similarity(x1, x2, dim, eps); }
  std::string type_name() const override { return "CosineSimilarity"; }
  int64_t dim;
  double eps;
};

// forward(z1, z2) -> nt_xent_loss(z1, z2, temperature).
class NTXentLoss : public LossModule {
 public:
  explicit NTXentLoss(double temperature = 0.5) : temperature(temperature) {}
  Tensor forward(const Tensor& z1, const Tensor& z2) override { return nt_xent_loss(z1, z2, temperature); }
  std::string type_name() const override { return "NTXentLoss"; }
  double temperature;
};

}  // namespace fm::nn
