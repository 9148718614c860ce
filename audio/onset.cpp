#include "audio/onset.h"

#include "audio/features.h"
#include "audio/stft.h"
#include "autograd/elementwise.h"
#include "autograd/linalg.h"
#include "autograd/reduce.h"
#include "autograd/shape.h"
#include "autograd/views.h"

namespace fm::audio {
namespace {

void check_options(const char* op, const OnsetStrengthOptions& o) {
  FM_CHECK(o.lag >= 1, op, ": lag must be at least 1, got ", o.lag);
  FM_CHECK(o.max_size >= 1, op, ": max_size must be at least 1, got ", o.max_size);
  FM_CHECK(o.hop_length > 0 && o.n_fft > 0, op, ": n_fft and hop_length must be positive, got ", o.n_fft, ", ",
           o.hop_length);
}

Tensor fbank(const OnsetStrengthOptions& o, DType dtype) {
  return melscale_fbanks(o.n_fft / 2 + 1, o.f_min, o.f_max.value_or(0.5 * static_cast<double>(o.sample_rate)),
                         o.n_mels, o.sample_rate, "slaney", "slaney", dtype);
}

// power_to_db per item of [..., bands, frames] (librosa: ref 1, amin 1e-10)
Tensor power_to_db(const Tensor& mel, std::optional<double> top_db) {
  const Shape shape = mel.sizes();
  Tensor m = reshape(mel, {-1, 1, shape[shape.size() - 2], shape.back()});
  return reshape(amplitude_to_db(m, 10.0, 1e-10, 0.0, top_db), shape);
}

// scipy.ndimage.maximum_filter1d(S, size, axis=-2) with mode "reflect" (edges repeated)
Tensor maximum_filter_bands(const Tensor& S, int64_t size) {
  const int64_t n = S.sizes()[S.dim() - 2];
  const int64_t before = size / 2, after = size - 1 - before;
  std::vector<Tensor> parts;
  auto mirrored = [&](int64_t from, int64_t to) {  // rows [from, to) flipped
    return flip(slice(S, -2, from, to), {S.dim() - 2});
  };
  FM_CHECK(before <= n && after <= n, "onset_strength: max_size ", size, " is larger than twice the ", n, " bands");
  if (before > 0) parts.push_back(mirrored(0, before));
  parts.push_back(S);
  if (after > 0) parts.push_back(mirrored(n - after, n));
  Tensor P = cat(parts, -2);
  Tensor r = slice(P, -2, 0, n);
  for (int64_t j = 1; j < size; ++j) r = maximum(r, slice(P, -2, j, j + n));
  return r;
}

}  // namespace

Tensor onset_strength_from_db(const Tensor& S, const OnsetStrengthOptions& o) {
  check_options("onset_strength", o);
  FM_CHECK(S.dim() >= 2, "onset_strength: expected a spectrogram [..., bands, frames], got shape ",
           shape_str(S.sizes()));
  const int64_t T = S.sizes().back();
  FM_CHECK(T > o.lag, "onset_strength: ", T, " frames are not more than lag = ", o.lag);
  const Tensor ref = o.max_size == 1 ? S : maximum_filter_bands(S, o.max_size);
  Tensor flux = relu(sub(slice(S, -1, o.lag, T), slice(ref, -1, 0, T - o.lag)));
  Tensor env = mean(flux, {-2});  // [..., T - lag]
  int64_t shift = o.lag;
  if (o.center) shift += o.n_fft / (2 * o.hop_length);
  env = pad(env, {shift, 0});
  return o.center ? slice(env, -1, 0, T) : env;
}

Tensor onset_strength(const Tensor& x, const OnsetStrengthOptions& o) {
  check_options("onset_strength", o);
  FM_CHECK(x.is_floating_point(), "onset_strength: expected a float32 or float64 input, got ", x.dtype());
  Tensor spec = spectrogram_frames(x, o.n_fft, o.hop_length, o.n_fft, hann_window(o.n_fft, true, x.dtype()), 2.0,
                                   false, true, o.pad_mode);
  return onset_strength_from_db(power_to_db(transpose(matmul(spec, fbank(o, x.dtype())), -1, -2), o.top_db), o);
}

OnsetStrength::OnsetStrength(const OnsetStrengthOptions& o) : options(o) {
  check_options("OnsetStrength", o);
  window = register_buffer("window", hann_window(o.n_fft, true));
  fb = register_buffer("fb", fbank(o, DType::Float32));
}

Tensor OnsetStrength::forward(const Tensor& x) {
  const auto& o = options;
  Tensor spec = spectrogram_frames(x, o.n_fft, o.hop_length, o.n_fft, window, 2.0, false, true, o.pad_mode);
  return onset_strength_from_db(power_to_db(transpose(matmul(spec, fb), -1, -2), o.top_db), o);
}

}  // namespace fm::audio
