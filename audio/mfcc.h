#pragma once
// Mel-frequency cepstral coefficients as torchaudio 0.13 computes them: the DCT matrix of
// torchaudio.functional.create_dct and the MFCC transform (mel spectrogram -> dB or log ->
// DCT-II), as a function and as an nn module.
#include <string>

#include "audio/features.h"
#include "layers/module.h"
#include "tensor/tensor.h"

namespace fm::audio {

// torchaudio.functional.create_dct: the DCT-II matrix [n_mels, n_mfcc] (transposed, so that
// mel [..., time, n_mels] @ dct gives [..., time, n_mfcc]). norm: "ortho" or "" (none: 2x the
// unnormalised cosines, as torchaudio).
Tensor create_dct(int64_t n_mfcc, int64_t n_mels, const std::string& norm = "ortho", DType dtype = DType::Float32);

struct MFCCOptions {
  int64_t n_mfcc = 40;
  int64_t dct_type = 2;      // only type II, as torchaudio
  std::string norm = "ortho";  // "ortho" or "" (none)
  // false: AmplitudeToDB("power", top_db = 80) of the mel spectrogram (torchaudio's default);
  // true: log(mel + 1e-6).
  bool log_mels = false;
  MelOptions mel;  // torchaudio's sample_rate and melkwargs (defaults: 16 kHz, n_fft 400, 128 mels)
};

// torchaudio.transforms.MFCC as a function: x [..., time] -> [..., n_mfcc, frames].
// As in torchaudio, top_db clamps against the maximum over the last three dims of each item
// (so a [batch, n_mels, frames] input shares one maximum across the batch).
Tensor mfcc(const Tensor& x, const MFCCOptions& o = {});

class MFCC : public nn::UnaryModule {
 public:
  explicit MFCC(const MFCCOptions& o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MFCC"; }

  MFCCOptions options;
  std::shared_ptr<MelSpectrogram> mel_spectrogram;
  std::shared_ptr<AmplitudeToDB> amplitude_to_db;
  Tensor dct_mat;  // [n_mels, n_mfcc]
};

}  // namespace fm::audio
