#pragma once
// Time stretching and pitch shifting by phase vocoder (torchaudio.functional.phase_vocoder,
// torchaudio.functional.pitch_shift), on complex spectrograms with a trailing dimension of 2.
#include <cstdint>
#include <optional>

#include "audio/resample.h"
#include "layers/module.h"
#include "tensor/tensor.h"

namespace fm::audio {

// torchaudio.functional.phase_vocoder: spec [..., freq, frames, 2] -> [..., freq,
// ceil(frames / rate), 2], sped up by `rate` (> 1 shortens) without changing the pitch.
// phase_advance [freq] or [freq, 1] is the expected phase advance per hop of each bin
// (linspace(0, pi * hop_length, freq)). Output frame i interpolates the magnitudes of input
// frames floor(i*rate) and floor(i*rate)+1 and accumulates their wrapped phase differences.
// Not differentiable: an augmentation of data (the result is a new leaf).
Tensor phase_vocoder(const Tensor& spec, double rate, const Tensor& phase_advance);

// linspace(0, pi * hop_length, n_freq) in `dtype`: the phase_advance of an STFT with that hop.
Tensor phase_advance(int64_t n_freq, int64_t hop_length, DType dtype = DType::Float32);

// A waveform [..., time] sped up by `rate` keeping its pitch: stft (center, reflect, Hann of
// win_length unless a window is given), phase_vocoder, istft to round(time / rate) samples.
// hop_length defaults to n_fft / 4 as in torchaudio's pitch_shift.
Tensor time_stretch(const Tensor& waveform, double rate, int64_t n_fft = 512,
                    std::optional<int64_t> win_length = std::nullopt,
                    std::optional<int64_t> hop_length = std::nullopt, const Tensor& window = Tensor());

// torchaudio.functional.pitch_shift: raises the pitch by n_steps / bins_per_octave octaves
// (fractional steps allowed) keeping the length: time_stretch by rate = 2^(-n_steps /
// bins_per_octave) to round(time / rate) samples, resample from int(sample_rate / rate) to
// sample_rate (audio/resample.h), then crop or zero-pad to the input's length. By default
// torchaudio's own resampler (SincHann), so the result is torchaudio's pitch_shift; it is also
// ~25x faster than libsamplerate's Medium sinc (whose Best took longer than the stretch itself).
Tensor pitch_shift(const Tensor& waveform, int64_t sample_rate, double n_steps, int64_t bins_per_octave = 12,
                   int64_t n_fft = 512, std::optional<int64_t> win_length = std::nullopt,
                   std::optional<int64_t> hop_length = std::nullopt, const Tensor& window = Tensor(),
                   ResampleQuality quality = ResampleQuality::SincHann);

// torchaudio.transforms.TimeStretch: phase_vocoder on complex spectrograms [..., n_freq,
// frames, 2] at fixed_rate or a rate given to forward; hop_length defaults to n_fft / 2 with
// n_fft = 2 * (n_freq - 1). phase_advance is a buffer as in torchaudio.
class TimeStretch : public nn::UnaryModule {
 public:
  explicit TimeStretch(std::optional<int64_t> hop_length = std::nullopt, int64_t n_freq = 201,
                       std::optional<double> fixed_rate = std::nullopt);
  Tensor forward(const Tensor& spec) override;
  Tensor forward(const Tensor& spec, double rate);
  std::string type_name() const override { return "TimeStretch"; }

  std::optional<double> fixed_rate;
  Tensor phase_advance;  // [n_freq, 1]
};

// torchaudio.transforms.PitchShift: pitch_shift by n_steps with a Hann window of win_length.
class PitchShift : public nn::UnaryModule {
 public:
  explicit PitchShift(int64_t sample_rate, double n_steps, int64_t bins_per_octave = 12, int64_t n_fft = 512,
                      std::optional<int64_t> win_length = std::nullopt,
                      std::optional<int64_t> hop_length = std::nullopt,
                      ResampleQuality quality = ResampleQuality::SincHann);
  Tensor forward(const Tensor& waveform) override;
  std::string type_name() const override { return "PitchShift"; }

  int64_t sample_rate;
  double n_steps;
  int64_t bins_per_octave, n_fft, win_length, hop_length;
  ResampleQuality quality;
  Tensor window;
};

}  // namespace fm::audio
