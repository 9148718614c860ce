#include "audio/streaming.h"

#include <algorithm>

#include "audio/stft.h"
#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "tensor/factory.h"

namespace fm::audio {
namespace {

int64_t len(const Tensor& t) { return t.sizes().back(); }

}  // namespace

StreamingStft::StreamingStft(int64_t n_fft, std::optional<int64_t> hop_length, std::optional<int64_t> win_length,
                             const Tensor& window, bool center, const std::string& pad_mode, bool normalized,
                             int64_t pad)
    : n_fft_(n_fft),
      hop_(hop_length.value_or(n_fft / 4)),
      win_length_(win_length.value_or(n_fft)),
      pad_(pad),
      user_window_(window),
      center_(center),
      normalized_(normalized),
      pad_mode_(pad_mode) {
  FM_CHECK(n_fft > 0, "StreamingStft: n_fft must be positive, got ", n_fft);
  FM_CHECK(hop_ > 0, "StreamingStft: hop_length must be positive, got ", hop_);
  FM_CHECK(win_length_ > 0 && win_length_ <= n_fft,
           "StreamingStft: expected 0 < win_length <= n_fft, got win_length = ", win_length_, ", n_fft = ", n_fft);
  FM_CHECK(pad_mode == "reflect" || pad_mode == "constant",
           "StreamingStft: pad_mode must be \"reflect\" or \"constant\", got \"", pad_mode, "\"");
  FM_CHECK(pad >= 0, "StreamingStft: pad must be non-negative, got ", pad);
  FM_CHECK(!window.defined() || (window.dim() == 1 && window.sizes()[0] == win_length_ && window.is_floating_point()),
           "StreamingStft: expected a 1-D float window of win_length = ", win_length_, " samples, got ",
           window.defined() ? window.describe() : std::string());
}

void StreamingStft::reset() {
  started_ = left_done_ = false;
  lead_.clear();
  rows_ = 0;
  head_ = tail_ = buf_ = window_ = Tensor();
  skip_ = signal_len_ = samples_ = frames_emitted_ = 0;
}

Tensor StreamingStft::empty_frames() const {
  Shape s = lead_;
  s.push_back(n_fft_ / 2 + 1);
  s.push_back(0);
  s.push_back(2);
  return zeros(s, {.dtype = dtype_});
}

Tensor StreamingStft::push(const Tensor& chunk) {
  FM_CHECK(chunk.defined() && chunk.dim() >= 1 && chunk.is_floating_point(),
           "StreamingStft::push: expected a float32 or float64 chunk [..., time], got ",
           chunk.defined() ? chunk.describe() : std::string("an undefined tensor"));
  NoGradGuard ng;
  const Shape lead(chunk.sizes().begin(), chunk.sizes().end() - 1);
  if (!started_) {
    lead_ = lead;
    dtype_ = chunk.dtype();
    rows_ = shape_numel(lead);
    FM_CHECK(rows_ > 0, "StreamingStft::push: the leading dims of the chunk must not be empty, got shape ",
             shape_str(chunk.sizes()));
    window_ = user_window_.defined() ? to(user_window_, dtype_) : hann_window(win_length_, true, dtype_);
    head_ = tail_ = buf_ = zeros({rows_, 0}, {.dtype = dtype_});
    started_ = true;
    if (pad_ > 0) feed(zeros({rows_, pad_}, {.dtype = dtype_}));
  } else {
    FM_CHECK(lead == lead_ && chunk.dtype() == dtype_, "StreamingStft::push: chunk ", chunk.describe(),
             " does not continue the stream of ", shape_str(lead_), " x time ", dtype_, " chunks");
  }
  const int64_t t = chunk.sizes().back();
  samples_ += t;
  feed(reshape(contiguous(chunk.detach()), {rows_, t}));
  return take_frames();
}

void StreamingStft::feed(const Tensor& x) {
  const int64_t t = len(x);
  if (t == 0) return;
  signal_len_ += t;
  const int64_t p = n_fft_ / 2;
  if (!center_ || left_done_) {
    if (center_ && pad_mode_ == "reflect") {
      Tensor all = cat({tail_, x}, 1);
      tail_ = contiguous(slice(all, 1, std::max<int64_t>(0, len(all) - (p + 1)), len(all)));
    }
    append(x);
    return;
  }
  if (pad_mode_ == "constant") {
    append(zeros({rows_, p}, {.dtype = dtype_}));
    left_done_ = true;
    append(x);
    return;
  }
  // reflect: the padding mirrors samples 1..p, so it waits for p + 1 samples
  head_ = cat({head_, x}, 1);
  tail_ = contiguous(slice(head_, 1, std::max<int64_t>(0, len(head_) - (p + 1)), len(head_)));
  if (len(head_) >= p + 1) {
    append(flip(slice(head_, 1, 1, p + 1), {1}));
    append(head_);
    head_ = zeros({rows_, 0}, {.dtype = dtype_});
    left_done_ = true;
  }
}

void StreamingStft::append(const Tensor& x0) {
  Tensor x = x0;
  if (skip_ > 0) {
    const int64_t drop = std::min(skip_, len(x));
    x = slice(x, 1, drop, len(x));
    skip_ -= drop;
  }
  if (len(x) > 0) buf_ = cat({buf_, x}, 1);
}

Tensor StreamingStft::take_frames() {
  const int64_t L = len(buf_);
  if (L < n_fft_) return empty_frames();
  const int64_t k = (L - n_fft_) / hop_ + 1;
  Tensor seg = slice(buf_, 1, 0, (k - 1) * hop_ + n_fft_);
  Tensor spec = stft(seg, n_fft_, hop_, win_length_, window_, false, "reflect", normalized_);  // [rows, freq, k, 2]
  const int64_t used = k * hop_;
  if (used <= L) {
    buf_ = contiguous_raw(slice(buf_, 1, used, L), /*force=*/true);
  } else {
    buf_ = zeros({rows_, 0}, {.dtype = dtype_});
    skip_ = used - L;
  }
  frames_emitted_ += k;
  Shape s = lead_;
  s.push_back(n_fft_ / 2 + 1);
  s.push_back(k);
  s.push_back(2);
  return reshape(spec, s);
}

Tensor StreamingStft::flush() {
  FM_CHECK(started_, "StreamingStft::flush: no chunk was pushed (the stream's shape and dtype are unknown)");
  NoGradGuard ng;
  if (pad_ > 0) feed(zeros({rows_, pad_}, {.dtype = dtype_}));
  const int64_t p = n_fft_ / 2;
  const int64_t n = signal_len_;
  bool ok = true;
  if (center_) {
    if (pad_mode_ == "constant") {
      if (!left_done_) append(zeros({rows_, p}, {.dtype = dtype_}));
      append(zeros({rows_, p}, {.dtype = dtype_}));
    } else if (left_done_) {
      append(flip(slice(tail_, 1, 0, p), {1}));
    } else {
      ok = false;
    }
  }
  Tensor out = ok ? take_frames() : Tensor();
  const int64_t total = frames_emitted_;
  reset();
  FM_CHECK(ok, "StreamingStft::flush: reflect padding of n_fft/2 = ", p, " needs a signal longer than that, got ", n,
           " samples");
  FM_CHECK(total > 0, "StreamingStft::flush: n_fft = ", n_fft_, " is longer than the ", center_ ? "padded " : "",
           "signal (", n, " samples", center_ ? " before padding" : "", "): no frame");
  return out;
}

// ----- mel -----

StreamingMelSpectrogram::StreamingMelSpectrogram(const MelOptions& o)
    : options_(o),
      win_length_(o.win_length.value_or(o.n_fft)),
      hop_length_(o.hop_length.value_or(win_length_ / 2)),
      stft_(o.n_fft, hop_length_, win_length_, Tensor(), o.center, o.pad_mode, false, o.pad) {
  FM_CHECK(o.power > 0, "StreamingMelSpectrogram: power must be positive, got ", o.power);
}

Tensor StreamingMelSpectrogram::to_mel(const Tensor& spec) {
  const auto& o = options_;
  NoGradGuard ng;
  if (!fb_.defined() || fb_.dtype() != spec.dtype()) {
    fb_ = melscale_fbanks(o.n_fft / 2 + 1, o.f_min, o.f_max.value_or(static_cast<double>(o.sample_rate / 2)), o.n_mels,
                          o.sample_rate, o.norm, o.mel_scale, spec.dtype());
    const Tensor w = hann_window(win_length_, true, spec.dtype());
    window_norm_ = sqrt(sum(mul(w, w)));
  }
  const int64_t k = spec.sizes()[spec.dim() - 2];
  if (k == 0) {
    Shape s(spec.sizes().begin(), spec.sizes().end() - 3);
    s.push_back(o.n_mels);
    s.push_back(0);
    return zeros(s, {.dtype = spec.dtype()});
  }
  // the same operations as spectrogram() + mel_scale(), so the frames equal the offline ones
  Tensor s = o.normalized ? div(spec, window_norm_) : spec;
  Tensor re = select(s, -1, 0), im = select(s, -1, 1);
  Tensor p2 = add(mul(re, re), mul(im, im));
  Tensor pw = o.power == 2.0 ? p2 : o.power == 1.0 ? sqrt(p2) : pow(p2, o.power / 2.0);
  return mel_scale(pw, fb_);
}

Tensor StreamingMelSpectrogram::push(const Tensor& chunk) { return to_mel(stft_.push(chunk)); }
Tensor StreamingMelSpectrogram::flush() { return to_mel(stft_.flush()); }

}  // namespace fm::audio
