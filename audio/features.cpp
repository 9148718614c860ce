#include "audio/features.h"

#include <cmath>
#include <vector>

#include "audio/stft.h"
#include "autograd/elementwise.h"
#include "autograd/linalg.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "tensor/dtype.h"
#include "tensor/factory.h"

namespace fm::audio {
namespace {

// re^2 + im^2 of z [..., 2] in one pass (the gradient is 2 z g). On a device, the same from
// differentiable ops (a square and a sum over the last dim run as CUDA kernels).
Tensor complex_power(const Tensor& z0) {
  if (!z0.device().is_cpu()) return sum(mul(z0, z0), {-1});
  const Tensor z = contiguous_raw(z0);
  const Shape os(z.sizes().begin(), z.sizes().end() - 1);
  Tensor y = empty(os, {.dtype = z.dtype()});
  const int64_t n = y.numel();
  dispatch_floating(z.dtype(), "spectrogram", [&]<class T>() {
    const T* in = z.data_ptr<T>();
    T* out = y.data_ptr<T>();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) out[i] = in[2 * i] * in[2 * i] + in[2 * i + 1] * in[2 * i + 1];
  });
  if (autograd::grad_enabled() && autograd::any_requires_grad({z0})) {
    autograd::record("PowerBackward", {z0}, {y}, [z0](const autograd::tensor_list& g) {
      if (autograd::grad_enabled()) return autograd::tensor_list{mul(z0, unsqueeze(mul(g[0], 2.0), -1))};
      // first-order backward: one fused pass (the broadcast over the trailing 2 is slow)
      const Tensor z = contiguous_raw(z0), gy = contiguous_raw(g[0]);
      Tensor dz = empty(z.sizes(), {.dtype = z.dtype()});
      const int64_t n = gy.numel();
      dispatch_floating(z.dtype(), "spectrogram", [&]<class T>() {
        const T* zi = z.data_ptr<T>();
        const T* gi = gy.data_ptr<T>();
        T* out = dz.data_ptr<T>();
#pragma omp parallel for schedule(static) if (n > 65536)
        for (int64_t i = 0; i < n; ++i) {
          out[2 * i] = 2 * gi[i] * zi[2 * i];
          out[2 * i + 1] = 2 * gi[i] * zi[2 * i + 1];
        }
      });
      return autograd::tensor_list{dz};
    });
  }
  return y;
}

}  // namespace

Tensor spectrogram_frames(const Tensor& x, int64_t n_fft, std::optional<int64_t> hop_length,
                          std::optional<int64_t> win_length, const Tensor& window, double power, bool normalized,
                          bool center, const std::string& pad_mode, bool onesided, int64_t padding) {
  FM_CHECK(power > 0, "spectrogram: power must be positive, got ", power);
  const int64_t wl = win_length.value_or(n_fft);
  const int64_t hop = hop_length.value_or(wl / 2);
  const Tensor w = window.defined() ? window : hann_window(wl, true, x.dtype());
  Tensor xs = padding > 0 ? pad(x, {padding, padding}) : x;
  Tensor p2 = complex_power(stft_frames(xs, n_fft, hop, wl, w, center, pad_mode, false, onesided));
  if (normalized) p2 = div(p2, sum(mul(w, w)));
  if (power == 2.0) return p2;
  return power == 1.0 ? sqrt(p2) : pow(p2, power / 2.0);
}

Tensor spectrogram(const Tensor& x, int64_t n_fft, std::optional<int64_t> hop_length,
                   std::optional<int64_t> win_length, const Tensor& window, std::optional<double> power,
                   bool normalized, bool center, const std::string& pad_mode, bool onesided, int64_t padding) {
  if (power) {
    return contiguous(transpose(spectrogram_frames(x, n_fft, hop_length, win_length, window, *power, normalized,
                                                   center, pad_mode, onesided, padding),
                                -1, -2));
  }
  const int64_t wl = win_length.value_or(n_fft);
  const int64_t hop = hop_length.value_or(wl / 2);
  const Tensor w = window.defined() ? window : hann_window(wl, true, x.dtype());
  Tensor spec = stft(padding > 0 ? pad(x, {padding, padding}) : x, n_fft, hop, wl, w, center, pad_mode, false,
                     onesided);
  return normalized ? div(spec, sqrt(sum(mul(w, w)))) : spec;
}

double hz_to_mel(double f, const std::string& scale) {
  if (scale == "htk") return 2595.0 * std::log10(1.0 + f / 700.0);
  FM_CHECK(scale == "slaney", "hz_to_mel: mel_scale must be \"htk\" or \"slaney\", got \"", scale, "\"");
  const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  double mels = f / f_sp;
  if (f >= min_log_hz) mels = min_log_mel + std::log(f / min_log_hz) / logstep;
  return mels;
}

double mel_to_hz(double m, const std::string& scale) {
  if (scale == "htk") return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0);
  FM_CHECK(scale == "slaney", "mel_to_hz: mel_scale must be \"htk\" or \"slaney\", got \"", scale, "\"");
  const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  if (m >= min_log_mel) return min_log_hz * std::exp(logstep * (m - min_log_mel));
  return f_sp * m;
}

Tensor melscale_fbanks(int64_t n_freqs, double f_min, double f_max, int64_t n_mels, int64_t sample_rate,
                       const std::string& norm, const std::string& mel_scale, DType dtype) {
  FM_CHECK(norm.empty() || norm == "slaney", "melscale_fbanks: norm must be none or \"slaney\", got \"", norm, "\"");
  FM_CHECK(n_freqs > 0 && n_mels > 0, "melscale_fbanks: n_freqs and n_mels must be positive, got ", n_freqs, ", ",
           n_mels);
  auto linspace = [](double a, double b, int64_t n) {
    std::vector<double> v(static_cast<size_t>(n));
    if (n == 1) {
      v[0] = a;
      return v;
    }
    const double step = (b - a) / static_cast<double>(n - 1);
    // torch.linspace fills the first half from the start and the second from the end
    const int64_t half = n / 2;
    for (int64_t i = 0; i < n; ++i)
      v[i] = i < half ? a + step * static_cast<double>(i) : b - step * static_cast<double>(n - 1 - i);
    return v;
  };
  const auto all_freqs = linspace(0.0, static_cast<double>(sample_rate / 2), n_freqs);
  const double m_min = hz_to_mel(f_min, mel_scale), m_max = hz_to_mel(f_max, mel_scale);
  const auto m_pts = linspace(m_min, m_max, n_mels + 2);
  std::vector<double> f_pts(m_pts.size());
  for (size_t i = 0; i < m_pts.size(); ++i) f_pts[i] = mel_to_hz(m_pts[i], mel_scale);
  std::vector<double> fb(static_cast<size_t>(n_freqs * n_mels));
  for (int64_t i = 0; i < n_freqs; ++i)
    for (int64_t m = 0; m < n_mels; ++m) {
      const double down = -(f_pts[m] - all_freqs[i]) / (f_pts[m + 1] - f_pts[m]);
      const double up = (f_pts[m + 2] - all_freqs[i]) / (f_pts[m + 2] - f_pts[m + 1]);
      double v = std::max(0.0, std::min(down, up));
      if (norm == "slaney") v *= 2.0 / (f_pts[m + 2] - f_pts[m]);
      fb[i * n_mels + m] = v;
    }
  Tensor t = from_vector(fb, {n_freqs, n_mels});
  return dtype == DType::Float64 ? t : to(t, dtype);
}

Tensor mel_scale(const Tensor& spec, const Tensor& fb) {
  FM_CHECK(spec.dim() >= 2 && fb.dim() == 2 && spec.sizes()[spec.dim() - 2] == fb.sizes()[0],
           "mel_scale: spectrogram [..., freq, frames] of shape ", shape_str(spec.sizes()),
           " does not match filterbank [freq, n_mels] of shape ", shape_str(fb.sizes()));
  return transpose(matmul(transpose(spec, -1, -2), fb), -1, -2);
}

Tensor mel_spectrogram(const Tensor& x, const MelOptions& o) {
  const int64_t wl = o.win_length.value_or(o.n_fft);
  const int64_t hop = o.hop_length.value_or(wl / 2);
  Tensor spec = spectrogram_frames(x, o.n_fft, hop, wl, hann_window(wl, true, x.dtype()), o.power, o.normalized,
                                   o.center, o.pad_mode, true, o.pad);
  Tensor fb = melscale_fbanks(o.n_fft / 2 + 1, o.f_min, o.f_max.value_or(static_cast<double>(o.sample_rate / 2)),
                              o.n_mels, o.sample_rate, o.norm, o.mel_scale, x.dtype());
  return transpose(matmul(spec, fb), -1, -2);
}

Tensor amplitude_to_db(const Tensor& x, double multiplier, double amin, double db_multiplier,
                       std::optional<double> top_db) {
  Tensor db = mul(log(clamp(x, amin, std::nullopt)), multiplier / std::log(10.0));
  if (db_multiplier != 0.0) db = add(db, -multiplier * db_multiplier);
  if (!top_db) return db;
  const Shape shape = x.sizes();
  const int64_t d = x.dim();
  FM_CHECK(d >= 2, "amplitude_to_db: top_db needs at least [freq, time], got shape ", shape_str(shape));
  const int64_t packed = d > 2 ? shape[d - 3] : 1;
  Tensor r = reshape(db, {-1, packed, shape[d - 2], shape[d - 1]});
  Tensor floor = add(amax(r, {-3, -2, -1}, true), -*top_db);
  return reshape(maximum(r, floor), shape);
}

// ----- modules -----

Spectrogram::Spectrogram(int64_t n_fft_, std::optional<int64_t> win_length_, std::optional<int64_t> hop_length_,
                         int64_t pad_, std::optional<double> power_, bool normalized_, bool center_,
                         const std::string& pad_mode_, bool onesided_)
    : n_fft(n_fft_),
      win_length(win_length_.value_or(n_fft_)),
      hop_length(hop_length_.value_or(win_length_.value_or(n_fft_) / 2)),
      pad(pad_),
      power(power_),
      normalized(normalized_),
      center(center_),
      onesided(onesided_),
      pad_mode(pad_mode_) {
  window = register_buffer("window", hann_window(win_length, true));
}

Tensor Spectrogram::forward(const Tensor& x) {
  return spectrogram(x, n_fft, hop_length, win_length, window, power, normalized, center, pad_mode, onesided, pad);
}

MelScale::MelScale(int64_t n_mels_, int64_t sample_rate_, double f_min_, std::optional<double> f_max_, int64_t n_stft,
                   const std::string& norm, const std::string& mel_scale)
    : n_mels(n_mels_),
      sample_rate(sample_rate_),
      f_min(f_min_),
      f_max(f_max_.value_or(static_cast<double>(sample_rate_ / 2))) {
  FM_CHECK(f_min <= f_max, "MelScale: f_min (", f_min, ") must not exceed f_max (", f_max, ")");
  fb = register_buffer("fb", melscale_fbanks(n_stft, f_min, f_max, n_mels, sample_rate, norm, mel_scale));
}

Tensor MelScale::forward(const Tensor& spec) { return audio::mel_scale(spec, fb); }

MelSpectrogram::MelSpectrogram(const MelOptions& o)
    : options(o), win_length(o.win_length.value_or(o.n_fft)), hop_length(o.hop_length.value_or(win_length / 2)) {
  spectrogram = register_module("spectrogram", std::make_shared<Spectrogram>(o.n_fft, win_length, hop_length, o.pad,
                                                                             o.power, o.normalized, o.center,
                                                                             o.pad_mode, true));
  mel_scale = register_module("mel_scale", std::make_shared<MelScale>(o.n_mels, o.sample_rate, o.f_min, o.f_max,
                                                                      o.n_fft / 2 + 1, o.norm, o.mel_scale));
  window = spectrogram->window;
  fb = mel_scale->fb;
}

Tensor MelSpectrogram::forward(const Tensor& x) {
  const auto& o = options;
  // frames-major power @ fb: one GEMM over every frame of the batch, no transposed copies
  Tensor spec = spectrogram_frames(x, o.n_fft, hop_length, win_length, window, o.power, o.normalized, o.center,
                                   o.pad_mode, true, o.pad);
  return transpose(matmul(spec, fb), -1, -2);
}

AmplitudeToDB::AmplitudeToDB(const std::string& stype, std::optional<double> top_db_) : top_db(top_db_) {
  FM_CHECK(stype == "power" || stype == "magnitude", "AmplitudeToDB: stype must be \"power\" or \"magnitude\", got \"",
           stype, "\"");
  multiplier = stype == "power" ? 10.0 : 20.0;
  db_multiplier = std::log10(std::max(amin, 1.0));
}

Tensor AmplitudeToDB::forward(const Tensor& x) { return amplitude_to_db(x, multiplier, amin, db_multiplier, top_db); }

}  // namespace fm::audio
