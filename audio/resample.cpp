#include "audio/resample.h"

#include <samplerate.h>

#include <algorithm>
#include <string>
#include <vector>

#include "audio/polyphase_resample.h"
#include "tensor/error.h"

namespace fm::audio {

namespace {

int converter(ResampleQuality q) {
  switch (q) {
    case ResampleQuality::Best: return SRC_SINC_BEST_QUALITY;
    case ResampleQuality::Medium: return SRC_SINC_MEDIUM_QUALITY;
    case ResampleQuality::Fastest: return SRC_SINC_FASTEST;
    case ResampleQuality::ZeroOrderHold: return SRC_ZERO_ORDER_HOLD;
    case ResampleQuality::Linear: return SRC_LINEAR;
    case ResampleQuality::SincHann: break;
  }
  fail("resample: unknown quality ", int(q));
}

// Converts one row; returns libsamplerate's error message, empty on success.
std::string convert_row(const float* in, int64_t n_in, float* out, int64_t n_out, double ratio, int type) {
  int err = 0;
  SRC_STATE* st = src_new(type, 1, &err);
  if (st == nullptr) return src_strerror(err);
  // Drain into a buffer with room for the converter's own count (which may exceed n_out by
  // a few frames), then keep the first n_out.
  std::vector<float> buf(size_t(n_out) + 64);
  SRC_DATA d{};
  d.src_ratio = ratio;
  d.end_of_input = 1;
  int64_t read = 0, written = 0;
  while (written < int64_t(buf.size())) {
    d.data_in = in + read;
    d.input_frames = long(n_in - read);
    d.data_out = buf.data() + written;
    d.output_frames = long(int64_t(buf.size()) - written);
    err = src_process(st, &d);
    if (err != 0) break;
    read += d.input_frames_used;
    written += d.output_frames_gen;
    if (d.output_frames_gen == 0 && read >= n_in) break;
  }
  src_delete(st);
  if (err != 0) return src_strerror(err);
  const int64_t keep = std::min(written, n_out);
  std::copy(buf.begin(), buf.begin() + keep, out);
  std::fill(out + keep, out + n_out, 0.0f);
  return {};
}

}  // namespace

int64_t resampled_length(int64_t frames, int64_t orig_freq, int64_t new_freq) {
  FM_CHECK(frames >= 0 && orig_freq > 0 && new_freq > 0, "resample: frames ", frames, ", orig_freq ", orig_freq,
           ", new_freq ", new_freq, ": expected frames >= 0 and positive rates");
  // frames * new_freq fits int64 for any realistic audio (rates <= 10 MHz, < 9e11 frames).
  return (frames * new_freq + orig_freq - 1) / orig_freq;
}

Tensor resample(const Tensor& waveform, int64_t orig_freq, int64_t new_freq, ResampleQuality quality) {
  FM_CHECK(waveform.defined(), "resample: undefined waveform");
  FM_CHECK(waveform.dtype() == DType::Float32 || waveform.dtype() == DType::Float64,
           "resample: waveform ", waveform.describe(), ", expected float32 or float64");
  FM_CHECK(waveform.dim() >= 1, "resample: waveform ", waveform.describe(), ", expected at least 1 dimension (time)");
  FM_CHECK(waveform.device().is_cpu(), "resample: waveform ", waveform.describe(), ", expected a CPU tensor");
  FM_CHECK(orig_freq > 0 && new_freq > 0, "resample: orig_freq ", orig_freq, " and new_freq ", new_freq,
           " must be positive");
  if (quality == ResampleQuality::SincHann) {
    if (orig_freq == new_freq) return contiguous_raw(waveform.detach(), /*force=*/true);
    return resample_polyphase(waveform, orig_freq, new_freq);
  }
  const double ratio = double(new_freq) / double(orig_freq);
  FM_CHECK(src_is_valid_ratio(ratio), "resample: ratio ", new_freq, "/", orig_freq,
           " is outside libsamplerate's range [1/256, 256]");
  const int type = converter(quality);
  if (orig_freq == new_freq) return contiguous_raw(waveform.detach(), /*force=*/true);

  const int64_t n_in = waveform.sizes().back();
  const int64_t rows = n_in == 0 ? 0 : waveform.numel() / n_in;
  const int64_t n_out = resampled_length(n_in, orig_freq, new_freq);
  Shape out_shape = waveform.sizes();
  out_shape.back() = n_out;
  Tensor in32 = contiguous_raw(to_raw(waveform.detach(), DType::Float32, Device::cpu()));
  Tensor out32 = empty(out_shape, {.dtype = DType::Float32});
  if (n_out == 0 || waveform.numel() == 0) return to_raw(out32, waveform.dtype(), Device::cpu());
  const float* src = in32.data_ptr<float>();
  float* dst = out32.data_ptr<float>();
  std::vector<std::string> errors(static_cast<size_t>(rows));
#pragma omp parallel for schedule(dynamic) if (rows > 1)
  for (int64_t r = 0; r < rows; ++r) errors[size_t(r)] = convert_row(src + r * n_in, n_in, dst + r * n_out, n_out, ratio, type);
  for (const auto& e : errors) FM_CHECK(e.empty(), "resample: libsamplerate failed: ", e);
  return waveform.dtype() == DType::Float32 ? out32 : to_raw(out32, DType::Float64, Device::cpu());
}

}  // namespace fm::audio
