#pragma once
// torchaudio.functional.resample: band-limited (windowed sinc) polyphase resampling. With
// rates reduced by their gcd to orig -> new, output sample k * new + p is the dot product of
// the input around k * orig with phase p's filter, the same arithmetic as torchaudio's
// _get_sinc_resample_kernel + conv1d(stride = orig), so the values match torchaudio's.
#include <cstdint>
#include <string>

#include "tensor/tensor.h"

namespace fm::audio {

// waveform float32 or float64 [..., time] -> [..., ceil(new' * time / orig')] (orig', new' the
// rates divided by their gcd), same dtype, CPU. Each filter spans lowpass_filter_width zero
// crossings either side of its centre at the cutoff rolloff * min(orig, new) / 2 Hz, windowed
// by method: "sinc_interp_hann" (torchaudio's default) or "sinc_interp_kaiser" with `beta`
// (torchaudio 0.13's names "sinc_interpolation" and "kaiser_window" are accepted too). The
// input is zero outside [0, time). Differentiable (linear in waveform; the backward is the
// transposed filter bank). Equal rates return waveform itself, as torchaudio does. Filters
// are cached per (rates, width, rolloff, method, beta).
Tensor resample_polyphase(const Tensor& waveform, int64_t orig_freq, int64_t new_freq,
                          int64_t lowpass_filter_width = 6, double rolloff = 0.99,
                          const std::string& method = "sinc_interp_hann", double beta = 14.769656459379492);

}  // namespace fm::audio
