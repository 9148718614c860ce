#include "audio/cqt.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "audio/stft.h"
#include "autograd/elementwise.h"
#include "autograd/linalg.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "tensor/factory.h"

namespace fm::audio {
namespace {

double window_value(const std::string& name, int64_t j, int64_t l) {
  if (l == 1) return 1.0;
  const double a = 2.0 * std::numbers::pi * static_cast<double>(j) / static_cast<double>(l);
  if (name == "hann") return 0.5 - 0.5 * std::cos(a);
  if (name == "hamming") return 0.54 - 0.46 * std::cos(a);
  return 0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2.0 * a);  // blackman
}

void check_options(const CQTOptions& o) {
  FM_CHECK(o.sample_rate > 0 && o.hop_length > 0 && o.n_bins > 0 && o.bins_per_octave > 0,
           "cqt: sample_rate, hop_length, n_bins and bins_per_octave must be positive, got ", o.sample_rate, ", ",
           o.hop_length, ", ", o.n_bins, ", ", o.bins_per_octave);
  FM_CHECK(o.fmin > 0 && o.filter_scale > 0, "cqt: fmin and filter_scale must be positive, got ", o.fmin, ", ",
           o.filter_scale);
  FM_CHECK(o.norm == 0 || o.norm == 1 || o.norm == 2, "cqt: norm must be 0 (none), 1 or 2, got ", o.norm);
  FM_CHECK(o.window == "hann" || o.window == "hamming" || o.window == "blackman",
           "cqt: window must be \"hann\", \"hamming\" or \"blackman\", got \"", o.window, "\"");
  FM_CHECK(o.pad_mode == "reflect" || o.pad_mode == "constant",
           "cqt: pad_mode must be \"reflect\" or \"constant\", got \"", o.pad_mode, "\"");
  FM_CHECK(o.output_format == "magnitude" || o.output_format == "complex",
           "cqt: output_format must be \"magnitude\" or \"complex\", got \"", o.output_format, "\"");
}

}  // namespace

CQTKernels create_cqt_kernels(const CQTOptions& o) {
  check_options(o);
  const double sr = static_cast<double>(o.sample_rate);
  const double Q = o.filter_scale / (std::pow(2.0, 1.0 / static_cast<double>(o.bins_per_octave)) - 1.0);
  const double len_min = std::ceil(Q * sr / o.fmin);
  CQTKernels k;
  k.kernel_width = int64_t{1} << static_cast<int>(std::ceil(std::log2(len_min)));
  const double fft_len = static_cast<double>(k.kernel_width);
  for (int64_t b = 0; b < o.n_bins; ++b) {
    const double freq = o.fmin * std::pow(2.0, static_cast<double>(b) / static_cast<double>(o.bins_per_octave));
    FM_CHECK(freq <= sr / 2, "cqt: the top bin's frequency ", freq, " Hz is above the Nyquist frequency ", sr / 2,
             " Hz (fmin = ", o.fmin, ", n_bins = ", o.n_bins, ", bins_per_octave = ", o.bins_per_octave, ")");
    const double lf = std::ceil(Q * sr / freq);
    const auto l = static_cast<int64_t>(lf);
    // nnAudio centres each kernel, odd lengths one sample further left
    const int64_t start = static_cast<int64_t>(std::ceil(fft_len / 2.0 - lf / 2.0)) - (l % 2 == 1 ? 1 : 0);
    std::vector<double> re(static_cast<size_t>(l)), im(static_cast<size_t>(l));
    const int64_t n0 = static_cast<int64_t>(std::floor(-lf / 2.0));
    double n1 = 0, n2 = 0;
    for (int64_t j = 0; j < l; ++j) {
      const double w = window_value(o.window, j, l) / lf;
      const double ph = static_cast<double>(n0 + j) * 2.0 * std::numbers::pi * freq / sr;
      re[j] = w * std::cos(ph);
      im[j] = w * std::sin(ph);
      n1 += std::abs(w);
      n2 += w * w;
    }
    const double nrm = o.norm == 1 ? n1 : o.norm == 2 ? std::sqrt(n2) : 1.0;
    for (int64_t j = 0; j < l; ++j) {
      re[j] /= nrm;
      im[j] /= nrm;
    }
    k.freqs.push_back(freq);
    k.lengths.push_back(l);
    k.starts.push_back(start);
    k.re.push_back(std::move(re));
    k.im.push_back(std::move(im));
  }
  return k;
}

Tensor cqt(const Tensor& x, const CQTOptions& o, const CQTKernels& k) {
  check_options(o);
  FM_CHECK(x.dim() >= 1 && x.is_floating_point(), "cqt: expected a float32 or float64 input [..., time], got ",
           x.dtype(), " of shape ", shape_str(x.sizes()));
  FM_CHECK(static_cast<int64_t>(k.lengths.size()) == o.n_bins, "cqt: kernels for ", k.lengths.size(),
           " bins do not match n_bins = ", o.n_bins);
  const Shape lead(x.sizes().begin(), x.sizes().end() - 1);
  const int64_t T = x.sizes().back();
  Tensor xs = reshape(x, {-1, T});
  const int64_t B = xs.sizes()[0];
  const int64_t kw = k.kernel_width;
  if (o.center) {
    const int64_t p = kw / 2;
    FM_CHECK(o.pad_mode != "reflect" || p < T, "cqt: reflect padding of kernel_width/2 = ", p,
             " needs a signal longer than that, got input of shape ", shape_str(x.sizes()),
             " (raise fmin or use pad_mode \"constant\")");
    xs = pad(xs, {p, p}, o.pad_mode);
  }
  const int64_t L = xs.sizes()[1];
  FM_CHECK(L >= kw, "cqt: the kernel width ", kw, " is longer than the ", o.center ? "padded " : "", "signal (", L,
           " samples) for input of shape ", shape_str(x.sizes()));
  const int64_t F = (L - kw) / o.hop_length + 1;

  // One GEMM per octave: the frames cut to the octave's longest kernel (every kernel is centred,
  // so the bins of an octave share one support) times [real | -imag] kernels scaled by sqrt(l).
  std::vector<Tensor> res, ims;
  for (int64_t b0 = 0; b0 < o.n_bins; b0 += o.bins_per_octave) {
    const int64_t b1 = std::min(o.n_bins, b0 + o.bins_per_octave), n = b1 - b0;
    int64_t s = kw, e = 0;
    for (int64_t b = b0; b < b1; ++b) {
      s = std::min(s, k.starts[b]);
      e = std::max(e, k.starts[b] + k.lengths[b]);
    }
    const int64_t w = e - s;
    std::vector<double> m(static_cast<size_t>(w * 2 * n), 0.0);
    for (int64_t b = b0; b < b1; ++b) {
      const double sc = std::sqrt(static_cast<double>(k.lengths[b]));
      for (int64_t j = 0; j < k.lengths[b]; ++j) {
        const int64_t r = k.starts[b] - s + j;
        m[r * 2 * n + (b - b0)] = k.re[b][j] * sc;
        m[r * 2 * n + n + (b - b0)] = -k.im[b][j] * sc;
      }
    }
    Tensor W = from_vector(m, {w, 2 * n});
    if (x.dtype() != DType::Float64) W = to(W, x.dtype());
    Tensor frames = frame(slice(xs, 1, s, s + (F - 1) * o.hop_length + w), w, o.hop_length);  // [B, F, w]
    Tensor y = mm(reshape(frames, {B * F, w}), W);                                                 // [B*F, 2n]
    res.push_back(slice(y, 1, 0, n));
    ims.push_back(slice(y, 1, n, 2 * n));
  }
  Tensor re = res.size() == 1 ? res[0] : cat(res, 1), im = ims.size() == 1 ? ims[0] : cat(ims, 1);  // [B*F, bins]
  Shape os = lead;
  os.push_back(o.n_bins);
  os.push_back(F);
  if (o.output_format == "complex") {
    os.push_back(2);
    return reshape(transpose(reshape(stack({re, im}, -1), {B, F, o.n_bins, 2}), 1, 2), os);
  }
  Tensor mag = sqrt(add(mul(re, re), mul(im, im)));
  return reshape(transpose(reshape(mag, {B, F, o.n_bins}), 1, 2), os);
}

Tensor cqt(const Tensor& x, const CQTOptions& o) { return cqt(x, o, create_cqt_kernels(o)); }

CQT::CQT(const CQTOptions& o) : options(o), kernels(create_cqt_kernels(o)) {}

Tensor CQT::forward(const Tensor& x) { return cqt(x, options, kernels); }

}  // namespace fm::audio
