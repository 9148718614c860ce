#include "audio/chroma.h"

#include <cmath>
#include <limits>
#include <vector>

#include "audio/features.h"
#include "audio/stft.h"
#include "autograd/elementwise.h"
#include "autograd/linalg.h"
#include "autograd/reduce.h"
#include "autograd/views.h"
#include "tensor/factory.h"

namespace fm::audio {
namespace {

Tensor as_dtype(const std::vector<double>& v, const Shape& shape, DType dtype) {
  Tensor t = from_vector(v, shape);
  return dtype == DType::Float64 ? t : to(t, dtype);
}

// numpy's remainder: the result has the divisor's sign
double py_mod(double a, double b) { return a - b * std::floor(a / b); }

void check_norm(const char* op, std::optional<double> norm) {
  FM_CHECK(!norm || *norm == 1.0 || *norm == 2.0 || std::isinf(*norm), op,
           ": norm must be 1, 2, inf or none, got ", *norm);
}

}  // namespace

Tensor chroma_filterbank(int64_t sample_rate, int64_t n_fft, int64_t n_chroma, double tuning, double ctroct,
                         std::optional<double> octwidth, std::optional<double> norm, bool base_c, DType dtype) {
  FM_CHECK(sample_rate > 0 && n_fft > 1 && n_chroma > 0, "chroma_filterbank: expected positive sample_rate, n_chroma "
           "and n_fft > 1, got ", sample_rate, ", ", n_chroma, ", ", n_fft);
  check_norm("chroma_filterbank", norm);
  const double nc = static_cast<double>(n_chroma), sr = static_cast<double>(sample_rate);
  const double a440 = 440.0 * std::pow(2.0, tuning / nc);
  std::vector<double> frqbins(static_cast<size_t>(n_fft));
  for (int64_t i = 1; i < n_fft; ++i)
    frqbins[i] = nc * std::log2(static_cast<double>(i) * sr / static_cast<double>(n_fft) / (a440 / 16.0));
  // librosa's stand-in for 0 Hz: 1.5 octaves below bin 1
  frqbins[0] = frqbins[1] - 1.5 * nc;
  std::vector<double> width(static_cast<size_t>(n_fft), 1.0);
  for (int64_t i = 0; i + 1 < n_fft; ++i) width[i] = std::max(frqbins[i + 1] - frqbins[i], 1.0);
  const double half = std::nearbyint(nc / 2.0);
  std::vector<double> w(static_cast<size_t>(n_chroma * n_fft));
  for (int64_t c = 0; c < n_chroma; ++c)
    for (int64_t i = 0; i < n_fft; ++i) {
      const double d = py_mod(frqbins[i] - static_cast<double>(c) + half + 10.0 * nc, nc) - half;
      const double z = 2.0 * d / width[i];
      w[c * n_fft + i] = std::exp(-0.5 * z * z);
    }
  for (int64_t i = 0; i < n_fft; ++i) {
    if (norm) {
      double len = 0;
      for (int64_t c = 0; c < n_chroma; ++c) {
        const double a = std::abs(w[c * n_fft + i]);
        len = std::isinf(*norm) ? std::max(len, a) : *norm == 1.0 ? len + a : len + a * a;
      }
      if (*norm == 2.0) len = std::sqrt(len);
      if (len < std::numeric_limits<double>::min()) len = 1.0;
      for (int64_t c = 0; c < n_chroma; ++c) w[c * n_fft + i] /= len;
    }
    if (octwidth) {
      const double z = (frqbins[i] / nc - ctroct) / *octwidth;
      const double g = std::exp(-0.5 * z * z);
      for (int64_t c = 0; c < n_chroma; ++c) w[c * n_fft + i] *= g;
    }
  }
  const int64_t bins = n_fft / 2 + 1, shift = base_c ? 3 * (n_chroma / 12) : 0;
  std::vector<double> out(static_cast<size_t>(n_chroma * bins));
  for (int64_t c = 0; c < n_chroma; ++c)
    for (int64_t i = 0; i < bins; ++i) out[c * bins + i] = w[((c + shift) % n_chroma) * n_fft + i];
  return as_dtype(out, {n_chroma, bins}, dtype);
}

Tensor cq_to_chroma(int64_t n_input, int64_t bins_per_octave, int64_t n_chroma, double fmin, bool base_c,
                    DType dtype) {
  FM_CHECK(n_input > 0 && n_chroma > 0 && bins_per_octave > 0 && bins_per_octave % n_chroma == 0,
           "cq_to_chroma: bins_per_octave (", bins_per_octave, ") must be a positive multiple of n_chroma (", n_chroma,
           "), n_input (", n_input, ") positive");
  FM_CHECK(fmin > 0, "cq_to_chroma: fmin must be positive, got ", fmin);
  const int64_t merge = bins_per_octave / n_chroma;
  const double midi0 = py_mod(12.0 * (std::log2(fmin) - std::log2(440.0)) + 69.0, 12.0);
  const auto roll =
      static_cast<int64_t>(std::nearbyint((base_c ? midi0 : midi0 - 9.0) * static_cast<double>(n_chroma) / 12.0));
  std::vector<double> m(static_cast<size_t>(n_chroma * n_input), 0.0);
  for (int64_t j = 0; j < n_input; ++j) {
    // identity repeated `merge` times, rolled left by merge/2 to centre each pitch class,
    // tiled over octaves, then rolled down by the first bin's pitch class
    const int64_t c0 = ((j + merge / 2) % bins_per_octave) / merge;
    const int64_t c = ((c0 + roll) % n_chroma + n_chroma) % n_chroma;
    m[c * n_input + j] = 1.0;
  }
  return as_dtype(m, {n_chroma, n_input}, dtype);
}

Tensor normalize(const Tensor& x, double norm, int64_t dim) {
  check_norm("normalize", norm);
  Tensor len = std::isinf(norm) ? amax(abs(x), {dim}, true)
               : norm == 1.0    ? sum(abs(x), {dim}, true)
                                : sqrt(sum(mul(x, x), {dim}, true));
  const double tiny = x.dtype() == DType::Float64 ? std::numeric_limits<double>::min()
                                                  : static_cast<double>(std::numeric_limits<float>::min());
  len = where(lt(len, tiny), ones_like(len), len);
  return div(x, len);
}

namespace {

Tensor chroma_stft_with(const Tensor& x, const ChromaSTFTOptions& o, const Tensor& window, const Tensor& fb) {
  const int64_t wl = o.win_length.value_or(o.n_fft);
  Tensor S = spectrogram_frames(x, o.n_fft, o.hop_length, wl, window, o.power, false, o.center, o.pad_mode);
  Tensor c = transpose(matmul(S, t(fb)), -1, -2);  // [..., n_chroma, frames]
  return o.norm ? normalize(c, *o.norm, -2) : c;
}

Tensor chroma_cqt_with(const Tensor& C, const ChromaCQTOptions& o, const Tensor& fb) {
  Tensor c = mel_scale(C, t(fb));
  return o.norm ? normalize(c, *o.norm, -2) : c;
}

}  // namespace

Tensor chroma_stft(const Tensor& x, const ChromaSTFTOptions& o) {
  check_norm("chroma_stft", o.norm);
  FM_CHECK(x.is_floating_point(), "chroma_stft: expected a float32 or float64 input, got ", x.dtype());
  const int64_t wl = o.win_length.value_or(o.n_fft);
  return chroma_stft_with(x, o, hann_window(wl, true, x.dtype()),
                          chroma_filterbank(o.sample_rate, o.n_fft, o.n_chroma, o.tuning, o.ctroct, o.octwidth, 2.0,
                                            o.base_c, x.dtype()));
}

Tensor chroma_cqt(const Tensor& x, const ChromaCQTOptions& o) {
  check_norm("chroma_cqt", o.norm);
  FM_CHECK(o.cqt.output_format == "magnitude", "chroma_cqt: needs the CQT's magnitude, got output_format \"",
           o.cqt.output_format, "\"");
  FM_CHECK(x.is_floating_point(), "chroma_cqt: expected a float32 or float64 input, got ", x.dtype());
  const Tensor fold =
      cq_to_chroma(o.cqt.n_bins, o.cqt.bins_per_octave, o.n_chroma, o.cqt.fmin, o.base_c, x.dtype());
  return chroma_cqt_with(cqt(x, o.cqt), o, fold);
}

ChromaSTFT::ChromaSTFT(const ChromaSTFTOptions& o) : options(o) {
  check_norm("ChromaSTFT", o.norm);
  window = register_buffer("window", hann_window(o.win_length.value_or(o.n_fft), true));
  fb = register_buffer("fb", chroma_filterbank(o.sample_rate, o.n_fft, o.n_chroma, o.tuning, o.ctroct, o.octwidth,
                                               2.0, o.base_c));
}

Tensor ChromaSTFT::forward(const Tensor& x) { return chroma_stft_with(x, options, window, fb); }

ChromaCQT::ChromaCQT(const ChromaCQTOptions& o) : options(o) {
  check_norm("ChromaCQT", o.norm);
  FM_CHECK(o.cqt.output_format == "magnitude", "ChromaCQT: needs the CQT's magnitude, got output_format \"",
           o.cqt.output_format, "\"");
  cqt = register_module("cqt", std::make_shared<CQT>(o.cqt));
  fb = register_buffer("fb", cq_to_chroma(o.cqt.n_bins, o.cqt.bins_per_octave, o.n_chroma, o.cqt.fmin, o.base_c));
}

Tensor ChromaCQT::forward(const Tensor& x) { return chroma_cqt_with((*cqt)(x), options, fb); }

}  // namespace fm::audio
