// Chroma: a pure tone's chroma peaks at its pitch class (from the STFT and from the CQT),
// per-frame normalisation, the folding matrix, and the modules.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "audio/chroma.h"
#include "autograd/elementwise.h"
#include "autograd/reduce.h"
#include "autograd/views.h"
#include "support/test_support.h"
#include "tensor/factory.h"

namespace fm {
namespace {

using namespace fm::audio;

Tensor tone(double freq, int64_t n, int64_t sr) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * freq * static_cast<double>(i) / sr));
  return from_vector(v, {n});
}

double midi_hz(int note) { return 440.0 * std::pow(2.0, (note - 69) / 12.0); }

TEST(AudioChroma, ToneChromaPeaksAtItsPitchClass) {
  ChromaSTFT s;  // librosa's defaults at 22.05 kHz
  ChromaCQT c;
  for (int note : {57, 60, 64, 69, 71, 78}) {  // A3 C4 E4 A4 B4 F#5
    const Tensor x = tone(midi_hz(note), 22050, 22050);
    for (const Tensor& y : {s(x), c(x)}) {
      ASSERT_EQ(y.sizes()[0], 12);
      const Tensor mid = select(y, 1, y.sizes()[1] / 2);
      EXPECT_EQ(argmax(mid).item<int64_t>(), note % 12) << "midi note " << note;
      EXPECT_NEAR(amax(mid).item<float>(), 1.0f, 1e-6);  // norm inf
    }
  }
}

TEST(AudioChroma, FramesAreNormalisedAndBatchesWork) {
  ChromaSTFTOptions o;
  o.sample_rate = 8000;
  o.n_fft = 256;
  o.hop_length = 64;
  const Tensor x = testing::leaf64({2, 1000}).detach();
  const Tensor y = chroma_stft(x, o);
  EXPECT_EQ(y.sizes(), (Shape{2, 12, 1000 / 64 + 1}));
  EXPECT_CLOSE(amax(y, {1}), ones({2, 1000 / 64 + 1}, {.dtype = DType::Float64}), 1e-12, 1e-12);
  EXPECT_GE(amin(y).item<double>(), 0.0);
  EXPECT_CLOSE(select(y, 0, 1), chroma_stft(select(x, 0, 1), o), 1e-12, 1e-12);
  // silent frames are left at zero rather than divided by zero
  const Tensor z = chroma_stft(zeros({1000}, {.dtype = DType::Float64}), o);
  EXPECT_EQ(amax(abs(z)).item<double>(), 0.0);
}

TEST(AudioChroma, CqToChromaFoldsEachBinIntoOnePitchClass) {
  const Tensor m = cq_to_chroma(108, 36, 12, 32.70);  // three octaves, three bins per pitch class
  EXPECT_CLOSE(sum(m, {0}), ones({108}), 0, 0);
  EXPECT_CLOSE(sum(m, {1}), full({12}, 9.0), 0, 0);
  // C1's bin and its two neighbours belong to C
  EXPECT_EQ(select(select(m, 0, 0), 0, 0).item<float>(), 1.0f);
  EXPECT_EQ(select(select(m, 0, 0), 0, 1).item<float>(), 1.0f);
  EXPECT_EQ(select(select(m, 0, 0), 0, 35).item<float>(), 1.0f);
}

TEST(AudioChroma, Errors) {
  EXPECT_THROW_MSG(cq_to_chroma(84, 18, 12), "multiple of n_chroma");
  ChromaSTFTOptions o;
  o.norm = 3.0;
  EXPECT_THROW_MSG(chroma_stft(zeros({4096}), o), "norm must be");
  ChromaCQTOptions c;
  c.cqt.output_format = "complex";
  EXPECT_THROW_MSG(ChromaCQT m(c), "magnitude");
}

}  // namespace
}  // namespace fm
