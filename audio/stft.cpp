#include "audio/stft.h"

#include <cmath>
#include <numbers>
#include <vector>

#include "audio/fft.h"
#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "kernels/shape.h"
#include "tensor/dtype.h"
#include "tensor/factory.h"

namespace fm::audio {
namespace {

template <class F>
Tensor make_window(int64_t n, bool periodic, DType dtype, const char* op, F f) {
  FM_CHECK(n >= 0, op, ": window length must be non-negative, got ", n);
  std::vector<double> w(static_cast<size_t>(n));
  if (n == 1) {
    w[0] = 1.0;
  } else if (n > 1) {
    const double denom = static_cast<double>(periodic ? n : n - 1);
    for (int64_t i = 0; i < n; ++i) w[i] = f(2.0 * std::numbers::pi * static_cast<double>(i) / denom);
  }
  Tensor t = from_vector(w, {n});
  return dtype == DType::Float64 ? t : to(t, dtype);
}

// The window for n_fft: given or periodic Hann of win_length, zero-padded centrally to n_fft.
Tensor full_window(const char* op, const Tensor& window, int64_t n_fft, int64_t win_length, DType dtype) {
  FM_CHECK(win_length > 0 && win_length <= n_fft, op, ": expected 0 < win_length <= n_fft, got win_length = ",
           win_length, ", n_fft = ", n_fft);
  Tensor w = window.defined() ? window : hann_window(win_length, true, dtype);
  FM_CHECK(w.dim() == 1 && w.sizes()[0] == win_length, op, ": expected a 1-D window of size win_length = ",
           win_length, ", got shape ", shape_str(w.sizes()));
  FM_CHECK(w.dtype() == dtype, op, ": window dtype ", w.dtype(), " differs from the input's ", dtype);
  if (win_length < n_fft) {
    const int64_t left = (n_fft - win_length) / 2;
    w = pad(w, {left, n_fft - win_length - left});
  }
  return w;
}

}  // namespace

Tensor hann_window(int64_t n, bool periodic, DType dtype) {
  return make_window(n, periodic, dtype, "hann_window", [](double a) { return 0.5 - 0.5 * std::cos(a); });
}

Tensor hamming_window(int64_t n, bool periodic, double alpha, double beta, DType dtype) {
  return make_window(n, periodic, dtype, "hamming_window",
                     [=](double a) { return alpha - beta * std::cos(a); });
}

Tensor blackman_window(int64_t n, bool periodic, DType dtype) {
  return make_window(n, periodic, dtype, "blackman_window",
                     [](double a) { return 0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2 * a); });
}

Tensor overlap_add(const Tensor& frames0, int64_t hop) {
  FM_CHECK(frames0.dim() >= 2, "overlap_add: expected [..., frames, n], got shape ", shape_str(frames0.sizes()));
  FM_CHECK(hop > 0, "overlap_add: hop must be positive, got ", hop);
  const Tensor frames = contiguous_raw(frames0);
  const int64_t n = frames.sizes().back(), nf = frames.sizes()[frames.dim() - 2];
  const int64_t len = nf == 0 ? 0 : (nf - 1) * hop + n;
  const int64_t batch = nf * n == 0 ? 0 : frames.numel() / (nf * n);
  Shape os(frames.sizes().begin(), frames.sizes().end() - 2);
  os.push_back(len);
  Tensor y;
  if (!frames.device().is_cpu()) {
    // on a device: the same sum as unfold's backward (kernels/shape.h), which has a CUDA kernel
    FM_CHECK(nf > 0 && n > 0, "overlap_add: expected at least one frame of at least one sample on ",
             frames.device(), ", got shape ", shape_str(frames.sizes()));
    y = kernels::unfold_backward(frames, os, static_cast<int64_t>(os.size()) - 1, n, hop);
  } else {
  y = zeros(os, {.dtype = frames.dtype()});
  dispatch_floating(frames.dtype(), "overlap_add", [&]<class T>() {
    const T* in = frames.data_ptr<T>();
    T* out = y.data_ptr<T>();
#pragma omp parallel for schedule(static) if (batch > 1)
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t f = 0; f < nf; ++f) {
        const T* src = in + (b * nf + f) * n;
        T* dst = out + b * len + f * hop;
        for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
      }
  });
  }
  if (autograd::any_requires_grad({frames0})) {
    autograd::record("OverlapAddBackward", {frames0}, {y}, [n, hop](const autograd::tensor_list& g) {
      return autograd::tensor_list{unfold(g[0], -1, n, hop)};
    });
  }
  return y;
}

Tensor frame(const Tensor& x, int64_t n, int64_t hop) {
  FM_CHECK(x.dim() >= 1 && n > 0 && hop > 0 && x.sizes().back() >= n, "frame: expected [..., T] with T >= n > 0 and ",
           "hop > 0, got shape ", shape_str(x.sizes()), ", n = ", n, ", hop = ", hop);
  if (!autograd::grad_enabled() || !autograd::any_requires_grad({x})) return unfold(x, -1, n, hop);
  Tensor y;
  {
    NoGradGuard ng;
    y = contiguous_raw(unfold(x, -1, n, hop), /*force=*/true);
  }
  const int64_t T = x.sizes().back();
  autograd::record("FrameBackward", {x}, {y}, [n, hop, T](const autograd::tensor_list& g) {
    Tensor s = overlap_add(g[0], hop);
    const int64_t len = s.sizes().back();
    return autograd::tensor_list{len < T ? pad(s, {0, T - len}) : s};
  });
  return y;
}

Tensor stft_frames(const Tensor& x, int64_t n_fft, std::optional<int64_t> hop_opt, std::optional<int64_t> win_opt,
                   const Tensor& window, bool center, const std::string& pad_mode, bool normalized, bool onesided) {
  FM_CHECK(x.dim() >= 1, "stft: expected input [..., time], got shape ", shape_str(x.sizes()));
  FM_CHECK(x.is_floating_point(), "stft: expected a float32 or float64 input, got ", x.dtype());
  FM_CHECK(n_fft > 0, "stft: n_fft must be positive, got ", n_fft, " for input of shape ", shape_str(x.sizes()));
  const int64_t hop = hop_opt.value_or(n_fft / 4);
  const int64_t win_length = win_opt.value_or(n_fft);
  FM_CHECK(hop > 0, "stft: hop_length must be positive, got ", hop);
  FM_CHECK(pad_mode == "reflect" || pad_mode == "constant", "stft: pad_mode must be \"reflect\" or \"constant\", got \"",
           pad_mode, "\"");
  const Tensor w = full_window("stft", window, n_fft, win_length, x.dtype());

  const Shape lead(x.sizes().begin(), x.sizes().end() - 1);
  const int64_t T = x.sizes().back();
  Tensor xs = reshape(x, {-1, T});
  if (center) {
    const int64_t p = n_fft / 2;
    FM_CHECK(pad_mode != "reflect" || p < T, "stft: reflect padding of n_fft/2 = ", p,
             " needs a signal longer than that, got input of shape ", shape_str(x.sizes()));
    xs = pad(xs, {p, p}, pad_mode);
  }
  const int64_t L = xs.sizes().back();
  FM_CHECK(L >= n_fft, "stft: n_fft = ", n_fft, " is longer than the ", center ? "padded " : "", "signal (", L,
           " samples) for input of shape ", shape_str(x.sizes()));
  Tensor frames = mul(frame(xs, n_fft, hop), w);  // [B, F, n_fft]
  std::vector<double> scale;  // empty: no scaling
  if (normalized) scale.assign(n_fft / 2 + 1, 1.0 / std::sqrt(static_cast<double>(n_fft)));
  Tensor spec = rfft_scaled(frames, scale);  // [B, F, bins, 2]
  if (!onesided) {
    const int64_t bins = n_fft / 2 + 1;
    Tensor tail = flip(slice(spec, 2, 1, n_fft - bins + 1), {2});
    Tensor conj = from_vector(std::vector<double>{1.0, -1.0}, {2});
    tail = mul(tail, x.dtype() == DType::Float64 ? conj : to(conj, x.dtype()));
    spec = cat({spec, tail}, 2);
  }
  Shape os = lead;
  os.push_back(spec.sizes()[1]);
  os.push_back(spec.sizes()[2]);
  os.push_back(2);
  return reshape(spec, os);
}

Tensor stft(const Tensor& x, int64_t n_fft, std::optional<int64_t> hop_opt, std::optional<int64_t> win_opt,
            const Tensor& window, bool center, const std::string& pad_mode, bool normalized, bool onesided) {
  // [..., F, freq, 2] -> [..., freq, F, 2], materialised
  return contiguous(transpose(stft_frames(x, n_fft, hop_opt, win_opt, window, center, pad_mode, normalized, onesided),
                              -3, -2));
}

Tensor istft(const Tensor& spec, int64_t n_fft, std::optional<int64_t> hop_opt, std::optional<int64_t> win_opt,
             const Tensor& window, bool center, bool normalized, bool onesided, std::optional<int64_t> length) {
  FM_CHECK(n_fft > 0, "istft: n_fft must be positive, got ", n_fft);
  const int64_t bins = onesided ? n_fft / 2 + 1 : n_fft;
  FM_CHECK(spec.dim() >= 3 && spec.sizes().back() == 2 && spec.sizes()[spec.dim() - 3] == bins,
           "istft: expected [..., ", bins, ", frames, 2] for n_fft = ", n_fft, (onesided ? " (onesided)" : ""),
           ", got shape ", shape_str(spec.sizes()));
  FM_CHECK(spec.is_floating_point(), "istft: expected float32 or float64, got ", spec.dtype());
  const int64_t hop = hop_opt.value_or(n_fft / 4);
  const int64_t win_length = win_opt.value_or(n_fft);
  FM_CHECK(hop > 0, "istft: hop_length must be positive, got ", hop);
  const Tensor w = full_window("istft", window, n_fft, win_length, spec.dtype());
  const int64_t nf = spec.sizes()[spec.dim() - 2];
  FM_CHECK(nf > 0, "istft: no frames in input of shape ", shape_str(spec.sizes()));
  const Shape lead(spec.sizes().begin(), spec.sizes().end() - 3);

  Tensor s = reshape(spec, {-1, bins, nf, 2});
  if (!onesided) s = slice(s, 1, 0, n_fft / 2 + 1);
  s = transpose(s, 1, 2);  // [B, F, bins1, 2]
  const double sc = (normalized ? std::sqrt(static_cast<double>(n_fft)) : 1.0) / static_cast<double>(n_fft);
  Tensor frames = mul(c2r_scaled(s, n_fft, std::vector<double>(n_fft / 2 + 1, sc)), w);  // [B, F, n_fft]
  Tensor y = overlap_add(frames, hop);                                                   // [B, L]
  Tensor env = overlap_add(expand(unsqueeze(mul(w, w), 0), {nf, n_fft}), hop);           // [L]
  const int64_t L = y.sizes().back();
  const int64_t start = center ? n_fft / 2 : 0;
  int64_t end = center ? L - n_fft / 2 : L;
  if (length) end = std::min(L, start + *length);
  FM_CHECK(end > start, "istft: no samples left after trimming (n_fft = ", n_fft, ", frames = ", nf, ")");
  y = slice(y, 1, start, end);
  env = slice(env, 0, start, end);
  {
    NoGradGuard ng;
    const double emin = min(abs(env)).item<double>();
    FM_CHECK(emin > 1e-11, "istft: window overlap-add is zero somewhere (min ", emin,
             "): the window and hop_length = ", hop, " do not satisfy NOLA");
  }
  y = div(y, env);
  if (length && y.sizes().back() < *length) y = pad(y, {0, *length - y.sizes().back()});
  Shape os = lead;
  os.push_back(y.sizes().back());
  return reshape(y, os);
}

}  // namespace fm::audio
