#include "layers/init.h"

#include <cmath>

#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "tensor/factory.h"

namespace fm::nn::init {

namespace {
// Writes `values` (a fresh CPU tensor) into t, wherever t lives, without recording.
Tensor& assign(Tensor& t, const Tensor& values) {
  NoGradGuard ng;
  copy_into(t, to_raw(values, t.dtype(), t.device()));
  t.bump_version();
  return t;
}
}  // namespace

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  FM_CHECK(t.dim() >= 2, "init: fan in and fan out need a tensor of at least 2 dimensions, got ", t.describe());
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

double calculate_gain(const std::string& nl, double param) {
  if (nl == "linear" || nl == "sigmoid" || nl.rfind("conv", 0) == 0) return 1.0;
  if (nl == "tanh") return 5.0 / 3;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
  if (nl == "selu") return 3.0 / 4;
  fail("calculate_gain: unknown nonlinearity '", nl, "'");
}

Tensor& uniform_(Tensor& t, double a, double b, Generator* gen) {
  return assign(t, add(mul(rand(t.sizes(), {.dtype = kFloat64}, gen), b - a), a));
}
Tensor& normal_(Tensor& t, double mean, double std, Generator* gen) {
  return assign(t, add(mul(randn(t.sizes(), {.dtype = kFloat64}, gen), std), mean));
}
Tensor& constant_(Tensor& t, double v) { return assign(t, full(t.sizes(), v, {.dtype = kFloat64})); }
Tensor& zeros_(Tensor& t) { return constant_(t, 0); }
Tensor& ones_(Tensor& t) { return constant_(t, 1); }

Tensor& xavier_uniform_(Tensor& t, double gain, Generator* gen) {
  auto [fi, fo] = calculate_fan_in_and_fan_out(t);
  const double a = gain * std::sqrt(6.0 / static_cast<double>(fi + fo));
  return uniform_(t, -a, a, gen);
}
Tensor& xavier_normal_(Tensor& t, double gain, Generator* gen) {
  auto [fi, fo] = calculate_fan_in_and_fan_out(t);
  return normal_(t, 0, gain * std::sqrt(2.0 / static_cast<double>(fi + fo)), gen);
}

static double kaiming_std(const Tensor& t, double a, const std::string& mode, const std::string& nl) {
  auto [fi, fo] = calculate_fan_in_and_fan_out(t);
  FM_CHECK(mode == "fan_in" || mode == "fan_out", "kaiming: mode must be fan_in or fan_out, got '", mode, "'");
  const int64_t fan = mode == "fan_in" ? fi : fo;
  FM_CHECK(fan > 0, "kaiming: fan of ", t.describe(), " is zero");
  return calculate_gain(nl, a) / std::sqrt(static_cast<double>(fan));
}
Tensor& kaiming_uniform_(Tensor& t, double a, const std::string& mode, const std::string& nl, Generator* gen) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nl);
  return uniform_(t, -bound, bound, gen);
}
Tensor& kaiming_normal_(Tensor& t, double a, const std::string& mode, const std::string& nl, Generator* gen) {
  return normal_(t, 0, kaiming_std(t, a, mode, nl), gen);
}

Tensor& orthogonal_(Tensor& t, double gain, Generator* gen) {
  FM_CHECK(t.dim() >= 2, "orthogonal_: needs at least 2 dimensions, got ", t.describe());
  const int64_t rows = t.size(0), cols = t.numel() / rows;
  // Gram-Schmidt (twice, for stability) on the rows of a random normal matrix of the smaller
  // orientation, then a sign fix as in PyTorch's QR-based version.
  const bool transpose = rows < cols;
  const int64_t n = transpose ? rows : cols, m = transpose ? cols : rows;  // n vectors of length m
  std::vector<double> v = randn({n, m}, {.dtype = kFloat64}, gen).to_vector<double>();
  for (int64_t i = 0; i < n; ++i) {
    double* vi = &v[i * m];
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t j = 0; j < i; ++j) {
        const double* vj = &v[j * m];
        double d = 0;
        for (int64_t k = 0; k < m; ++k) d += vi[k] * vj[k];
        for (int64_t k = 0; k < m; ++k) vi[k] -= d * vj[k];
      }
    double nrm = 0;
    for (int64_t k = 0; k < m; ++k) nrm += vi[k] * vi[k];
    nrm = std::sqrt(nrm);
    FM_CHECK(nrm > 0, "orthogonal_: degenerate random draw");
    for (int64_t k = 0; k < m; ++k) vi[k] /= nrm;
  }
  std::vector<double> out(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] = gain * (transpose ? v[r * m + c] : v[c * m + r]);
  return assign(t, from_vector(out, t.sizes()));
}

void default_weight_init(Tensor& w, Generator* gen) { kaiming_uniform_(w, std::sqrt(5.0), "fan_in", "leaky_relu", gen); }

void default_bias_init(Tensor& b, const Tensor& w, Generator* gen) {
  const int64_t fan_in = calculate_fan_in_and_fan_out(w).first;
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
  uniform_(b, -bound, bound, gen);
}

}  // namespace fm::nn::init
