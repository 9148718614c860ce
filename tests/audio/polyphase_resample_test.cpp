// resample_polyphase (torchaudio's resampler): a sine keeps its frequency and values, what lies
// above the new Nyquist is attenuated, lengths follow ceil(new * time / orig) after the gcd
// reduction, rows are independent, float32 agrees with float64, errors name the bad argument,
// and resample() reaches it as ResampleQuality::SincHann (the default).
#include <gtest/gtest.h>

#include <cmath>

#include "audio/fft.h"
#include "audio/polyphase_resample.h"
#include "audio/resample.h"
#include "autograd/elementwise.h"
#include "autograd/engine.h"
#include "autograd/reduce.h"
#include "support/test_support.h"

namespace fm {
namespace {

using namespace fm::audio;

Tensor sine(double freq, int64_t rate, int64_t n, double amp = 0.5) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) v[size_t(t)] = amp * std::sin(2 * M_PI * freq * double(t) / double(rate));
  return from_vector(v, {n});
}

double peak_frequency(const Tensor& x1d, int64_t rate) {
  const int64_t n = x1d.size(0);
  const auto z = rfft(to_raw(x1d, DType::Float64, Device::cpu())).to_vector<double>();
  int64_t best = 0;
  double best_mag = -1;
  for (int64_t k = 0; k <= n / 2; ++k) {
    const double m = std::hypot(z[size_t(2 * k)], z[size_t(2 * k + 1)]);
    if (m > best_mag) best_mag = m, best = k;
  }
  return double(best) * double(rate) / double(n);
}

// Largest |a - b| over [from, size - from).
double worst_inside(const Tensor& a, const Tensor& b, int64_t from) {
  const auto u = a.to_vector<double>(), v = b.to_vector<double>();
  double worst = 0;
  for (size_t t = size_t(from); t + size_t(from) < u.size(); ++t) worst = std::max(worst, std::abs(u[t] - v[t]));
  return worst;
}

TEST(AudioPolyphaseResample, SineKeepsItsFrequencyAndValues) {
  const int64_t orig = 44100, n = 44100;
  Tensor x = sine(1000, orig, n);
  for (int64_t target : {8000, 16000, 22050, 48000, 96000}) {
    for (const char* method : {"sinc_interp_hann", "sinc_interp_kaiser"}) {
      Tensor y = resample_polyphase(x, orig, target, 6, 0.99, method);
      ASSERT_EQ(y.sizes(), (Shape{resampled_length(n, orig, target)}));
      EXPECT_NEAR(peak_frequency(y, target), 1000, 1.0) << target;
      // away from the edges (where the input is taken as zero) the samples are the sine's
      EXPECT_LT(worst_inside(y, sine(1000, target, y.size(0)), target / 10), 5e-4) << target << " " << method;
    }
  }
}

TEST(AudioPolyphaseResample, AttenuatesWhatLiesAboveTheNewNyquist) {
  // 44.1 -> 16 kHz, cutoff 0.99 * 8 kHz. torchaudio's figures (rms left of a 0.35 rms tone):
  // Hann 1.9e-3 at 10 kHz (-45 dB), 2.3e-5 at 14 kHz; Kaiser (beta 14.77) has the wider
  // transition (3.4e-2 at 10 kHz) and the deeper stop band (2.7e-7 at 14 kHz).
  auto rms_inside = [](const Tensor& y) {
    const auto v = y.to_vector<double>();
    double e = 0;
    for (size_t t = 1600; t + 1600 < v.size(); ++t) e += v[t] * v[t];
    return std::sqrt(e / double(v.size() - 3200));
  };
  Tensor x10 = sine(10000, 44100, 44100), x14 = sine(14000, 44100, 44100);
  const double hann10 = rms_inside(resample_polyphase(x10, 44100, 16000));
  EXPECT_LT(hann10, 2.5e-3);
  EXPECT_LT(rms_inside(resample_polyphase(x14, 44100, 16000)), 5e-5);
  EXPECT_LT(rms_inside(resample_polyphase(x14, 44100, 16000, 6, 0.99, "sinc_interp_kaiser")), 1e-6);
  // a wider filter cuts more sharply
  EXPECT_LT(rms_inside(resample_polyphase(x10, 44100, 16000, 16)), hann10 / 4);
}

TEST(AudioPolyphaseResample, LengthsShapesDtypesAndRows) {
  Tensor x = testing::leaf64({2, 3, 1001}).detach();
  for (auto [o, n] : std::vector<std::pair<int64_t, int64_t>>{{3, 2}, {2, 3}, {44100, 22050}, {1000, 997}, {6, 4}}) {
    Tensor y = resample_polyphase(x, o, n);
    EXPECT_EQ(y.sizes(), (Shape{2, 3, resampled_length(1001, o, n)})) << o << "->" << n;
    EXPECT_EQ(y.dtype(), DType::Float64);
    Tensor y32 = resample_polyphase(to_raw(x, DType::Float32, Device::cpu()), o, n);
    EXPECT_EQ(y32.dtype(), DType::Float32);
    // float32 computes the filter's t in float32, as torchaudio does: off by ~1e-6 * orig
    // (1000 -> 997: ~1e-4, the same as torchaudio's float32 against its float64)
    const double tol = o == 1000 ? 2e-4 : 1e-5;
    EXPECT_CLOSE(to_raw(y32, DType::Float64, Device::cpu()), y, tol, tol);
  }
  // 6 -> 4 is 3 -> 2 after the gcd: the same filter bank, the same values
  EXPECT_CLOSE(resample_polyphase(x, 6, 4), resample_polyphase(x, 3, 2), 0, 0);
  // rows are independent: row 1 of the batch equals that row resampled alone
  Tensor b = resample_polyphase(x, 3, 2);
  Tensor row = resample_polyphase(make_view(x, {1001}, {1}, 1001), 3, 2);
  const auto bv = b.to_vector<double>(), rv = row.to_vector<double>();
  for (size_t t = 0; t < rv.size(); ++t) ASSERT_EQ(bv[rv.size() + t], rv[t]);
  // equal rates: the waveform itself, as torchaudio
  Tensor same = resample_polyphase(x, 16000, 16000);
  EXPECT_TRUE(same.raw_data() == x.raw_data());
  // empty time axis; a single sample
  EXPECT_EQ(resample_polyphase(zeros({2, 0}), 2, 3).sizes(), (Shape{2, 0}));
  EXPECT_EQ(resample_polyphase(ones({1}), 44100, 16000).sizes(), (Shape{1}));
}

TEST(AudioPolyphaseResample, IsLinearAndDifferentiable) {
  Tensor a = testing::leaf64({50}, -1, 1, 3).detach(), c = testing::leaf64({50}, -1, 1, 4).detach();
  Tensor lhs = resample_polyphase(add(mul(a, 2.0), c), 5, 7);
  Tensor rhs = add(mul(resample_polyphase(a, 5, 7), 2.0), resample_polyphase(c, 5, 7));
  EXPECT_CLOSE(lhs, rhs, 1e-12, 1e-12);
  // sum(resample(x)) has the gradient sum_m taps feeding each input: one row of the adjoint
  Tensor x = testing::leaf64({40});
  Tensor y = resample_polyphase(x, 2, 1);
  EXPECT_TRUE(y.requires_grad());
  autograd::backward({sum(y)}, {});
  ASSERT_TRUE(x.grad().defined());
  // inside, each input feeds the outputs with weights summing to the DC gain new/orig = 1/2
  const auto g = x.grad().to_vector<double>();
  EXPECT_NEAR(g[20], 0.5, 1e-2);
}

TEST(AudioPolyphaseResample, ResampleUsesItByDefault) {
  Tensor x = testing::leaf64({2, 300}).detach();
  EXPECT_CLOSE(resample(x, 22050, 16000), resample_polyphase(x, 22050, 16000), 0, 0);
  EXPECT_CLOSE(resample(x, 22050, 16000, ResampleQuality::SincHann), resample_polyphase(x, 22050, 16000), 0, 0);
  // without libsamplerate's ratio limit
  EXPECT_EQ(resample(x, 1, 1000, ResampleQuality::SincHann).size(1), 300000);
  // differentiable through resample() too
  Tensor leaf = testing::leaf64({2, 30});
  EXPECT_TRUE(resample(leaf, 3, 2).requires_grad());
  EXPECT_FALSE(resample(leaf, 3, 2, ResampleQuality::Medium).requires_grad());
}

TEST(AudioPolyphaseResample, Errors) {
  EXPECT_THROW_MSG(resample_polyphase(zeros({4}, {.dtype = DType::Int64}), 2, 3), "expected float32 or float64");
  EXPECT_THROW_MSG(resample_polyphase(zeros({4}), 0, 3), "must be positive");
  EXPECT_THROW_MSG(resample_polyphase(zeros({4}), 3, -1), "must be positive");
  EXPECT_THROW_MSG(resample_polyphase(scalar_tensor(1.0), 2, 3), "at least 1 dimension");
  EXPECT_THROW_MSG(resample_polyphase(zeros({4}), 2, 3, 0), "lowpass_filter_width 0 must be positive");
  EXPECT_THROW_MSG(resample_polyphase(zeros({4}), 2, 3, 6, 0.0), "rolloff");
  EXPECT_THROW_MSG(resample_polyphase(zeros({4}), 2, 3, 6, 0.99, "linear"), "method 'linear'");
  EXPECT_THROW_MSG(resample_polyphase(zeros({4}), 9999991, 9999989), "choose rates with a larger common divisor");
}

}  // namespace
}  // namespace fm
