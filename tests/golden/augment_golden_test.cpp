// Golden tests of the deterministic parts of augmentation against torchaudio 0.13
// (tests/golden/make_golden_augment.py -> tests/golden/data/augment.safetensors): phase_vocoder,
// the time stretch inside torchaudio's pitch_shift, SpecAugment masks at the positions
// torchaudio drew, and gain.
#include <gtest/gtest.h>

#include "audio/augment.h"
#include "audio/phase_vocoder.h"
#include "audio/spec_augment.h"
#include "audio/stft.h"
#include "golden/golden_support.h"

namespace fm {
namespace {

using namespace fm::audio;
using testing::golden::Case;

Tensor stretch(const Tensor& x, double rate, int64_t n_fft) {
  return time_stretch(x, rate, n_fft, std::nullopt, std::nullopt, hann_window(n_fft, true, DType::Float64));
}

std::vector<Case> augment_cases() {
  return {
      GOLDEN("phase_vocoder_1_3", phase_vocoder(x[0], 1.3, x[1])),
      GOLDEN("phase_vocoder_0_7", phase_vocoder(x[0], 0.7, x[1])),
      GOLDEN("phase_vocoder_2_0", phase_vocoder(x[0], 2.0, x[1])),
      GOLDEN("time_stretch_1_25_n256", stretch(x[0], 1.25, 256)),
      GOLDEN("time_stretch_0_8_n128", stretch(x[0], 0.8, 128)),
      GOLDEN("mask_iid_time", mask_along_axis_at(x[0], -1, x[1], x[2], 0.5)),
      GOLDEN("mask_iid_freq", mask_along_axis_at(x[0], -2, x[1], x[2], -1.0)),
      GOLDEN("mask_shared_freq", mask_along_axis_at(x[0], 1, x[1], x[2], 0.0)),
      GOLDEN("gain_minus_6db", gain(x[0], -6.0)),
  };
}

FM_GOLDEN_FAMILY(AugmentGolden, "augment", augment_cases)

}  // namespace
}  // namespace fm
