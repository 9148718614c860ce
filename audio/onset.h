#pragma once
// Onset strength (spectral flux) as librosa.onset.onset_strength computes it by default:
// the log-power mel spectrogram (power_to_db, ref 1, top_db 80), its increase from one frame
// to the next (lag 1), half-wave rectified, averaged over mel bands, and shifted right by
// lag + n_fft / (2 hop) frames so that peaks line up with the onsets in the audio.
#include <optional>
#include <string>

#include "layers/module.h"
#include "tensor/tensor.h"

namespace fm::audio {

struct OnsetStrengthOptions {  // librosa's defaults (melspectrogram: Slaney scale and norm)
  int64_t sample_rate = 22050;
  int64_t n_fft = 2048;
  int64_t hop_length = 512;
  int64_t n_mels = 128;
  double f_min = 0.0;
  std::optional<double> f_max;  // sample_rate / 2
  std::string pad_mode = "constant";  // librosa >= 0.10
  int64_t lag = 1;
  // The reference is the maximum over this many neighbouring mel bands (librosa's
  // maximum_filter1d, edges mirrored); 1 compares each band with itself.
  int64_t max_size = 1;
  bool center = true;
  std::optional<double> top_db = 80.0;
};

// x [..., time] -> [..., frames]. Unlike librosa, which takes one maximum for top_db over the
// whole array, each item of a batch is clamped against its own maximum.
Tensor onset_strength(const Tensor& x, const OnsetStrengthOptions& o = {});

// The flux of a log-power spectrogram S [..., bands, frames] -> [..., frames].
Tensor onset_strength_from_db(const Tensor& S, const OnsetStrengthOptions& o = {});

class OnsetStrength : public nn::UnaryModule {
 public:
  explicit OnsetStrength(const OnsetStrengthOptions& o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "OnsetStrength"; }

  OnsetStrengthOptions options;
  Tensor window;  // [n_fft]
  Tensor fb;      // [n_fft/2+1, n_mels]
};

}  // namespace fm::audio
