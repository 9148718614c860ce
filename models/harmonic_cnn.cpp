#include "models/harmonic_cnn.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "autograd/elementwise.h"
#include "autograd/linalg.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "layers/conv.h"
#include "layers/norm.h"
#include "layers/pool.h"
#include "tensor/error.h"
#include "tensor/factory.h"

namespace fm::models {

namespace {

double hz_to_midi(double hz) { return 12.0 * std::log2(hz / 440.0) + 69.0; }
double midi_to_hz(double m) { return 440.0 * std::pow(2.0, (m - 69.0) / 12.0); }

void check_config(const HarmonicCNNConfig& c) {
  FM_CHECK(c.n_classes >= 1, "HarmonicCNN: n_classes must be positive, got ", c.n_classes);
  FM_CHECK(c.sample_rate > 0, "HarmonicCNN: sample_rate must be positive, got ", c.sample_rate);
  FM_CHECK(c.n_fft >= 2 && c.hop_length >= 1, "HarmonicCNN: n_fft must be >= 2 and hop_length >= 1, got n_fft=",
           c.n_fft, ", hop_length=", c.hop_length);
  FM_CHECK(c.n_harmonics >= 1 && c.n_bands >= 4, "HarmonicCNN: need n_harmonics >= 1 and n_bands >= 4, got ",
           c.n_harmonics, " and ", c.n_bands);
  FM_CHECK(c.conv_channels >= 1 && c.combine_channels >= 1, "HarmonicCNN: channel counts must be positive, got ",
           "conv_channels=", c.conv_channels, ", combine_channels=", c.combine_channels);
  FM_CHECK(c.bw_Q > 0, "HarmonicCNN: bw_Q must be positive, got ", c.bw_Q);
  FM_CHECK(c.dropout >= 0 && c.dropout < 1, "HarmonicCNN: dropout must be in [0, 1), got ", c.dropout);
}

}  // namespace

Tensor initial_fundamentals(double f_min, double sample_rate, int64_t n_harmonics, int64_t n_bands) {
  const double f_max = sample_rate / (2.0 * static_cast<double>(n_harmonics));
  FM_CHECK(f_min > 0 && f_min < f_max, "HarmonicCNN: f_min must be in (0, sample_rate / (2 n_harmonics) = ", f_max,
           "), got ", f_min);
  const double lo = hz_to_midi(f_min), hi = hz_to_midi(f_max);
  std::vector<float> hz(static_cast<size_t>(n_bands));
  for (int64_t b = 0; b < n_bands; ++b)
    hz[static_cast<size_t>(b)] = static_cast<float>(midi_to_hz(lo + (hi - lo) * static_cast<double>(b) / static_cast<double>(n_bands)));
  return from_vector(hz, {n_bands});
}

Tensor harmonic_filterbank(const Tensor& f0, const Tensor& bw_Q, int64_t n_freqs, double sample_rate,
                           int64_t n_harmonics, double min_bandwidth) {
  FM_CHECK(f0.dim() == 1 && bw_Q.numel() == 1, "harmonic_filterbank: expected f0 [n_bands] and bw_Q [1], got ",
           shape_str(f0.sizes()), " and ", shape_str(bw_Q.sizes()));
  FM_CHECK(n_freqs >= 2 && n_harmonics >= 1, "harmonic_filterbank: need n_freqs >= 2 and n_harmonics >= 1, got ",
           n_freqs, " and ", n_harmonics);
  const Options o{.dtype = f0.dtype(), .device = f0.device()};
  const Tensor harmonics = arange(1, static_cast<double>(n_harmonics) + 1, 1, o);      // [H]
  const Tensor fc = reshape(outer(harmonics, f0), {-1, 1});                            // [H*B, 1]
  const Tensor erb = div(add(mul(fc, kErbAlpha), kErbBeta), reshape(bw_Q, {1, 1}));
  // The floor is a constant, so where it binds Q gets no gradient from that filter, but the
  // filter still spans at least one bin and its centre still learns.
  const Tensor bw = maximum(erb, full({1, 1}, min_bandwidth, o));
  const Tensor freqs = reshape(linspace(0, sample_rate / 2, n_freqs, o), {1, -1});     // [1, F]
  // A triangle of height 1 at fc falling to 0 at fc +- bw / 2: the paper's
  // max(0, min(up_slope, down_slope)) written as one expression.
  return relu(sub(ones({1, 1}, o), div(mul(abs(sub(freqs, fc)), 2.0), bw)));
}

Tensor apply_harmonic_filterbank(const Tensor& spec, const Tensor& fb, int64_t n_harmonics) {
  FM_CHECK(spec.dim() == 3 && fb.dim() == 2 && spec.size(1) == fb.size(1) && fb.size(0) % n_harmonics == 0,
           "apply_harmonic_filterbank: expected spec [N, F, T] and fb [H * B, F] with H = ", n_harmonics,
           ", got ", shape_str(spec.sizes()), " and ", shape_str(fb.sizes()));
  const Tensor y = matmul(fb, spec);  // [N, H*B, T]
  return reshape(y, {spec.size(0), n_harmonics, fb.size(0) / n_harmonics, spec.size(2)});
}

HarmonicFilterbank::HarmonicFilterbank(int64_t n_freqs_, int64_t sample_rate_, int64_t n_harmonics_,
                                       int64_t n_bands_, double f_min, double q)
    : n_freqs(n_freqs_), sample_rate(sample_rate_), n_harmonics(n_harmonics_), n_bands(n_bands_) {
  FM_CHECK(n_freqs >= 2, "HarmonicFilterbank: n_freqs must be at least 2, got ", n_freqs);
  min_bandwidth = 2.0 * (static_cast<double>(sample_rate) / 2.0) / static_cast<double>(n_freqs - 1);
  f0 = register_parameter("f0", initial_fundamentals(f_min, static_cast<double>(sample_rate), n_harmonics, n_bands));
  bw_Q = register_parameter("bw_Q", full({1}, q));
}

std::string HarmonicFilterbank::extra_repr() const {
  std::ostringstream os;
  os << "n_freqs=" << n_freqs << ", sample_rate=" << sample_rate << ", n_harmonics=" << n_harmonics
     << ", n_bands=" << n_bands;
  return os.str();
}

Tensor HarmonicFilterbank::filterbank() const {
  return harmonic_filterbank(f0, bw_Q, n_freqs, static_cast<double>(sample_rate), n_harmonics, min_bandwidth);
}

Tensor HarmonicFilterbank::forward(const Tensor& spec) {
  FM_CHECK(spec.dim() == 3 && spec.size(1) == n_freqs, "HarmonicFilterbank: expected a spectrogram [N, ", n_freqs,
           ", frames], got shape ", shape_str(spec.sizes()));
  return apply_harmonic_filterbank(spec, filterbank(), n_harmonics);
}

HarmonicCNN::HarmonicCNN(const HarmonicCNNConfig& c) : config(c) {
  check_config(c);
  spectrogram = register_module("spectrogram", std::make_shared<audio::Spectrogram>(
                                                   c.n_fft, std::nullopt, c.hop_length, 0, 1.0));
  harmonic_filters = register_module("harmonic_filters", std::make_shared<HarmonicFilterbank>(
                                                             n_freqs(), c.sample_rate, c.n_harmonics, c.n_bands,
                                                             c.f_min, c.bw_Q));
  to_db = register_module("to_db", std::make_shared<audio::AmplitudeToDB>("magnitude"));
  input_bn = register_module("input_bn", std::static_pointer_cast<nn::UnaryModule>(
                                             std::make_shared<nn::BatchNorm2d>(c.n_harmonics)));
  harmonic_conv = register_module("harmonic_conv", std::make_shared<nn::ModuleList>());
  for (int64_t h = 0; h < c.n_harmonics; ++h) {
    auto s = std::make_shared<nn::Sequential>();
    s->push_back(std::make_shared<nn::Conv2d>(1, c.conv_channels, Int2{3, 3}));
    s->push_back(std::make_shared<nn::BatchNorm2d>(c.conv_channels));
    s->push_back(nn::ReLU());
    s->push_back(std::make_shared<nn::MaxPool2d>(Int2{2, 2}));
    harmonic_conv->push_back(s);
  }
  combine = register_module("combine", std::make_shared<nn::Sequential>());
  combine->push_back(std::make_shared<nn::Conv2d>(c.conv_channels * c.n_harmonics, c.combine_channels, Int2{1, 1}));
  combine->push_back(std::make_shared<nn::BatchNorm2d>(c.combine_channels));
  combine->push_back(nn::ReLU());
  classifier = register_module("classifier", std::make_shared<nn::Sequential>());
  classifier->push_back(std::make_shared<nn::AdaptiveAvgPool2d>(Int2{1, 1}));
  classifier->push_back(std::make_shared<nn::Flatten>());
  if (c.dropout > 0) classifier->push_back(std::make_shared<nn::Dropout>(c.dropout));
  classifier->push_back(std::make_shared<nn::Linear>(c.combine_channels, c.n_classes));
}

std::string HarmonicCNN::extra_repr() const {
  std::ostringstream os;
  os << "n_classes=" << config.n_classes << ", n_harmonics=" << config.n_harmonics << ", n_bands=" << config.n_bands;
  return os.str();
}

Tensor HarmonicCNN::harmonic_spectrogram(const Tensor& x) {
  FM_CHECK(x.is_floating_point(), "HarmonicCNN: input must be floating point, got ", x.dtype());
  Tensor spec;
  if (x.dim() == 2) {
    FM_CHECK(x.size(1) > config.n_fft / 2, "HarmonicCNN: ", x.size(1), " samples are too few for n_fft=",
             config.n_fft);
    spec = (*spectrogram)(x);
  } else if (x.dim() == 4 && x.size(1) == 1) {
    spec = squeeze(x, 1);
  } else if (x.dim() == 3) {
    spec = x;
  } else {
    FM_CHECK(false, "HarmonicCNN: expected audio [N, samples] or a magnitude spectrogram [N, 1, ", n_freqs(),
             ", frames] / [N, ", n_freqs(), ", frames], got shape ", shape_str(x.sizes()));
  }
  FM_CHECK(spec.size(1) == n_freqs(), "HarmonicCNN: the spectrogram has ", spec.size(1),
           " frequency bins but n_fft=", config.n_fft, " gives ", n_freqs(), " (input shape ", shape_str(x.sizes()), ")");
  return (*to_db)((*harmonic_filters)(spec));
}

Tensor HarmonicCNN::forward(const Tensor& x) {
  Tensor h = (*input_bn)(harmonic_spectrogram(x));
  FM_CHECK(h.size(2) >= 4 && h.size(3) >= 4, "HarmonicCNN: need at least 4 frames for the 3x3 convs and 2x2 pools, ",
           "got input shape ", shape_str(x.sizes()));
  std::vector<Tensor> per_harmonic;
  per_harmonic.reserve(static_cast<size_t>(config.n_harmonics));
  for (int64_t i = 0; i < config.n_harmonics; ++i)
    per_harmonic.push_back(harmonic_conv->at<nn::Sequential>(static_cast<size_t>(i))(narrow(h, 1, i, 1)));
  Tensor y = (*combine)(cat(per_harmonic, 1));
  return (*classifier)(y);
}

}  // namespace fm::models
