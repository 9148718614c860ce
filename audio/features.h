#pragma once
// Spectrogram features matching torchaudio 0.13: Spectrogram, mel filterbanks
// (melscale_fbanks), MelScale, MelSpectrogram and AmplitudeToDB, as functions and as nn
// modules with torchaudio's state_dict keys.
#include <memory>
#include <optional>
#include <string>

#include "layers/module.h"
#include "tensor/tensor.h"

namespace fm::audio {

// torchaudio.functional.spectrogram with a Hann window of win_length by default:
// |stft(x)|^power ([..., freq, frames]); power = nullopt returns the complex stft
// ([..., freq, frames, 2]). `pad` zero-pads both sides first; normalized divides by the
// window's L2 norm.
Tensor spectrogram(const Tensor& x, int64_t n_fft = 400, std::optional<int64_t> hop_length = std::nullopt,
                   std::optional<int64_t> win_length = std::nullopt, const Tensor& window = Tensor(),
                   std::optional<double> power = 2.0, bool normalized = false, bool center = true,
                   const std::string& pad_mode = "reflect", bool onesided = true, int64_t pad = 0);

// spectrogram with a real power, laid out [..., frames, freq] (contiguous): what spectrogram
// transposes. A filterbank [freq, bands] applies to it with one GEMM over all frames and no
// transposed copy (the mel, chroma and onset features use it).
Tensor spectrogram_frames(const Tensor& x, int64_t n_fft, std::optional<int64_t> hop_length = std::nullopt,
                          std::optional<int64_t> win_length = std::nullopt, const Tensor& window = Tensor(),
                          double power = 2.0, bool normalized = false, bool center = true,
                          const std::string& pad_mode = "reflect", bool onesided = true, int64_t pad = 0);

// torchaudio.functional.melscale_fbanks: [n_freqs, n_mels]. norm: "" (none) or "slaney";
// mel_scale: "htk" or "slaney".
Tensor melscale_fbanks(int64_t n_freqs, double f_min, double f_max, int64_t n_mels, int64_t sample_rate,
                       const std::string& norm = "", const std::string& mel_scale = "htk",
                       DType dtype = DType::Float32);

// Hz <-> mel (torchaudio's _hz_to_mel / _mel_to_hz).
double hz_to_mel(double hz, const std::string& mel_scale = "htk");
double mel_to_hz(double mel, const std::string& mel_scale = "htk");

// Applies a filterbank fb [freq, n_mels] to spec [..., freq, frames] -> [..., n_mels, frames].
Tensor mel_scale(const Tensor& spec, const Tensor& fb);

struct MelOptions {
  int64_t sample_rate = 16000;
  int64_t n_fft = 400;
  std::optional<int64_t> win_length;
  std::optional<int64_t> hop_length;  // default win_length / 2
  double f_min = 0.0;
  std::optional<double> f_max;  // default sample_rate / 2
  int64_t pad = 0;
  int64_t n_mels = 128;
  double power = 2.0;
  bool normalized = false;
  bool center = true;
  std::string pad_mode = "reflect";
  std::string norm;  // "" or "slaney"
  std::string mel_scale = "htk";
};

// torchaudio.transforms.MelSpectrogram as a function (the window is a periodic Hann).
Tensor mel_spectrogram(const Tensor& x, const MelOptions& o = {});

// torchaudio.functional.amplitude_to_DB: multiplier * log10(max(x, amin)) - multiplier *
// db_multiplier; with top_db, clamped below at (max over the last 3 dims of each item) - top_db.
Tensor amplitude_to_db(const Tensor& x, double multiplier, double amin, double db_multiplier,
                       std::optional<double> top_db = std::nullopt);

// ----- modules -----

class Spectrogram : public nn::UnaryModule {
 public:
  // torchaudio defaults: n_fft 400, win_length n_fft, hop_length win_length / 2, power 2.
  explicit Spectrogram(int64_t n_fft = 400, std::optional<int64_t> win_length = std::nullopt,
                       std::optional<int64_t> hop_length = std::nullopt, int64_t pad = 0,
                       std::optional<double> power = 2.0, bool normalized = false, bool center = true,
                       const std::string& pad_mode = "reflect", bool onesided = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Spectrogram"; }

  int64_t n_fft, win_length, hop_length, pad;
  std::optional<double> power;
  bool normalized, center, onesided;
  std::string pad_mode;
  Tensor window;
};

// torchaudio.transforms.MelScale: spec [..., n_stft, time] -> [..., n_mels, time] through
// the filterbank buffer "fb" [n_stft, n_mels].
class MelScale : public nn::UnaryModule {
 public:
  // torchaudio defaults: 128 mels, 16 kHz, f_max sample_rate / 2, n_stft 201 (n_fft 400).
  explicit MelScale(int64_t n_mels = 128, int64_t sample_rate = 16000, double f_min = 0.0,
                    std::optional<double> f_max = std::nullopt, int64_t n_stft = 201, const std::string& norm = "",
                    const std::string& mel_scale = "htk");
  Tensor forward(const Tensor& spec) override;
  std::string type_name() const override { return "MelScale"; }

  int64_t n_mels, sample_rate;
  double f_min, f_max;
  Tensor fb;  // [n_stft, n_mels]
};

// torchaudio.transforms.MelSpectrogram, with torchaudio's children "spectrogram" (a
// Spectrogram) and "mel_scale" (a MelScale), so the state_dict keys are
// "spectrogram.window" and "mel_scale.fb" as in PyTorch. forward does not run the children:
// it takes the frames-major power and applies fb with one GEMM (see spectrogram_frames).
class MelSpectrogram : public nn::UnaryModule {
 public:
  explicit MelSpectrogram(const MelOptions& o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MelSpectrogram"; }

  MelOptions options;
  int64_t win_length, hop_length;
  std::shared_ptr<Spectrogram> spectrogram;
  std::shared_ptr<MelScale> mel_scale;
  // handles to the children's buffers (load_state_dict and to() update them in place)
  Tensor window;
  Tensor fb;  // [n_freqs, n_mels]
};

class AmplitudeToDB : public nn::UnaryModule {
 public:
  // stype "power" (multiplier 10) or "magnitude" (20); amin 1e-10, ref 1.
  explicit AmplitudeToDB(const std::string& stype = "power", std::optional<double> top_db = std::nullopt);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AmplitudeToDB"; }

  double multiplier, amin = 1e-10, db_multiplier = 0.0;
  std::optional<double> top_db;
};

}  // namespace fm::audio
