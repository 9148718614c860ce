#pragma once
// Sample-rate conversion (torchaudio.functional.resample): by default torchaudio's own
// windowed-sinc polyphase filter (audio/polyphase_resample.h), or one of libsamplerate's
// converters (a different algorithm: the values differ from torchaudio's while the spectrum
// agrees).
#include <cstdint>

#include "tensor/tensor.h"

namespace fm::audio {

// SincHann: resample_polyphase with torchaudio's defaults (Hann window, 6 zero crossings,
// rolloff 0.99): torchaudio's values, and far faster than libsamplerate's sincs (30 s of
// stereo 44.1 -> 22.05 kHz, 2 threads: 17 ms, Medium 384 ms, Best 1160 ms), hence the
// default. Its transition is wider than Best's: a 10 kHz tone taken to 16 kHz is only 45 dB down.
// The others are libsamplerate's converters: SRC_SINC_BEST_QUALITY, SRC_SINC_MEDIUM_QUALITY,
// SRC_SINC_FASTEST, SRC_ZERO_ORDER_HOLD, SRC_LINEAR.
enum class ResampleQuality { Best, Medium, Fastest, ZeroOrderHold, Linear, SincHann };

// waveform float32 or float64 [..., time] -> [..., ceil(time * new_freq / orig_freq)], same
// dtype, on the CPU. The length is always exactly ceil(time * new / orig) (libsamplerate's own
// count can differ by a frame; its output is drained to the end and cut or zero-padded to
// that length), so the output covers the same duration as the input. Each row is converted
// independently (in parallel). libsamplerate works in float32 precision and new/orig must lie
// in its range [1/256, 256]; its results have no graph. SincHann computes in the waveform's
// dtype, takes any pair of rates whose gcd-reduced filter bank is not huge, and is
// differentiable. Equal rates return a copy (without graph).
Tensor resample(const Tensor& waveform, int64_t orig_freq, int64_t new_freq,
                ResampleQuality quality = ResampleQuality::SincHann);

// The length resample gives for `frames` input frames.
int64_t resampled_length(int64_t frames, int64_t orig_freq, int64_t new_freq);

}  // namespace fm::audio
