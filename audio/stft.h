#pragma once
// Differentiable short-time Fourier transform and its inverse (torch.stft / torch.istft), with
// the complex values as a trailing dimension of 2, and the window functions of torch.*_window.
#include <cstdint>
#include <optional>
#include <string>

#include "tensor/tensor.h"

namespace fm::audio {

// torch.hann_window / hamming_window / blackman_window (periodic by default).
Tensor hann_window(int64_t n, bool periodic = true, DType dtype = DType::Float32);
Tensor hamming_window(int64_t n, bool periodic = true, double alpha = 0.54, double beta = 0.46,
                      DType dtype = DType::Float32);
Tensor blackman_window(int64_t n, bool periodic = true, DType dtype = DType::Float32);

// x [..., T] -> [..., freq, frames, 2] (freq = n_fft/2+1 when onesided, else n_fft).
// hop_length defaults to n_fft/4 and win_length to n_fft (torch.stft); an undefined window
// defaults to a periodic Hann window of win_length (unlike torch.stft's rectangular default).
// The window is zero-padded on both sides to n_fft.
// center pads n_fft/2 on both sides with pad_mode ("reflect" or "constant").
// normalized multiplies by n_fft^-1/2. Differentiable in x and in the window.
Tensor stft(const Tensor& x, int64_t n_fft, std::optional<int64_t> hop_length = std::nullopt,
            std::optional<int64_t> win_length = std::nullopt, const Tensor& window = Tensor(),
            bool center = true, const std::string& pad_mode = "reflect", bool normalized = false,
            bool onesided = true);

// stft with the frames before the frequencies: [..., frames, freq, 2], contiguous (what stft
// transposes; the spectrogram's power and the mel projection work in this layout, one GEMM
// with no transposed copies).
Tensor stft_frames(const Tensor& x, int64_t n_fft, std::optional<int64_t> hop_length = std::nullopt,
                   std::optional<int64_t> win_length = std::nullopt, const Tensor& window = Tensor(),
                   bool center = true, const std::string& pad_mode = "reflect", bool normalized = false,
                   bool onesided = true);

// Inverse of stft by weighted overlap-add with window-sum-square normalisation (torch.istft):
// spec [..., freq, frames, 2] -> [..., T]; `length` trims or zero-pads the output.
Tensor istft(const Tensor& spec, int64_t n_fft, std::optional<int64_t> hop_length = std::nullopt,
             std::optional<int64_t> win_length = std::nullopt, const Tensor& window = Tensor(),
             bool center = true, bool normalized = false, bool onesided = true,
             std::optional<int64_t> length = std::nullopt);

// x [..., T] -> [..., (T - n) / hop + 1, n], the values of unfold(x, -1, n, hop), with
// overlap_add as the gradient: one pass over the signal, where unfold's generic backward builds
// a full-length tensor per frame. Without a gradient to record it returns unfold's view.
Tensor frame(const Tensor& x, int64_t n, int64_t hop);

// frames [..., F, n] -> [..., (F-1)*hop + n], summing overlapping frames (the adjoint of
// unfold(x, -1, n, hop)). Differentiable.
Tensor overlap_add(const Tensor& frames, int64_t hop);

}  // namespace fm::audio
