#include "audio/augment.h"

#include <cmath>
#include <sstream>

#include "audio/phase_vocoder.h"
#include "autograd/elementwise.h"
#include "autograd/index.h"
#include "autograd/reduce.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "tensor/factory.h"

namespace fm::audio {
namespace {

void check_waveform(const char* op, const Tensor& x) {
  FM_CHECK(x.defined() && x.dim() >= 1 && x.is_floating_point(), op,
           ": expected a float32 or float64 waveform [..., time], got ",
           x.defined() ? x.describe() : std::string("an undefined tensor"));
}

void check_range(const char* op, const char* what, double lo, double hi) {
  FM_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, op, ": expected min_", what, " <= max_", what,
           ", got [", lo, ", ", hi, "]");
}

// (0, 1]: a uniform whose logarithm is finite.
double open_uniform(Generator* gen) { return 1.0 - uniform(0.0, 1.0, gen); }

// log of a Gamma(a, 1) draw (Marsaglia & Tsang 2000). For a < 1, Gamma(a) = Gamma(a + 1) * U^(1/a),
// whose logarithm stays finite where U^(1/a) underflows (mixup's small alphas).
double log_gamma_sample(double a, Generator* gen) {
  double boost = 0.0;
  if (a < 1.0) {
    boost = std::log(open_uniform(gen)) / a;
    a += 1.0;
  }
  const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double z = randn({1}, {.dtype = DType::Float64}, gen).item<double>();
    double v = 1.0 + c * z;
    if (v <= 0.0) continue;
    v = v * v * v;
    if (std::log(open_uniform(gen)) < 0.5 * z * z + d - d * v + d * std::log(v)) return std::log(d * v) + boost;
  }
}

Tensor soft_labels(const char* op, const Tensor& labels, int64_t num_classes, DType dtype) {
  FM_CHECK(labels.defined(), op, ": labels are undefined");
  if (labels.dtype() == DType::Int64) {
    FM_CHECK(num_classes > 0, op, ": int64 class labels of shape ", shape_str(labels.sizes()),
             " need num_classes > 0 to become one-hot rows");
    return to(one_hot(labels, num_classes), dtype);
  }
  FM_CHECK(labels.is_floating_point(), op, ": labels must be int64 class indices or float one-hot/soft labels, got ",
           labels.dtype());
  return labels.dtype() == dtype ? labels : to(labels, dtype);
}

template <class... A>
std::string repr(A&&... a) {
  std::ostringstream s;
  (s << ... << a);
  return s.str();
}

}  // namespace

// ----- functions -----

Tensor gain(const Tensor& waveform, double gain_db) {
  check_waveform("gain", waveform);
  FM_CHECK(std::isfinite(gain_db), "gain: gain_db must be finite, got ", gain_db);
  return mul(waveform, std::pow(10.0, gain_db / 20.0));
}

Tensor polarity_inversion(const Tensor& waveform) {
  check_waveform("polarity_inversion", waveform);
  return neg(waveform);
}

Tensor add_noise(const Tensor& waveform, const Tensor& noise, double snr_db) {
  check_waveform("add_noise", waveform);
  FM_CHECK(noise.defined() && noise.sizes() == waveform.sizes() && noise.dtype() == waveform.dtype(),
           "add_noise: noise must have the waveform's shape and dtype (", waveform.describe(), "), got ",
           noise.defined() ? noise.describe() : std::string("an undefined tensor"));
  FM_CHECK(std::isfinite(snr_db), "add_noise: snr_db must be finite, got ", snr_db);
  const Tensor ps = mean(mul(waveform, waveform), {-1}, true);
  // a zero noise row gets a finite scale (and stays zero) instead of 0 * inf
  const double tiny = waveform.dtype() == DType::Float32 ? 1e-30 : 1e-300;
  const Tensor pn = clamp(mean(mul(noise, noise), {-1}, true), tiny, std::nullopt);
  const Tensor scale = sqrt(div(ps, mul(pn, std::pow(10.0, snr_db / 10.0))));
  return add(waveform, mul(noise, scale));
}

Tensor add_white_noise(const Tensor& waveform, double snr_db, Generator* gen) {
  check_waveform("add_white_noise", waveform);
  return add_noise(waveform, randn(waveform.sizes(), {.dtype = waveform.dtype()}, gen), snr_db);
}

Tensor crop(const Tensor& waveform, int64_t offset, int64_t length) {
  check_waveform("crop", waveform);
  const int64_t T = waveform.sizes().back();
  FM_CHECK(length > 0, "crop: length must be positive, got ", length);
  FM_CHECK(offset >= 0 && offset <= T, "crop: offset ", offset, " is outside [0, ", T, "] for waveform of shape ",
           shape_str(waveform.sizes()));
  Tensor y = slice(waveform, -1, offset, std::min(T, offset + length));
  const int64_t got = y.sizes().back();
  return got < length ? pad(y, {0, length - got}) : y;
}

Tensor random_crop(const Tensor& waveform, int64_t length, Generator* gen) {
  check_waveform("random_crop", waveform);
  FM_CHECK(length > 0, "random_crop: length must be positive, got ", length);
  const int64_t room = std::max<int64_t>(0, waveform.sizes().back() - length);
  const auto offset = std::min(room, static_cast<int64_t>(uniform(0.0, 1.0, gen) * static_cast<double>(room + 1)));
  return crop(waveform, offset, length);
}

Mixed mixup(const Tensor& a, const Tensor& b, const Tensor& labels_a, const Tensor& labels_b, double lambda,
            int64_t num_classes) {
  check_waveform("mixup", a);
  FM_CHECK(b.defined() && a.sizes() == b.sizes() && a.dtype() == b.dtype(),
           "mixup: clips must have the same shape and dtype, got ", a.describe(), " and ",
           b.defined() ? b.describe() : std::string("an undefined tensor"));
  FM_CHECK(lambda >= 0.0 && lambda <= 1.0, "mixup: lambda must be in [0, 1], got ", lambda);
  const Tensor la = soft_labels("mixup", labels_a, num_classes, a.dtype());
  const Tensor lb = soft_labels("mixup", labels_b, num_classes, a.dtype());
  FM_CHECK(la.sizes() == lb.sizes(), "mixup: labels must have the same shape, got ", shape_str(la.sizes()), " and ",
           shape_str(lb.sizes()));
  return {add(mul(a, lambda), mul(b, 1.0 - lambda)), add(mul(la, lambda), mul(lb, 1.0 - lambda)), lambda};
}

double uniform(double lo, double hi, Generator* gen) {
  FM_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, "uniform: expected a finite lo <= hi, got [", lo, ", ",
           hi, ")");
  return lo + (hi - lo) * rand({1}, {.dtype = DType::Float64}, gen).item<double>();
}

double sample_beta(double a, double b, Generator* gen) {
  FM_CHECK(a > 0 && b > 0 && std::isfinite(a) && std::isfinite(b), "sample_beta: a and b must be positive, got ", a,
           ", ", b);
  const double la = log_gamma_sample(a, gen), lb = log_gamma_sample(b, gen);
  return 1.0 / (1.0 + std::exp(lb - la));
}

// ----- transforms -----

Compose::Compose(std::vector<std::pair<std::shared_ptr<Augmentation>, double>> transforms) {
  for (auto& t : transforms) add(std::move(t.first), t.second);
}

Compose& Compose::add(std::shared_ptr<Augmentation> transform, double p) {
  FM_CHECK(transform != nullptr, "Compose: transform ", transforms_.size(), " is null");
  FM_CHECK(p >= 0.0 && p <= 1.0, "Compose: probability of transform ", transforms_.size(), " (",
           transform->type_name(), ") must be in [0, 1], got ", p);
  register_module(std::to_string(transforms_.size()), transform);
  transforms_.emplace_back(std::move(transform), p);
  return *this;
}

Tensor Compose::apply(const Tensor& x, Generator& gen) {
  Tensor y = x;
  for (auto& [t, p] : transforms_) {
    const double u = uniform(0.0, 1.0, &gen);
    if (u < p) y = (*t)(y, gen);
  }
  return y;
}

Gain::Gain(double lo, double hi) : min_gain_db(lo), max_gain_db(hi) { check_range("Gain", "gain_db", lo, hi); }
std::string Gain::extra_repr() const { return repr("min_gain_db=", min_gain_db, ", max_gain_db=", max_gain_db); }
Tensor Gain::apply(const Tensor& x, Generator& gen) { return gain(x, uniform(min_gain_db, max_gain_db, &gen)); }

AddGaussianSNR::AddGaussianSNR(double lo, double hi) : min_snr_db(lo), max_snr_db(hi) {
  check_range("AddGaussianSNR", "snr_db", lo, hi);
}
std::string AddGaussianSNR::extra_repr() const { return repr("min_snr_db=", min_snr_db, ", max_snr_db=", max_snr_db); }
Tensor AddGaussianSNR::apply(const Tensor& x, Generator& gen) {
  const double snr = uniform(min_snr_db, max_snr_db, &gen);
  return add_white_noise(x, snr, &gen);
}

Tensor PolarityInversion::apply(const Tensor& x, Generator&) { return polarity_inversion(x); }

RandomCrop::RandomCrop(int64_t length_) : length(length_) {
  FM_CHECK(length > 0, "RandomCrop: length must be positive, got ", length);
}
std::string RandomCrop::extra_repr() const { return repr("length=", length); }
Tensor RandomCrop::apply(const Tensor& x, Generator& gen) { return random_crop(x, length, &gen); }

RandomTimeStretch::RandomTimeStretch(double lo, double hi, bool keep, int64_t n_fft_)
    : min_rate(lo), max_rate(hi), leave_length_unchanged(keep), n_fft(n_fft_) {
  check_range("RandomTimeStretch", "rate", lo, hi);
  FM_CHECK(lo > 0, "RandomTimeStretch: rates must be positive, got min_rate = ", lo);
  FM_CHECK(n_fft > 0, "RandomTimeStretch: n_fft must be positive, got ", n_fft);
}
std::string RandomTimeStretch::extra_repr() const {
  return repr("min_rate=", min_rate, ", max_rate=", max_rate,
              ", leave_length_unchanged=", leave_length_unchanged ? "True" : "False", ", n_fft=", n_fft);
}
Tensor RandomTimeStretch::apply(const Tensor& x, Generator& gen) {
  check_waveform("RandomTimeStretch", x);
  const Tensor y = time_stretch(x, uniform(min_rate, max_rate, &gen), n_fft);
  return leave_length_unchanged ? crop(y, 0, x.sizes().back()) : y;
}

RandomPitchShift::RandomPitchShift(int64_t sr, double lo, double hi, int64_t n_fft_, ResampleQuality q)
    : sample_rate(sr), min_semitones(lo), max_semitones(hi), n_fft(n_fft_), quality(q) {
  check_range("RandomPitchShift", "semitones", lo, hi);
  FM_CHECK(sr > 0 && n_fft > 0, "RandomPitchShift: sample_rate and n_fft must be positive, got ", sr, ", ", n_fft);
}
std::string RandomPitchShift::extra_repr() const {
  return repr("sample_rate=", sample_rate, ", min_semitones=", min_semitones, ", max_semitones=", max_semitones,
              ", n_fft=", n_fft);
}
Tensor RandomPitchShift::apply(const Tensor& x, Generator& gen) {
  return pitch_shift(x, sample_rate, uniform(min_semitones, max_semitones, &gen), 12, n_fft, std::nullopt,
                     std::nullopt, Tensor(), quality);
}

Mixup::Mixup(double alpha_, int64_t num_classes_) : alpha(alpha_), num_classes(num_classes_) {
  FM_CHECK(alpha > 0 && std::isfinite(alpha), "Mixup: alpha must be positive, got ", alpha);
}

Mixed Mixup::operator()(const Tensor& batch, const Tensor& labels, Generator* gen) const {
  check_waveform("Mixup", batch);
  FM_CHECK(batch.dim() >= 2, "Mixup: expected a batch [batch, ..., time], got shape ", shape_str(batch.sizes()));
  FM_CHECK(labels.defined() && labels.dim() >= 1 && labels.sizes()[0] == batch.sizes()[0],
           "Mixup: labels must have the batch size ", batch.sizes()[0], " as first dim, got ",
           labels.defined() ? shape_str(labels.sizes()) : std::string("undefined"));
  const double lambda = sample_beta(alpha, alpha, gen);
  const Tensor perm = randperm(batch.sizes()[0], gen);
  const Tensor l = soft_labels("Mixup", labels, num_classes, batch.dtype());
  return mixup(batch, index_select(batch, 0, perm), l, index_select(l, 0, perm), lambda);
}

Mixed Mixup::operator()(const Tensor& a, const Tensor& b, const Tensor& labels_a, const Tensor& labels_b,
                        Generator* gen) const {
  return mixup(a, b, labels_a, labels_b, sample_beta(alpha, alpha, gen), num_classes);
}

}  // namespace fm::audio
