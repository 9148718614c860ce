// Loss values and semantics: PyTorch's weighted mean with ignore_index, label smoothing against
// its definition, the -100 clamp of binary_cross_entropy, stability of the logits form, kl_div's
// reductions, NT-Xent against a hand computation, error messages, the module wrappers.
#include <cmath>

#include "layers/loss.h"
#include "support/test_support.h"

using namespace fm;
using namespace fm::nn;

namespace {
Tensor idx(const std::vector<int64_t>& v, const Shape& s) { return from_vector(v, s); }
Tensor d64(const std::vector<double>& v, const Shape& s) { return from_vector(v, s); }
double val(const Tensor& t) { return t.item<double>(); }
}  // namespace

TEST(CrossEntropy, MatchesDefinition) {
  const Tensor x = d64({1, 2, 3, 0.5, -1, 2}, {2, 3});
  const Tensor t = idx({2, 0}, {2});
  const double l0 = -(3 - std::log(std::exp(1) + std::exp(2) + std::exp(3)));
  const double l1 = -(0.5 - std::log(std::exp(0.5) + std::exp(-1) + std::exp(2)));
  EXPECT_NEAR(val(cross_entropy(x, t)), (l0 + l1) / 2, 1e-12);
  EXPECT_NEAR(val(cross_entropy(x, t, {.reduction = "sum"})), l0 + l1, 1e-12);
  EXPECT_CLOSE(cross_entropy(x, t, {.reduction = "none"}), d64({l0, l1}, {2}), 1e-12, 1e-12);
  // one sample, unbatched
  EXPECT_NEAR(val(cross_entropy(select(x, 0, 0), idx({2}, {}))), l0, 1e-12);
  EXPECT_EQ(cross_entropy(select(x, 0, 0), idx({2}, {}), {.reduction = "none"}).dim(), 0);
  // nll_loss of log_softmax is the same
  EXPECT_NEAR(val(nll_loss(log_softmax(x, 1), t)), (l0 + l1) / 2, 1e-12);
}

TEST(CrossEntropy, IgnoreIndexIsExcludedFromTheMean) {
  const Tensor x = randn({5, 4}, {.dtype = kFloat64});
  const Tensor t = idx({1, -100, 3, 0, -100}, {5});
  const Tensor per = cross_entropy(x, t, {.reduction = "none"});
  EXPECT_EQ(val(select(per, 0, 1)), 0.0);
  EXPECT_EQ(val(select(per, 0, 4)), 0.0);
  EXPECT_NEAR(val(cross_entropy(x, t)), val(sum(per)) / 3, 1e-12);
  // a custom ignore_index, and its gradient is zero on the ignored rows
  Tensor xl = x.detach();
  xl.requires_grad_(true);
  cross_entropy(xl, idx({1, 2, 3, 0, 2}, {5}), {.ignore_index = 2}).backward();
  EXPECT_TRUE(equal(select(xl.grad(), 0, 1), zeros({4}, {.dtype = kFloat64})));
  EXPECT_FALSE(equal(select(xl.grad(), 0, 0), zeros({4}, {.dtype = kFloat64})));
  // everything ignored: NaN, as PyTorch 1.13
  EXPECT_TRUE(std::isnan(val(cross_entropy(x, full({5}, -100.0, {.dtype = kInt64})))));
}

TEST(CrossEntropy, WeightedMeanDividesBySelectedWeights) {
  const Tensor x = randn({4, 3}, {.dtype = kFloat64});
  const Tensor t = idx({0, 2, 2, 1}, {4});
  const Tensor w = d64({0.5, 2.0, 3.0}, {3});
  const Tensor per = cross_entropy(x, t, {.weight = w, .reduction = "none"});
  const Tensor plain = cross_entropy(x, t, {.reduction = "none"});
  EXPECT_CLOSE(per, mul(plain, d64({0.5, 3, 3, 2}, {4})), 1e-12, 1e-12);
  EXPECT_NEAR(val(cross_entropy(x, t, {.weight = w})), val(sum(per)) / (0.5 + 3 + 3 + 2), 1e-12);
  EXPECT_NEAR(val(cross_entropy(x, t, {.weight = w, .ignore_index = 1})),
              (val(sum(per)) - val(select(per, 0, 3))) / (0.5 + 3 + 3), 1e-12);
}

TEST(CrossEntropy, LabelSmoothingEqualsSmoothedProbabilities) {
  const Tensor x = randn({3, 5}, {.dtype = kFloat64});
  const Tensor t = idx({4, 0, 2}, {3});
  const Tensor soft = add(mul(to(one_hot(t, 5), kFloat64), 0.8), 0.2 / 5);
  EXPECT_NEAR(val(cross_entropy(x, t, {.label_smoothing = 0.2})), val(cross_entropy(x, soft)), 1e-12);
  EXPECT_NEAR(val(cross_entropy(x, to(one_hot(t, 5), kFloat64))), val(cross_entropy(x, t)), 1e-12);
  // probability targets smoothed by the option give the same
  EXPECT_NEAR(val(cross_entropy(x, to(one_hot(t, 5), kFloat64), {.label_smoothing = 0.2})),
              val(cross_entropy(x, soft)), 1e-12);
}

TEST(CrossEntropy, SpatialTargets) {
  const Tensor x = randn({2, 3, 4, 5}, {.dtype = kFloat64});
  const Tensor t = randint(0, 3, {2, 4, 5});
  const Tensor per = cross_entropy(x, t, {.reduction = "none"});
  EXPECT_EQ(per.sizes(), (Shape{2, 4, 5}));
  const Tensor flat = cross_entropy(reshape(permute(x, {0, 2, 3, 1}), {-1, 3}), reshape(t, {-1}), {.reduction = "none"});
  EXPECT_CLOSE(reshape(per, {-1}), flat, 1e-12, 1e-12);
}

TEST(CrossEntropy, Errors) {
  const Tensor x = randn({4, 3});
  EXPECT_THROW_MSG(cross_entropy(x, idx({0, 1, 2}, {3})),
                   "cross_entropy: expected target of shape [4] for input float32[4, 3] on cpu (classes at dim 1), got target int64[3]");
  EXPECT_THROW_MSG(cross_entropy(x, idx({0, 1, 5, 2}, {4})), "cross_entropy: target value 5 is out of range for 3 classes");
  EXPECT_THROW_MSG(cross_entropy(x, idx({0, 1, -1, 2}, {4})), "target value -1 is out of range");
  EXPECT_THROW_MSG(cross_entropy(x, ones({4}, {.dtype = kBool})), "cross_entropy: target must be int64 class indices or floating-point");
  EXPECT_THROW_MSG(cross_entropy(x, rand({4, 2})), "probability targets float32[4, 2] on cpu must have the input's shape float32[4, 3]");
  EXPECT_THROW_MSG(cross_entropy(x, idx({0, 1, 1, 2}, {4}), {.reduction = "avg"}), "reduction must be 'mean', 'sum' or 'none', got 'avg'");
  EXPECT_THROW_MSG(cross_entropy(x, idx({0, 1, 1, 2}, {4}), {.weight = ones({2})}), "weight float32[2] on cpu must be 1-D with one entry per class (3)");
  EXPECT_THROW_MSG(cross_entropy(x, idx({0, 1, 1, 2}, {4}), {.label_smoothing = 1.5}), "label_smoothing must be in [0, 1]");
  EXPECT_THROW_MSG(nll_loss(x, rand({4})), "nll_loss: target must be int64 class indices, got float32[4]");
  EXPECT_THROW_MSG(cross_entropy(ones({4, 3}, {.dtype = kInt64}), idx({0, 1, 1, 2}, {4})), "cross_entropy: input must be a floating-point tensor");
}

TEST(BinaryCrossEntropy, ClampsLogAtMinus100) {
  const Tensor p = d64({0.0, 1.0, 0.3, 1.0}, {4});
  const Tensor t = d64({1.0, 1.0, 0.0, 0.0}, {4});
  const Tensor l = binary_cross_entropy(p, t, Tensor(), "none");
  EXPECT_CLOSE(l, d64({100, 0, -std::log(0.7), 100}, {4}), 1e-12, 1e-12);
  Tensor pl = p.detach();
  pl.requires_grad_(true);
  binary_cross_entropy(pl, t).backward();
  const auto g = pl.grad().to_vector<double>();
  for (double v : g) EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(g[2], 0.25 * 0.3 / (0.3 * 0.7), 1e-12);
  EXPECT_THROW_MSG(binary_cross_entropy(d64({1.5}, {1}), d64({1}, {1})), "binary_cross_entropy: all elements of input must be between 0 and 1");
  EXPECT_THROW_MSG(binary_cross_entropy(rand({2, 3}), rand({3, 2})), "binary_cross_entropy: target float32[3, 2] on cpu must have the input's shape float32[2, 3]");
  EXPECT_THROW_MSG(binary_cross_entropy(rand({2, 3}), rand({2, 3}), rand({2})), "weight float32[2] on cpu must broadcast to the input's shape float32[2, 3]");
}

TEST(BinaryCrossEntropyWithLogits, StableAndMatchesSigmoidForm) {
  const Tensor x = d64({-3, -0.5, 0, 0.7, 2.5}, {5});
  const Tensor t = d64({0, 1, 0.5, 1, 0}, {5});
  EXPECT_CLOSE(binary_cross_entropy_with_logits(x, t, {.reduction = "none"}),
               binary_cross_entropy(sigmoid(x), t, Tensor(), "none"), 1e-10, 1e-12);
  // pos_weight multiplies the positive term
  const Tensor pw = full({5}, 3.0, {.dtype = kFloat64});
  const Tensor want = neg(add(mul(mul(t, log(sigmoid(x))), 3.0), mul(sub(ones_like(t), t), log(sub(ones_like(x), sigmoid(x))))));
  EXPECT_CLOSE(binary_cross_entropy_with_logits(x, t, {.pos_weight = pw, .reduction = "none"}), want, 1e-10, 1e-12);
  // huge logits: finite values and gradients
  Tensor big = d64({-1000, 1000, -1000, 1000}, {4});
  big.requires_grad_(true);
  const Tensor l = binary_cross_entropy_with_logits(big, d64({1, 0, 0, 1}, {4}), {.reduction = "none"});
  EXPECT_CLOSE(l, d64({1000, 1000, 0, 0}, {4}), 1e-12, 1e-12);
  sum(l).backward();
  EXPECT_CLOSE(big.grad(), d64({-1, 1, 0, 0}, {4}), 1e-12, 1e-12);
  EXPECT_THROW_MSG(binary_cross_entropy_with_logits(rand({3}), rand({3}), {.pos_weight = ones({2})}),
                   "binary_cross_entropy_with_logits: pos_weight float32[2] on cpu must broadcast to the input's shape float32[3]");
}

TEST(RegressionLosses, ValuesAndShapeErrors) {
  const Tensor x = d64({1, 2, 3, 4}, {2, 2}), y = d64({1.5, 0, 3, 7}, {2, 2});
  EXPECT_NEAR(val(mse_loss(x, y)), (0.25 + 4 + 0 + 9) / 4, 1e-12);
  EXPECT_NEAR(val(l1_loss(x, y, "sum")), 0.5 + 2 + 0 + 3, 1e-12);
  // beta 1: 0.5 d^2 below 1, |d| - 0.5 above
  EXPECT_CLOSE(smooth_l1_loss(x, y, "none"), d64({0.125, 1.5, 0, 2.5}, {2, 2}), 1e-12, 1e-12);
  EXPECT_CLOSE(smooth_l1_loss(x, y, "none", 0.0), abs(sub(x, y)), 1e-12, 1e-12);
  EXPECT_THROW_MSG(mse_loss(rand({4, 1}), rand({4})), "mse_loss: target float32[4] on cpu must have the input's shape float32[4, 1]");
  EXPECT_THROW_MSG(l1_loss(rand({2}), rand({3})), "l1_loss: target float32[3]");
  EXPECT_THROW_MSG(smooth_l1_loss(rand({2}), rand({2}), "mean", -1), "smooth_l1_loss: beta must be non-negative");
  EXPECT_THROW_MSG(mse_loss(rand({2}), ones({2}, {.dtype = kInt64})), "mse_loss: target must be a floating-point tensor, got int64[2]");
}

TEST(KlDiv, ReductionsAndZeroTargets) {
  const Tensor logq = log_softmax(randn({3, 4}, {.dtype = kFloat64}), 1);
  const Tensor p = d64({0.5, 0.5, 0, 0, 0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0}, {3, 4});
  Tensor lq = logq.detach();
  lq.requires_grad_(true);
  const Tensor per = kl_div(lq, p, "none");
  EXPECT_EQ(val(select(select(per, 0, 0), 0, 2)), 0.0);
  EXPECT_NEAR(val(kl_div(lq, p, "batchmean")), val(sum(per)) / 3, 1e-12);
  EXPECT_NEAR(val(kl_div(lq, p, "mean")), val(sum(per)) / 12, 1e-12);
  EXPECT_NEAR(val(kl_div(lq, p, "sum")), val(sum(per)), 1e-12);
  // log_target: the same divergence from log p (zero targets excluded there)
  const Tensor q2 = softmax(randn({3, 4}, {.dtype = kFloat64}), 1);
  EXPECT_NEAR(val(kl_div(lq, log(q2), "batchmean", true)), val(kl_div(lq, q2, "batchmean")), 1e-12);
  kl_div(lq, p, "batchmean").backward();
  for (double v : lq.grad().to_vector<double>()) EXPECT_TRUE(std::isfinite(v));
  EXPECT_THROW_MSG(kl_div(lq, p, "avg"), "kl_div: reduction must be 'mean', 'sum', 'none' or 'batchmean', got 'avg'");
}

TEST(CosineSimilarity, ValuesAndZeroVectors) {
  const Tensor a = d64({1, 0, 3, 4, 0, 0}, {3, 2}), b = d64({2, 0, -3, -4, 1, 1}, {3, 2});
  EXPECT_CLOSE(cosine_similarity(a, b), d64({1, -1, 0}, {3}), 1e-12, 1e-12);
  EXPECT_CLOSE(CosineSimilarity(0)(a, b), d64({(2 - 9) / std::sqrt(10.0) / std::sqrt(14.0), -16 / std::sqrt(16.0) / std::sqrt(17.0)}, {2}), 1e-12, 1e-12);
  EXPECT_THROW_MSG(cosine_similarity(rand({2, 3}), rand({2, 4})), "cosine_similarity");
}

TEST(NtXent, MatchesHandComputation) {
  const Tensor z1 = randn({3, 4}, {.dtype = kFloat64}), z2 = randn({3, 4}, {.dtype = kFloat64});
  const double tau = 0.3;
  std::vector<std::vector<double>> z;
  for (const Tensor& part : {z1, z2})
    for (int64_t i = 0; i < 3; ++i) {
      auto row = select(part, 0, i).to_vector<double>();
      double n = 0;
      for (double v : row) n += v * v;
      for (double& v : row) v /= std::sqrt(n);
      z.push_back(row);
    }
  double total = 0;
  for (int i = 0; i < 6; ++i) {
    const int pos = i < 3 ? i + 3 : i - 3;
    double denom = 0, spos = 0;
    for (int j = 0; j < 6; ++j) {
      if (j == i) continue;
      double s = 0;
      for (int k = 0; k < 4; ++k) s += z[i][k] * z[j][k];
      s /= tau;
      denom += std::exp(s);
      if (j == pos) spos = s;
    }
    total += -(spos - std::log(denom));
  }
  EXPECT_NEAR(val(nt_xent_loss(z1, z2, tau)), total / 6, 1e-12);
  EXPECT_NEAR(val(NTXentLoss(tau)(z1, z2)), total / 6, 1e-12);
  // symmetric in the two views
  EXPECT_NEAR(val(nt_xent_loss(z2, z1, tau)), total / 6, 1e-12);
  EXPECT_THROW_MSG(nt_xent_loss(rand({3, 4}), rand({2, 4})), "nt_xent_loss: expected z1 and z2 of the same shape [N, D]");
  EXPECT_THROW_MSG(nt_xent_loss(rand({3, 4}), rand({3, 4}), 0), "temperature must be positive");
}

// The composition nt_xent_loss used before it was fused: cat, L2 normalisation, mm,
// masked_fill(eye) and cross_entropy.
Tensor nt_xent_composed(const Tensor& z1, const Tensor& z2, double tau) {
  const int64_t N = z1.size(0);
  const Tensor z = cat({z1, z2}, 0);
  const Tensor zn = div(z, clamp(norm(z, 2, {1}, true), 1e-12, std::nullopt));
  const Tensor sim = mul(mm(zn, t(zn)), 1.0 / tau);
  const Tensor masked = masked_fill(sim, eye(2 * N, -1, {.dtype = DType::Bool}), -INFINITY);
  const Tensor targets = cat({arange(double(N), double(2 * N)), arange(0.0, double(N))}, 0);
  return cross_entropy(masked, targets);
}

TEST(NtXent, FusedMatchesComposition) {
  for (DType dt : {DType::Float32, DType::Float64})
    for (int64_t N : {1, 2, 5, 33})
      for (int64_t D : {1, 3, 16})
        for (double tau : {0.1, 0.5, 2.0}) {
          SCOPED_TRACE(std::string(dtype_name(dt)) + " N " + std::to_string(N) + " D " + std::to_string(D) +
                       " tau " + std::to_string(tau));
          Generator g(static_cast<uint64_t>(N * 100 + D * 10) + (dt == DType::Float32));
          Tensor a = to(add(mul(rand({N, D}, {.dtype = DType::Float64}, &g), 4.0), -2.0), dt);
          Tensor b = to(add(mul(rand({N, D}, {.dtype = DType::Float64}, &g), 4.0), -2.0), dt);
          if (N > 1) a = slice(to(cat({a, a}, 1), dt), 1, 0, 2 * D, 2);  // strided view (same values)
          if (N == 5) {  // a zero row: the clamped norm
            NoGradGuard ng;
            fill_(select(b, 0, 2), 0.0);
          }
          auto run = [&](bool fused) {
            Tensor x1 = clone(a.detach()), x2 = clone(b.detach());
            x1.requires_grad_(true);
            x2.requires_grad_(true);
            Tensor l = fused ? nt_xent_loss(x1, x2, tau) : nt_xent_composed(x1, x2, tau);
            mul(l, 1.7).backward();
            return std::tuple{l.detach(), x1.grad(), x2.grad()};
          };
          const auto [l0, g10, g20] = run(false);
          const auto [l1, g11, g21] = run(true);
          EXPECT_EQ(l1.dtype(), dt);
          EXPECT_EQ(l1.dim(), 0);
          const double tol = dt == DType::Float32 ? 2e-5 : 1e-12;
          EXPECT_NEAR(val(l1), val(l0), tol * (1 + std::abs(val(l0))));
          EXPECT_CLOSE(g11, g10, tol, tol);
          EXPECT_CLOSE(g21, g20, tol, tol);
        }
}

TEST(GaussianKl, ValuesAndReductions) {
  EXPECT_EQ(val(gaussian_kl(zeros({2, 3}), zeros({2, 3}))), 0.0);
  const Tensor mu = d64({1, 0, 0.5, -1}, {2, 2}), lv = d64({0, 1, -1, 0.2}, {2, 2});
  auto kl = [](double m, double l) { return -0.5 * (1 + l - m * m - std::exp(l)); };
  const double k0 = kl(1, 0) + kl(0, 1), k1 = kl(0.5, -1) + kl(-1, 0.2);
  EXPECT_CLOSE(gaussian_kl(mu, lv, "none"), d64({k0, k1}, {2}), 1e-12, 1e-12);
  EXPECT_NEAR(val(gaussian_kl(mu, lv)), (k0 + k1) / 2, 1e-12);
  EXPECT_NEAR(val(gaussian_kl(mu, lv, "sum")), k0 + k1, 1e-12);
  EXPECT_THROW_MSG(gaussian_kl(rand({2, 3}), rand({2, 4})), "gaussian_kl: mu and logvar must have the same shape");
}

TEST(LossModules, OptionsAndBuffers) {
  CrossEntropyLoss plain;
  EXPECT_TRUE(plain.state_dict().empty());
  CrossEntropyLoss weighted({.weight = tensor({1.0, 2.0, 3.0}), .label_smoothing = 0.1});
  EXPECT_EQ(weighted.state_dict().count("weight"), 1u);
  const Tensor x = randn({4, 3}), t = idx({0, 1, 2, 1}, {4});
  EXPECT_NEAR(val(weighted(x, t)),
              val(cross_entropy(x, t, {.weight = tensor({1.0, 2.0, 3.0}), .label_smoothing = 0.1})), 1e-6);
  BCEWithLogitsLoss bce({.pos_weight = tensor({2.0})});
  EXPECT_EQ(bce.state_dict().count("pos_weight"), 1u);
  EXPECT_EQ(bce.state_dict().count("weight"), 0u);
  EXPECT_NEAR(val(MSELoss("sum")(x, zeros_like(x))), val(sum(mul(x, x))), 1e-4);
  EXPECT_THROW_MSG(NLLLoss({.reduction = "batchmean"}), "NLLLoss: reduction must be");
}

TEST(CrossEntropy, Float32FusedKernelMatchesFloat64) {
  // odd class count (vector tail), an ignored row, weights; value and gradient
  const Tensor x64 = mul(randn({37, 1003}, {.dtype = kFloat64}), 4.0);
  std::vector<int64_t> tv;
  for (int64_t i = 0; i < 37; ++i) tv.push_back(i == 5 ? -100 : (i * 97) % 1003);
  const Tensor t = idx(tv, {37});
  const Tensor w = add(rand({1003}, {.dtype = kFloat64}), 0.5);
  Tensor a = to(x64, kFloat32).detach(), b = x64.detach();
  a.requires_grad_(true);
  b.requires_grad_(true);
  const Tensor la = cross_entropy(a, t, {.weight = to(w, kFloat32)}), lb = cross_entropy(b, t, {.weight = w});
  EXPECT_NEAR(val(la), val(lb), 1e-5 * std::abs(val(lb)));
  la.backward();
  lb.backward();
  EXPECT_CLOSE(to(a.grad(), kFloat64), b.grad(), 1e-4, 1e-7);
}
