// Onset strength: it peaks at note onsets, is zero over the framing delay, and works on batches.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "audio/onset.h"
#include "autograd/elementwise.h"
#include "autograd/shape.h"
#include "autograd/reduce.h"
#include "autograd/views.h"
#include "support/test_support.h"
#include "tensor/factory.h"

namespace fm {
namespace {

using namespace fm::audio;

// Three decaying notes starting at the given seconds, over faint noise.
Tensor notes(const std::vector<double>& onsets, int64_t sr, double seconds) {
  const auto n = static_cast<int64_t>(seconds * sr);
  Generator g(3);
  Tensor noise = rand({n}, {.dtype = DType::Float64}, &g);
  std::vector<double> v(static_cast<size_t>(n));
  const double* u = noise.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) v[i] = 1e-3 * (u[i] - 0.5);
  const double freqs[] = {262.0, 392.0, 330.0};
  for (size_t k = 0; k < onsets.size(); ++k)
    for (auto i = static_cast<int64_t>(onsets[k] * sr); i < n; ++i) {
      const double t = static_cast<double>(i) / sr - onsets[k];
      v[i] += 0.5 * std::exp(-6.0 * t) * std::sin(2 * std::numbers::pi * freqs[k % 3] * t);
    }
  return from_vector(v, {n});
}

TEST(AudioOnset, PeaksAtNoteOnsets) {
  const std::vector<double> onsets = {0.5, 1.2, 1.9};
  OnsetStrength m;  // librosa's defaults: 22.05 kHz, n_fft 2048, hop 512
  const Tensor x = to(notes(onsets, 22050, 2.5), DType::Float32);
  const Tensor env = m(x);
  const int64_t frames = 2.5 * 22050 / 512 + 1;
  ASSERT_EQ(env.sizes(), (Shape{frames}));
  const Tensor e = to(env, DType::Float64);
  const double* p = e.data_ptr<double>();
  // the lag plus the framing delay n_fft / (2 hop) leave the first 3 frames at zero
  for (int i = 0; i < 3; ++i) EXPECT_EQ(p[i], 0.0);
  const double top = amax(e).item<double>();
  for (double t : onsets) {
    const auto f = static_cast<int64_t>(std::lround(t * 22050 / 512));
    double near = 0;
    for (int64_t j = f - 2; j <= f + 2; ++j) near = std::max(near, p[j]);
    EXPECT_GT(near, 0.5 * top) << "no peak near the onset at " << t << " s";
  }
  // away from the onsets the envelope is low
  for (int64_t j = 0; j < frames; ++j) {
    bool close_to_onset = false;
    for (double t : onsets) close_to_onset |= std::abs(j - t * 22050 / 512) < 4;
    if (!close_to_onset) EXPECT_LT(p[j], 0.5 * top) << "frame " << j;
  }
}

TEST(AudioOnset, BatchItemsAreIndependent) {
  OnsetStrengthOptions o;
  o.sample_rate = 8000;
  o.n_fft = 256;
  o.hop_length = 64;
  o.n_mels = 32;
  const Tensor a = notes({0.1, 0.3}, 8000, 0.5), b = notes({0.2}, 8000, 0.5);
  const Tensor y = onset_strength(stack({a, mul(b, 0.01)}), o);
  EXPECT_CLOSE(select(y, 0, 0), onset_strength(a, o), 1e-12, 1e-12);
  EXPECT_CLOSE(select(y, 0, 1), onset_strength(mul(b, 0.01), o), 1e-12, 1e-12);
}

TEST(AudioOnset, Errors) {
  OnsetStrengthOptions o;
  o.lag = 0;
  EXPECT_THROW_MSG(onset_strength(zeros({4096}), o), "lag");
  EXPECT_THROW_MSG(onset_strength(zeros({4096}, {.dtype = DType::Int64})), "float32 or float64");
}

}  // namespace
}  // namespace fm
