#pragma once
// Constant-Q transform as nnAudio's CQT1992v2 computes it: one complex kernel per bin
// (a window of length ceil(Q * sr / f_k) times a complex exponential at f_k, L1-normalised,
// centred in a frame of the next power of two above the longest kernel), correlated with the
// signal at every hop and scaled by sqrt(kernel length) ("librosa" normalisation).
// Differentiable in the input.
#include <string>
#include <vector>

#include "layers/module.h"
#include "tensor/tensor.h"

namespace fm::audio {

struct CQTOptions {
  int64_t sample_rate = 22050;
  int64_t hop_length = 512;
  double fmin = 32.70;  // C1
  int64_t n_bins = 84;
  int64_t bins_per_octave = 12;
  double filter_scale = 1.0;
  int64_t norm = 1;              // the kernels' L-norm: 1, 2, or 0 for none
  std::string window = "hann";   // "hann", "hamming" or "blackman" (periodic, as scipy's get_window)
  bool center = true;            // pad kernel_width / 2 on both sides
  std::string pad_mode = "reflect";  // or "constant"
  std::string output_format = "magnitude";  // or "complex": [..., n_bins, frames, 2] (nnAudio's "Complex")
};

// The kernels of nnAudio's create_cqt_kernels, in double precision.
struct CQTKernels {
  int64_t kernel_width = 0;    // the frame length (a power of two)
  std::vector<double> freqs;   // centre frequency of each bin (Hz)
  std::vector<int64_t> lengths, starts;  // each kernel's length and first sample in the frame
  std::vector<std::vector<double>> re, im;  // each kernel's nonzero samples (length lengths[k])
};
CQTKernels create_cqt_kernels(const CQTOptions& o);

// x [..., time] -> [..., n_bins, frames] (frames = time / hop + 1 with center), the magnitude,
// or the complex values [..., n_bins, frames, 2] with output_format "complex".
Tensor cqt(const Tensor& x, const CQTOptions& o = {});

class CQT : public nn::UnaryModule {
 public:
  explicit CQT(const CQTOptions& o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "CQT"; }

  CQTOptions options;
  CQTKernels kernels;
};

// cqt with kernels built once (what CQT::forward calls).
Tensor cqt(const Tensor& x, const CQTOptions& o, const CQTKernels& k);

}  // namespace fm::audio
