#pragma once
// Sample-rate conversion through libsamplerate (torchaudio.functional.resample's role; a
// different algorithm, so the values differ from torchaudio's while the spectrum agrees).
#include <cstdint>

#include "tensor/tensor.h"

namespace fm::audio {

// libsamplerate's converters: SRC_SINC_BEST_QUALITY, SRC_SINC_MEDIUM_QUALITY,
// SRC_SINC_FASTEST, SRC_ZERO_ORDER_HOLD, SRC_LINEAR.
enum class ResampleQuality { Best, Medium, Fastest, ZeroOrderHold, Linear };

// waveform float32 or float64 [..., time] -> [..., ceil(time * new_freq / orig_freq)], same
// dtype, on the CPU. The length is always exactly ceil(time * new / orig) (libsamplerate's own
// count can differ by a frame; its output is drained to the end and cut or zero-padded to
// that length), so the output covers the same duration as the input. Each row is converted
// independently (in parallel), in float32 precision (libsamplerate works in float). Equal
// rates return a copy. new/orig must lie in [1/256, 256]. Not differentiable: the result has
// no graph.
Tensor resample(const Tensor& waveform, int64_t orig_freq, int64_t new_freq,
                ResampleQuality quality = ResampleQuality::Best);

// The length resample gives for `frames` input frames.
int64_t resampled_length(int64_t frames, int64_t orig_freq, int64_t new_freq);

}  // namespace fm::audio
