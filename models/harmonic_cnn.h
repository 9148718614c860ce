#pragma once
// HarmonicCNN: a harmonic front end after Won et al. 2020, "Data-driven harmonic filters for
// audio representation learning", then the blog's per-harmonic conv stacks (docs/MODELS.md).
//
// Front end: n_bands learnable fundamental frequencies f0 (Hz, initialised equally spaced in
// MIDI pitch from f_min to sample_rate / (2 n_harmonics)) and one learnable quality factor Q.
// Harmonic h (1..n_harmonics) of band b is a triangular band-pass filter on the linear STFT
// magnitude, centred at fc = h f0[b], of full width bw = max((0.1079 fc + 24.7) / Q, 2 df)
// (the paper's ERB bandwidth; df is the STFT bin spacing, and the floor keeps a narrow filter
// from falling between two bins, where it would see nothing and learn nothing). The responses
// are stacked as channels [N, n_harmonics, n_bands, frames], turned into dB and batch-normed,
// so the conv stacks see harmonics of one pitch aligned at the same row.
#include <memory>
#include <string>

#include "audio/features.h"
#include "layers/basic.h"
#include "layers/module.h"

namespace fm::models {

struct HarmonicCNNConfig {
  int64_t n_classes = 10;
  int64_t sample_rate = 22050;
  int64_t n_fft = 254;       // 128 frequency bins: the bench's 1x128x130 input
  int64_t hop_length = 512;  // used only when the model is given audio
  int64_t n_harmonics = 6;
  int64_t n_bands = 128;
  double f_min = 32.703195662574829;  // C1, the paper's lowest fundamental
  double bw_Q = 1.0;
  int64_t conv_channels = 32;      // per harmonic
  int64_t combine_channels = 128;  // after the 1x1 combination
  double dropout = 0.0;            // > 0 inserts a Dropout before the classifier's Linear
};

// The paper's ERB bandwidth constants: bw = (alpha fc + beta) / Q.
inline constexpr double kErbAlpha = 0.1079;
inline constexpr double kErbBeta = 24.7;

// The filters as a matrix [n_harmonics * n_bands, n_freqs] (row h * n_bands + b is harmonic
// h + 1 of band b), on the bin frequencies linspace(0, sample_rate / 2, n_freqs).
// Differentiable in f0 [n_bands] and bw_Q [1].
Tensor harmonic_filterbank(const Tensor& f0, const Tensor& bw_Q, int64_t n_freqs, double sample_rate,
                           int64_t n_harmonics, double min_bandwidth);
// Applies fb [H * B, F] to spec [N, F, T] -> [N, H, B, T].
Tensor apply_harmonic_filterbank(const Tensor& spec, const Tensor& fb, int64_t n_harmonics);
// The initial fundamentals: n_bands frequencies equally spaced in MIDI pitch from f_min up to
// (excluding) sample_rate / (2 n_harmonics), as the paper's initialize_filterbank.
Tensor initial_fundamentals(double f_min, double sample_rate, int64_t n_harmonics, int64_t n_bands);

class HarmonicFilterbank : public nn::UnaryModule {
 public:
  HarmonicFilterbank(int64_t n_freqs, int64_t sample_rate, int64_t n_harmonics, int64_t n_bands, double f_min,
                     double bw_Q);
  // spec: linear magnitude [N, n_freqs, T] -> [N, n_harmonics, n_bands, T].
  Tensor forward(const Tensor& spec) override;
  Tensor filterbank() const;
  std::string type_name() const override { return "HarmonicFilterbank"; }
  std::string extra_repr() const override;

  int64_t n_freqs, sample_rate, n_harmonics, n_bands;
  double min_bandwidth;  // two STFT bins
  Tensor f0;    // [n_bands], Hz
  Tensor bw_Q;  // [1]
};

class HarmonicCNN : public nn::UnaryModule {
 public:
  explicit HarmonicCNN(const HarmonicCNNConfig& config = {});
  // x: audio [N, samples] (the magnitude STFT is taken inside), or a linear magnitude
  // spectrogram [N, 1, n_freqs, frames] / [N, n_freqs, frames] -> logits [N, n_classes].
  Tensor forward(const Tensor& x) override;
  // The front end alone: [N, n_harmonics, n_bands, frames] in dB, before input_bn.
  Tensor harmonic_spectrogram(const Tensor& x);
  std::string type_name() const override { return "HarmonicCNN"; }
  std::string extra_repr() const override;
  int64_t n_freqs() const { return config.n_fft / 2 + 1; }

  HarmonicCNNConfig config;
  std::shared_ptr<audio::Spectrogram> spectrogram;  // magnitude (power 1)
  std::shared_ptr<HarmonicFilterbank> harmonic_filters;
  std::shared_ptr<audio::AmplitudeToDB> to_db;
  std::shared_ptr<nn::UnaryModule> input_bn;
  std::shared_ptr<nn::ModuleList> harmonic_conv;  // n_harmonics x Sequential(conv, bn, relu, pool)
  std::shared_ptr<nn::Sequential> combine, classifier;
};

}  // namespace fm::models
