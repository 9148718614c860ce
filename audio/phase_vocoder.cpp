#include "audio/phase_vocoder.h"

#include <cmath>
#include <numbers>
#include <vector>

#include "audio/resample.h"
#include "audio/stft.h"
#include "autograd/node.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "tensor/dtype.h"
#include "tensor/factory.h"

namespace fm::audio {

Tensor phase_advance(int64_t n_freq, int64_t hop_length, DType dtype) {
  FM_CHECK(n_freq > 0 && hop_length > 0, "phase_advance: n_freq and hop_length must be positive, got ", n_freq, ", ",
           hop_length);
  return linspace(0.0, std::numbers::pi * static_cast<double>(hop_length), n_freq, {.dtype = dtype});
}

Tensor phase_vocoder(const Tensor& spec, double rate, const Tensor& advance) {
  FM_CHECK(spec.dim() >= 3 && spec.sizes().back() == 2,
           "phase_vocoder: expected a complex spectrogram [..., freq, frames, 2], got shape ", shape_str(spec.sizes()));
  FM_CHECK(spec.is_floating_point(), "phase_vocoder: expected float32 or float64, got ", spec.dtype());
  FM_CHECK(std::isfinite(rate) && rate > 0, "phase_vocoder: rate must be positive, got ", rate);
  const int64_t nfreq = spec.sizes()[spec.dim() - 3], nf = spec.sizes()[spec.dim() - 2];
  FM_CHECK(advance.defined() && advance.numel() == nfreq && (advance.dim() == 1 || advance.dim() == 2),
           "phase_vocoder: phase_advance must be [freq] or [freq, 1] with freq = ", nfreq, ", got ",
           advance.defined() ? shape_str(advance.sizes()) : std::string("an undefined tensor"));
  if (rate == 1.0) return spec.detach();
  // torch.arange(0, frames, rate): ceil(frames / rate) steps, each i*rate rounded to the dtype
  const int64_t out_frames = static_cast<int64_t>(std::ceil(static_cast<double>(nf) / rate));
  Shape os(spec.sizes().begin(), spec.sizes().end() - 2);
  os.push_back(out_frames);
  os.push_back(2);
  if (spec.numel() == 0) return zeros(os, {.dtype = spec.dtype()});
  // read through the strides: stft's output is a transposed view, and copying it costs more
  // than the vocoder's arithmetic
  const Tensor x = reshape(spec.detach(), {-1, nfreq, nf, 2});
  const int64_t batch = x.sizes()[0];
  const int64_t sb = x.strides()[0], sk = x.strides()[1], sf = x.strides()[2], sc = x.strides()[3];
  Tensor y = empty(os, {.dtype = spec.dtype()});
  const Tensor adv = contiguous_raw(to(advance.detach(), DType::Float64));
  const double* ap = adv.data_ptr<double>();
  dispatch_floating(spec.dtype(), "phase_vocoder", [&]<class T>() {
    const T* in = x.data_ptr<T>();
    T* out = y.data_ptr<T>();
    std::vector<T> steps(static_cast<size_t>(out_frames));
    for (int64_t i = 0; i < out_frames; ++i) steps[i] = static_cast<T>(static_cast<double>(i) * rate);
    const T two_pi = static_cast<T>(2 * std::numbers::pi);
#pragma omp parallel for schedule(static) if (batch * nfreq > 64)
    for (int64_t r = 0; r < batch * nfreq; ++r) {
      const T* row = in + (r / nfreq) * sb + (r % nfreq) * sk;
      T* dst = out + r * out_frames * 2;
      const T a = static_cast<T>(ap[r % nfreq]);
      // each input frame's angle and magnitude once; the frames past the end are zeros
      // (torchaudio pads two empty frames)
      std::vector<T> angle(static_cast<size_t>(nf + 2), T(0)), norm(static_cast<size_t>(nf + 2), T(0));
      for (int64_t f = 0; f < nf; ++f) {
        const T re = row[f * sf], im = row[f * sf + sc];
        angle[f] = std::atan2(im, re);
        norm[f] = std::sqrt(re * re + im * im);
      }
      // the accumulated phase starts at frame 0's and adds each step's instantaneous advance
      double acc = static_cast<double>(angle[0]);
      for (int64_t i = 0; i < out_frames; ++i) {
        const T t = steps[i];
        const auto f = static_cast<int64_t>(t);
        const T alpha = t - std::floor(t);
        const T mag = alpha * norm[f + 1] + (T(1) - alpha) * norm[f];
        const T ph = static_cast<T>(acc);
        dst[2 * i] = mag * std::cos(ph);
        dst[2 * i + 1] = mag * std::sin(ph);
        T d = angle[f + 1] - angle[f] - a;
        d = d - two_pi * std::nearbyint(d / two_pi);
        acc += static_cast<double>(d + a);
      }
    }
  });
  return y;
}

Tensor time_stretch(const Tensor& waveform, double rate, int64_t n_fft, std::optional<int64_t> win_length,
                    std::optional<int64_t> hop_length, const Tensor& window) {
  FM_CHECK(waveform.dim() >= 1 && waveform.is_floating_point(),
           "time_stretch: expected a float32 or float64 waveform [..., time], got ", waveform.describe());
  FM_CHECK(std::isfinite(rate) && rate > 0, "time_stretch: rate must be positive, got ", rate);
  NoGradGuard ng;
  const int64_t wl = win_length.value_or(n_fft);
  const int64_t hop = hop_length.value_or(n_fft / 4);
  const Tensor w = window.defined() ? window : hann_window(wl, true, waveform.dtype());
  const int64_t T = waveform.sizes().back();
  const auto len = static_cast<int64_t>(std::nearbyint(static_cast<double>(T) / rate));
  Tensor spec = stft(waveform, n_fft, hop, wl, w, true, "reflect");
  spec = phase_vocoder(spec, rate, phase_advance(n_fft / 2 + 1, hop, waveform.dtype()));
  return istft(spec, n_fft, hop, wl, w, true, false, true, len);
}

Tensor pitch_shift(const Tensor& waveform, int64_t sample_rate, double n_steps, int64_t bins_per_octave,
                   int64_t n_fft, std::optional<int64_t> win_length, std::optional<int64_t> hop_length,
                   const Tensor& window, ResampleQuality quality) {
  FM_CHECK(waveform.dim() >= 1 && waveform.is_floating_point(),
           "pitch_shift: expected a float32 or float64 waveform [..., time], got ", waveform.describe());
  FM_CHECK(sample_rate > 0 && bins_per_octave > 0,
           "pitch_shift: sample_rate and bins_per_octave must be positive, got ", sample_rate, ", ", bins_per_octave);
  FM_CHECK(std::isfinite(n_steps), "pitch_shift: n_steps must be finite, got ", n_steps);
  NoGradGuard ng;
  const double rate = std::pow(2.0, -n_steps / static_cast<double>(bins_per_octave));
  const Tensor stretched = time_stretch(waveform, rate, n_fft, win_length, hop_length, window);
  const auto orig = static_cast<int64_t>(static_cast<double>(sample_rate) / rate);
  const Tensor shifted = orig == sample_rate ? stretched : resample(stretched, orig, sample_rate, quality);
  const int64_t T = waveform.sizes().back(), got = shifted.sizes().back();
  return got >= T ? slice(shifted, -1, 0, T) : pad(shifted, {0, T - got});
}

// ----- modules -----

TimeStretch::TimeStretch(std::optional<int64_t> hop_length, int64_t n_freq, std::optional<double> rate)
    : fixed_rate(rate) {
  FM_CHECK(n_freq > 1, "TimeStretch: n_freq must be at least 2, got ", n_freq);
  const int64_t n_fft = (n_freq - 1) * 2;
  phase_advance = register_buffer(
      "phase_advance", unsqueeze(audio::phase_advance(n_freq, hop_length.value_or(n_fft / 2)), 1));
}

Tensor TimeStretch::forward(const Tensor& spec) {
  FM_CHECK(fixed_rate.has_value(), "TimeStretch: no fixed_rate was given, so forward needs a rate");
  return forward(spec, *fixed_rate);
}

Tensor TimeStretch::forward(const Tensor& spec, double rate) {
  return phase_vocoder(spec, rate, phase_advance);
}

PitchShift::PitchShift(int64_t sr, double steps, int64_t bpo, int64_t n_fft_, std::optional<int64_t> wl,
                       std::optional<int64_t> hop, ResampleQuality q)
    : sample_rate(sr),
      n_steps(steps),
      bins_per_octave(bpo),
      n_fft(n_fft_),
      win_length(wl.value_or(n_fft_)),
      hop_length(hop.value_or(win_length / 4)),
      quality(q) {
  window = register_buffer("window", hann_window(win_length, true));
}

Tensor PitchShift::forward(const Tensor& waveform) {
  const Tensor w = window.dtype() == waveform.dtype() ? window : fm::to(window, waveform.dtype());
  return pitch_shift(waveform, sample_rate, n_steps, bins_per_octave, n_fft, win_length, hop_length, w, quality);
}

}  // namespace fm::audio
