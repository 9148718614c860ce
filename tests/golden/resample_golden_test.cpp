// Golden tests of resample_polyphase against torchaudio 0.13's functional.resample, values and
// gradients, and of pitch_shift (float64), which resamples through it by default
// (tests/golden/make_golden_resample.py -> tests/golden/data/resample.safetensors).
#include <gtest/gtest.h>

#include "audio/phase_vocoder.h"
#include "audio/polyphase_resample.h"
#include "golden/golden_support.h"

namespace fm {
namespace {

using namespace fm::audio;
using testing::golden::Case;

#define RESAMPLE_CASES(tag)                                                                                      \
  GOLDEN("down_44100_22050" tag, resample_polyphase(x[0], 44100, 22050)),                                       \
      GOLDEN("down_22050_16000" tag, resample_polyphase(x[0], 22050, 16000)),                                   \
      GOLDEN("up_16000_22050" tag, resample_polyphase(x[0], 16000, 22050)),                                     \
      GOLDEN("up_8000_48000" tag, resample_polyphase(x[0], 8000, 48000, 6, 0.99, "sinc_interp_hann")),          \
      GOLDEN("down_48000_8000_kaiser" tag, resample_polyphase(x[0], 48000, 8000, 6, 0.99, "sinc_interp_kaiser")), \
      GOLDEN("up_22050_44100_kaiser_beta8" tag,                                                                  \
             resample_polyphase(x[0], 22050, 44100, 6, 0.99, "sinc_interp_kaiser", 8.0)),                        \
      GOLDEN("down_22050_16000_kaiser_w16" tag, resample_polyphase(x[0], 22050, 16000, 16, 0.945, "kaiser_window")), \
      GOLDEN("up_3_5_w3" tag, resample_polyphase(x[0], 3, 5, 3, 0.9)),                                          \
      GOLDEN("down_5_3_w1" tag, resample_polyphase(x[0], 5, 3, 1)),                                             \
      GOLDEN("short_than_filter" tag, resample_polyphase(x[0], 44100, 16000))

Tensor shift(const Tensor& x, double steps) { return pitch_shift(x, 8000, steps, 12, 256); }

std::vector<Case> resample_cases() {
  return {
      RESAMPLE_CASES(""),
      RESAMPLE_CASES("_f32"),
      GOLDEN("pitch_shift_3", shift(x[0], 3)),
      GOLDEN("pitch_shift_minus_2_5", shift(x[0], -2.5)),
      GOLDEN("pitch_shift_4_stereo", shift(x[0], 4)),
  };
}

FM_GOLDEN_FAMILY(ResampleGolden, "resample", resample_cases)

}  // namespace
}  // namespace fm
