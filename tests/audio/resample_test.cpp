// Resampling by every quality (the default SincHann, libsamplerate's converters): lengths,
// dtypes, and a sine keeps its frequency (compared with the analytically known resampled sine,
// and by the peak of its spectrum). tests/audio/polyphase_resample_test.cpp covers SincHann.
#include <gtest/gtest.h>

#include <cmath>

#include "audio/fft.h"
#include "audio/resample.h"
#include "support/test_support.h"

namespace fm {
namespace {

using namespace fm::audio;

std::vector<float> sine(double freq, int64_t rate, int64_t n, double amp = 0.5) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) v[size_t(t)] = float(amp * std::sin(2 * M_PI * freq * double(t) / double(rate)));
  return v;
}

// Frequency (Hz) of the largest bin of |rfft(x)|.
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

TEST(AudioResample, SineKeepsItsFrequencyAndValues) {
  const int64_t orig = 44100, n = 44100;
  const double f = 1000;
  Tensor x = from_vector(sine(f, orig, n), {n});
  for (int64_t target : {16000, 22050, 48000, 96000}) {
    Tensor y = resample(x, orig, target);
    ASSERT_EQ(y.sizes(), (Shape{resampled_length(n, orig, target)}));
    EXPECT_NEAR(peak_frequency(y, target), f, 1.0) << target;
    // Away from the edges (the filter's transient), the samples are those of the same sine
    // at the new rate.
    const auto v = y.to_vector<float>();
    const auto want = sine(f, target, y.size(0));
    double worst = 0;
    for (int64_t t = target / 10; t < y.size(0) - target / 10; ++t)
      worst = std::max(worst, std::abs(double(v[size_t(t)]) - double(want[size_t(t)])));
    EXPECT_LT(worst, 1e-3) << "to " << target << " Hz";
  }
}

TEST(AudioResample, EveryQualityKeepsTheFrequency) {
  Tensor x = from_vector(sine(440, 8000, 8000), {8000});
  for (auto q : {ResampleQuality::Best, ResampleQuality::Medium, ResampleQuality::Fastest,
                 ResampleQuality::ZeroOrderHold, ResampleQuality::Linear, ResampleQuality::SincHann}) {
    Tensor y = resample(x, 8000, 11025, q);
    EXPECT_EQ(y.size(0), 11025);
    EXPECT_NEAR(peak_frequency(y, 11025), 440, 1.0) << int(q);
  }
}

TEST(AudioResample, BestRemovesWhatLiesAboveTheNewNyquist) {
  // libsamplerate's Best: deeper than SincHann's -45 dB here (polyphase_resample_test.cpp)
  Tensor x = from_vector(sine(10000, 44100, 44100), {44100});
  const auto v = resample(x, 44100, 16000, ResampleQuality::Best).to_vector<float>();
  double energy = 0;
  for (size_t t = 1600; t + 1600 < v.size(); ++t) energy += double(v[t]) * v[t];
  EXPECT_LT(std::sqrt(energy / double(v.size() - 3200)), 1e-3);
}

TEST(AudioResample, LengthsShapesAndDtypes) {
  EXPECT_EQ(resampled_length(10, 3, 2), 7);  // ceil(20/3)
  EXPECT_EQ(resampled_length(44100, 44100, 16000), 16000);
  EXPECT_EQ(resampled_length(1, 44100, 16000), 1);
  EXPECT_EQ(resampled_length(0, 44100, 16000), 0);
  Tensor x = testing::leaf64({2, 3, 1001}).detach();
  for (auto [o, n] : std::vector<std::pair<int64_t, int64_t>>{{3, 2}, {2, 3}, {44100, 22050}, {1000, 997}}) {
    Tensor y = resample(x, o, n);
    EXPECT_EQ(y.sizes(), (Shape{2, 3, resampled_length(1001, o, n)}));
    EXPECT_EQ(y.dtype(), DType::Float64);
    Tensor y32 = resample(to_raw(x, DType::Float32, Device::cpu()), o, n, ResampleQuality::Fastest);
    EXPECT_EQ(y32.dtype(), DType::Float32);
    EXPECT_EQ(y32.sizes(), y.sizes());
  }
  // rows are independent: row 1 of a batch equals the row resampled alone
  Tensor b = resample(x, 3, 2);
  Tensor row = resample(make_view(x, {1001}, {1}, 1001), 3, 2);
  const auto bv = b.to_vector<double>(), rv = row.to_vector<double>();
  for (size_t t = 0; t < rv.size(); ++t) ASSERT_EQ(bv[rv.size() + t], rv[t]);
  // equal rates: a copy, not a view
  Tensor same = resample(x, 16000, 16000);
  EXPECT_CLOSE(same, x, 0, 0);
  EXPECT_FALSE(same.raw_data() == x.raw_data());
  // empty time axis
  EXPECT_EQ(resample(zeros({2, 0}), 2, 3).sizes(), (Shape{2, 0}));
}

TEST(AudioResample, Errors) {
  EXPECT_THROW_MSG(resample(zeros({4}, {.dtype = DType::Int64}), 2, 3), "expected float32 or float64");
  EXPECT_THROW_MSG(resample(zeros({4}), 0, 3), "must be positive");
  EXPECT_THROW_MSG(resample(zeros({4}), 1, 1000, ResampleQuality::Best), "outside libsamplerate's range");
  EXPECT_THROW_MSG(resample(scalar_tensor(1.0), 2, 3), "at least 1 dimension");
}

}  // namespace
}  // namespace fm
