#pragma once
// Chroma features with librosa's formulas: the STFT chroma filterbank of
// librosa.filters.chroma applied to a power spectrogram (librosa.feature.chroma_stft), and
// constant-Q bins folded into pitch classes (librosa.filters.cq_to_chroma, as
// librosa.feature.chroma_cqt does) over fermata's CQT. Both normalise every frame (norm inf:
// its largest pitch class is 1), and both are differentiable.
#include <limits>
#include <optional>
#include <string>

#include "audio/cqt.h"
#include "layers/module.h"
#include "tensor/tensor.h"

namespace fm::audio {

// librosa.filters.chroma: [n_chroma, n_fft/2+1]. Gaussian bumps around each pitch class in
// every octave, each column normalised to unit `norm` (nullopt: none), weighted by a Gaussian
// over octaves centred at ctroct with width octwidth (nullopt: flat); base_c starts at C (else A).
Tensor chroma_filterbank(int64_t sample_rate, int64_t n_fft, int64_t n_chroma = 12, double tuning = 0.0,
                         double ctroct = 5.0, std::optional<double> octwidth = 2.0,
                         std::optional<double> norm = 2.0, bool base_c = true, DType dtype = DType::Float32);

// librosa.filters.cq_to_chroma: [n_chroma, n_input] summing the CQT bins of each pitch class.
Tensor cq_to_chroma(int64_t n_input, int64_t bins_per_octave = 12, int64_t n_chroma = 12, double fmin = 32.70,
                    bool base_c = true, DType dtype = DType::Float32);

// librosa.util.normalize along `dim`: x / ||x||_norm (norm 1, 2 or inf), leaving slices whose
// norm is below the dtype's smallest normal number unchanged.
Tensor normalize(const Tensor& x, double norm, int64_t dim);

struct ChromaSTFTOptions {  // librosa.feature.chroma_stft's defaults, tuning fixed
  int64_t sample_rate = 22050;
  int64_t n_fft = 2048;
  int64_t hop_length = 512;
  std::optional<int64_t> win_length;  // n_fft
  double power = 2.0;
  bool center = true;
  std::string pad_mode = "constant";  // librosa >= 0.10
  int64_t n_chroma = 12;
  double tuning = 0.0;
  double ctroct = 5.0;
  std::optional<double> octwidth = 2.0;
  std::optional<double> norm = std::numeric_limits<double>::infinity();  // per frame; nullopt: none
  bool base_c = true;
};

// x [..., time] -> [..., n_chroma, frames].
Tensor chroma_stft(const Tensor& x, const ChromaSTFTOptions& o = {});

struct ChromaCQTOptions {
  CQTOptions cqt;  // fermata's (nnAudio's) CQT; its bins_per_octave must be a multiple of n_chroma
  int64_t n_chroma = 12;
  std::optional<double> norm = std::numeric_limits<double>::infinity();
  bool base_c = true;
};

// x [..., time] -> [..., n_chroma, frames]: cq_to_chroma @ |cqt(x)|, normalised per frame.
Tensor chroma_cqt(const Tensor& x, const ChromaCQTOptions& o = {});

class ChromaSTFT : public nn::UnaryModule {
 public:
  explicit ChromaSTFT(const ChromaSTFTOptions& o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ChromaSTFT"; }

  ChromaSTFTOptions options;
  Tensor window;  // [win_length]
  Tensor fb;      // [n_chroma, n_fft/2+1]
};

class ChromaCQT : public nn::UnaryModule {
 public:
  explicit ChromaCQT(const ChromaCQTOptions& o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ChromaCQT"; }

  ChromaCQTOptions options;
  std::shared_ptr<CQT> cqt;
  Tensor fb;  // [n_chroma, n_bins]
};

}  // namespace fm::audio
