// Augmentation: the properties each transform promises (exact gain, measured SNR, pitch and
// length after stretching and shifting, mask widths), mixup, and determinism given a seed.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <set>

#include "audio/augment.h"
#include "audio/fft.h"
#include "audio/phase_vocoder.h"
#include "audio/spec_augment.h"
#include "audio/stft.h"
#include "support/test_support.h"

namespace fm {
namespace {

using namespace fm::audio;

constexpr int64_t kSr = 16000;

Tensor sine(double hz, int64_t n, DType dtype = DType::Float64, double amp = 0.5) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = amp * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / kSr);
  Tensor t = from_vector(v, {n});
  return dtype == DType::Float64 ? t : to(t, dtype);
}

// Frequency (Hz) of the largest bin of a Hann-windowed FFT of `n` samples from the middle, and
// the bin width.
std::pair<double, double> peak_hz(const Tensor& x, int64_t n = 8192) {
  const int64_t T = x.sizes().back();
  const int64_t start = (T - n) / 2;
  Tensor seg = mul(to(slice(x, -1, start, start + n), DType::Float64), hann_window(n, true, DType::Float64));
  Tensor s = rfft(seg);
  Tensor mag = add(mul(select(s, -1, 0), select(s, -1, 0)), mul(select(s, -1, 1), select(s, -1, 1)));
  const double bin = static_cast<double>(kSr) / static_cast<double>(n);
  return {static_cast<double>(argmax(mag).item<int64_t>()) * bin, bin};
}

double power_db(const Tensor& x) { return 10.0 * std::log10(mean(mul(x, x)).item<double>()); }

TEST(AudioAugment, GainIsExactInDecibels) {
  Tensor x = testing::leaf64({2, 300}).detach();
  for (double db : {-12.0, 0.0, 3.5}) {
    Tensor y = gain(x, db);
    EXPECT_CLOSE(y, mul(x, std::pow(10.0, db / 20.0)), 1e-15, 0);
    EXPECT_NEAR(power_db(y) - power_db(x), db, 1e-10);
  }
  Tensor x32 = to(x, DType::Float32);
  EXPECT_EQ(gain(x32, 6.0).dtype(), DType::Float32);
  EXPECT_NEAR(power_db(to(gain(x32, 6.0), DType::Float64)) - power_db(x), 6.0, 1e-5);
  EXPECT_CLOSE(polarity_inversion(x), neg(x), 0, 0);
  EXPECT_THROW_MSG(gain(from_vector(std::vector<int64_t>{1, 2}, {2}), 1.0), "gain: expected a float32 or float64");
}

TEST(AudioAugment, WhiteNoiseHasTheRequestedSnrPerRow) {
  Tensor x = stack({sine(440, 8000), sine(1000, 8000, DType::Float64, 0.01)});  // rows 34 dB apart
  for (DType dt : {DType::Float32, DType::Float64}) {
    for (double snr : {0.0, 10.0, 30.0}) {
      Generator gen(3);
      Tensor xs = to(x, dt);
      Tensor y = add_white_noise(xs, snr, &gen);
      for (int64_t r = 0; r < 2; ++r) {
        Tensor s = to(select(xs, 0, r), DType::Float64), n = to(sub(select(y, 0, r), select(xs, 0, r)), DType::Float64);
        EXPECT_NEAR(power_db(s) - power_db(n), snr, 0.5) << "row " << r << " dtype " << dt;
        EXPECT_NEAR(power_db(s) - power_db(n), snr, 1e-3);  // the scaling makes it exact
      }
    }
  }
  Generator g1(5), g2(5), g3(6);
  EXPECT_CLOSE(add_white_noise(x, 10, &g1), add_white_noise(x, 10, &g2), 0, 0);
  EXPECT_FALSE(testing::close(add_white_noise(x, 10, &g1), add_white_noise(x, 10, &g3)));
  // a silent row stays silent
  Tensor z = zeros({100}, {.dtype = DType::Float64});
  EXPECT_CLOSE(add_white_noise(z, 10, &g1), z, 0, 0);
  EXPECT_THROW_MSG(add_noise(x, zeros({3}), 1.0), "add_noise: noise must have the waveform's shape");
}

TEST(AudioAugment, MixupMixesAudioAndLabelsByLambda) {
  Tensor a = testing::leaf64({2, 50}, -1, 1, 1).detach(), b = testing::leaf64({2, 50}, -1, 1, 2).detach();
  Tensor la = from_vector(std::vector<double>{1, 0, 0}, {3}), lb = from_vector(std::vector<double>{0, 0, 1}, {3});
  Mixed m = mixup(a, b, la, lb, 0.3);
  EXPECT_CLOSE(m.waveform, add(mul(a, 0.3), mul(b, 0.7)), 1e-15, 1e-15);
  EXPECT_CLOSE(m.labels, from_vector(std::vector<double>{0.3, 0, 0.7}, {3}), 1e-15, 1e-15);
  // class indices become one-hot rows
  Mixed mi = mixup(a, b, scalar_tensor(0, {.dtype = DType::Int64}), scalar_tensor(2, {.dtype = DType::Int64}), 0.3, 3);
  EXPECT_CLOSE(mi.labels, m.labels, 1e-15, 1e-15);
  EXPECT_THROW_MSG(
      mixup(a, b, scalar_tensor(0, {.dtype = DType::Int64}), scalar_tensor(2, {.dtype = DType::Int64}), 0.3),
      "need num_classes");
  EXPECT_THROW_MSG(mixup(a, b, la, lb, 1.5), "lambda must be in [0, 1]");

  // a batch mixed with a permutation of itself: each row is lambda * x_i + (1 - lambda) * x_perm(i)
  Tensor x = testing::leaf64({6, 40}, -1, 1, 8).detach();
  Tensor labels = from_vector(std::vector<int64_t>{0, 1, 2, 3, 0, 1}, {6});
  Generator gen(11), again(11);
  Mixup mix(0.4, 4);
  Mixed r = mix(x, labels, &gen);
  Mixed r2 = mix(x, labels, &again);
  EXPECT_EQ(r.lambda, r2.lambda);
  EXPECT_CLOSE(r.waveform, r2.waveform, 0, 0);
  ASSERT_GE(r.lambda, 0.0);
  ASSERT_LE(r.lambda, 1.0);
  EXPECT_EQ(r.labels.sizes(), (Shape{6, 4}));
  EXPECT_CLOSE(sum(r.labels, {1}), ones({6}, {.dtype = DType::Float64}), 1e-12, 1e-12);
  for (int64_t i = 0; i < 6; ++i) {
    Tensor row = select(r.waveform, 0, i);
    bool found = false;
    for (int64_t j = 0; j < 6 && !found; ++j)
      found = testing::close(row, add(mul(select(x, 0, i), r.lambda), mul(select(x, 0, j), 1 - r.lambda)), 1e-12,
                             1e-12);
    EXPECT_TRUE(found) << "row " << i;
  }
}

TEST(AudioAugment, BetaDrawsHaveTheBetaMoments) {
  for (double alpha : {0.2, 2.0}) {
    Generator gen(123);
    const int n = 4000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double v = sample_beta(alpha, alpha, &gen);
      ASSERT_TRUE(v >= 0.0 && v <= 1.0) << v;
      s += v;
      s2 += v * v;
    }
    const double m = s / n, var = s2 / n - m * m;
    const double want_var = 1.0 / (4.0 * (2.0 * alpha + 1.0));  // ab/((a+b)^2(a+b+1)) at a = b
    EXPECT_NEAR(m, 0.5, 0.03) << "alpha " << alpha;
    EXPECT_NEAR(var, want_var, 0.1 * want_var) << "alpha " << alpha;
  }
}

TEST(AudioAugment, RandomCropTakesAWindowOrPads) {
  Tensor x = unsqueeze(arange(0.0, 100.0, 1.0, {.dtype = DType::Float64}), 0);
  std::set<double> starts;
  Generator gen(9);
  for (int i = 0; i < 20; ++i) {
    Tensor c = random_crop(x, 30, &gen);
    ASSERT_EQ(c.sizes(), (Shape{1, 30}));
    const double s0 = c.to_vector<double>()[0];
    EXPECT_CLOSE(c, unsqueeze(arange(s0, s0 + 30, 1.0, {.dtype = DType::Float64}), 0), 0, 0);
    EXPECT_LE(s0, 70.0);
    starts.insert(s0);
  }
  EXPECT_GT(starts.size(), 5u);
  Tensor p = random_crop(x, 120, &gen);
  EXPECT_CLOSE(p, pad(x, {0, 20}), 0, 0);
  EXPECT_CLOSE(crop(x, 10, 5), slice(x, 1, 10, 15), 0, 0);
  EXPECT_THROW_MSG(crop(x, 101, 5), "crop: offset 101 is outside [0, 100]");
}

TEST(AudioAugment, PhaseVocoderShapesAndIdentity) {
  Tensor spec = testing::leaf64({3, 33, 20, 2}).detach();
  Tensor adv = phase_advance(33, 16, DType::Float64);
  EXPECT_EQ(phase_vocoder(spec, 1.3, adv).sizes(), (Shape{3, 33, 16, 2}));  // ceil(20 / 1.3)
  EXPECT_EQ(phase_vocoder(spec, 0.5, adv).sizes(), (Shape{3, 33, 40, 2}));
  EXPECT_CLOSE(phase_vocoder(spec, 1.0, adv), spec, 0, 0);
  // rate 1 kept through the accumulation path gives the input back too (phases wrap exactly)
  Tensor f32 = phase_vocoder(to(spec, DType::Float32), 2.0, to(adv, DType::Float32));
  EXPECT_EQ(f32.dtype(), DType::Float32);
  EXPECT_CLOSE(f32, to(phase_vocoder(spec, 2.0, adv), DType::Float32), 1e-4, 1e-4);
  EXPECT_THROW_MSG(phase_vocoder(spec, 1.3, phase_advance(10, 16)), "phase_advance must be [freq] or [freq, 1]");
  EXPECT_THROW_MSG(phase_vocoder(spec, -1.0, adv), "rate must be positive");
}

TEST(AudioAugment, TorchaudioStyleModules) {
  Tensor spec = testing::leaf64({2, 65, 20, 2}).detach();
  TimeStretch ts(32, 65, 1.3);
  Tensor want = phase_vocoder(spec, 1.3, to(phase_advance(65, 32), DType::Float64));
  EXPECT_CLOSE(ts(spec), want, 1e-6, 1e-6);  // the buffer is float32, as in torchaudio
  EXPECT_EQ(ts.forward(spec, 0.5).sizes(), (Shape{2, 65, 40, 2}));
  EXPECT_EQ(ts.named_buffers()[0].first, "phase_advance");
  EXPECT_EQ(ts.phase_advance.sizes(), (Shape{65, 1}));
  EXPECT_THROW_MSG(TimeStretch()(spec), "no fixed_rate was given");
  Tensor x = sine(440, 4000, DType::Float32);
  PitchShift ps(kSr, 4, 12, 256);
  EXPECT_CLOSE(ps(x), pitch_shift(x, kSr, 4, 12, 256, 256, 64, hann_window(256)), 0, 0);
}

TEST(AudioAugment, TimeStretchScalesTheLengthAndKeepsThePitch) {
  const int64_t T = 32000;
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tensor x = sine(440, T, dt);
    const auto [f0, bin] = peak_hz(x);
    for (double rate : {0.8, 1.25, 1.5}) {
      Tensor y = time_stretch(x, rate, 1024);
      EXPECT_EQ(y.sizes().back(), static_cast<int64_t>(std::nearbyint(T / rate)));
      EXPECT_EQ(y.dtype(), dt);
      const auto [f1, b1] = peak_hz(y);
      EXPECT_LE(std::abs(f1 - f0), bin + 1e-9) << "rate " << rate << ": " << f0 << " Hz -> " << f1 << " Hz";
    }
  }
  // batched rows are stretched independently
  Tensor xb = stack({sine(440, 4000), sine(700, 4000)});
  Tensor yb = time_stretch(xb, 1.25);
  EXPECT_CLOSE(select(yb, 0, 1), time_stretch(sine(700, 4000), 1.25), 1e-12, 1e-12);
}

TEST(AudioAugment, PitchShiftByAnOctaveDoublesOrHalvesThePeak) {
  const int64_t T = 32000;
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tensor x = sine(440, T, dt);
    const auto [f0, bin] = peak_hz(x);
    Tensor up = pitch_shift(x, kSr, 12, 12, 1024);
    Tensor down = pitch_shift(x, kSr, -12, 12, 1024);
    EXPECT_EQ(up.sizes(), x.sizes());
    EXPECT_EQ(down.sizes(), x.sizes());
    EXPECT_EQ(up.dtype(), dt);
    EXPECT_LE(std::abs(peak_hz(up).first - 2 * f0), bin + 1e-9) << "up: " << peak_hz(up).first;
    EXPECT_LE(std::abs(peak_hz(down).first - f0 / 2), bin + 1e-9) << "down: " << peak_hz(down).first;
  }
  // seven semitones: a fifth (x 1.4983)
  Tensor fifth = pitch_shift(sine(440, T), kSr, 7);
  EXPECT_NEAR(peak_hz(fifth).first, 440 * std::pow(2.0, 7.0 / 12.0), 2 * peak_hz(fifth).second);
}

// The masked columns (time) or rows (frequency) of a positive spectrogram masked with -1.
std::vector<int64_t> masked(const Tensor& spec2d, bool time) {
  const int64_t F = spec2d.sizes()[0], T = spec2d.sizes()[1];
  const auto v = contiguous(spec2d).to_vector<double>();
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < (time ? T : F); ++i) {
    int64_t count = 0;
    for (int64_t j = 0; j < (time ? F : T); ++j) count += (time ? v[j * T + i] : v[i * T + j]) == -1.0;
    EXPECT_TRUE(count == 0 || count == (time ? F : T)) << "a partly masked line";
    if (count > 0) idx.push_back(i);
  }
  return idx;
}

bool contiguous_run(const std::vector<int64_t>& idx) {
  return idx.empty() || idx.back() - idx.front() + 1 == static_cast<int64_t>(idx.size());
}

TEST(AudioAugment, SpecAugmentMasksStayWithinBounds) {
  Tensor spec = add(testing::leaf64({2, 3, 40, 60}, 0, 1).detach(), 0.5);
  Generator gen(21);
  TimeMasking tm(10, /*iid_masks=*/true, 1.0, -1.0);
  FrequencyMasking fm_(8, /*iid_masks=*/false, -1.0);
  int64_t widest = 0;
  std::set<int64_t> time_starts;
  for (int rep = 0; rep < 30; ++rep) {
    Tensor t = tm(spec, gen);
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t c = 0; c < 3; ++c) {
        const auto idx = masked(select(select(t, 0, b), 0, c), true);
        EXPECT_TRUE(contiguous_run(idx));
        EXPECT_LT(static_cast<int64_t>(idx.size()), 10);  // width = floor(u * mask_param) < mask_param
        widest = std::max<int64_t>(widest, static_cast<int64_t>(idx.size()));
        if (!idx.empty()) time_starts.insert(idx.front());
      }
    Tensor f = fm_(spec, gen);
    const auto first = masked(select(select(f, 0, 0), 0, 0), false);
    EXPECT_TRUE(contiguous_run(first));
    EXPECT_LT(static_cast<int64_t>(first.size()), 8);
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(masked(select(select(f, 0, b), 0, c), false), first) << "shared mask";
  }
  EXPECT_GE(widest, 7);
  EXPECT_GT(time_starts.size(), 10u);  // iid masks differ
  // p caps the width at floor(p * size)
  TimeMasking capped(50, false, 0.1, -1.0);
  for (int rep = 0; rep < 20; ++rep)
    EXPECT_LT(static_cast<int64_t>(masked(select(select(capped(spec, gen), 0, 0), 0, 0), true).size()), 6);
  // the same seed masks the same places
  Generator a(4), b(4), c(5);
  EXPECT_CLOSE(tm(spec, a), tm(spec, b), 0, 0);
  EXPECT_FALSE(testing::close(tm(spec, a), tm(spec, c), 0, 0));
  EXPECT_THROW_MSG(mask_along_axis(spec, 5, 0, 1), "axis must be one of the last two dims");
  EXPECT_THROW_MSG(TimeMasking(5, false, 1.5), "p must be in [0, 1]");
}

TEST(AudioAugment, MaskAtGivenPositions) {
  Tensor spec = testing::leaf64({2, 5, 7}).detach();
  Tensor starts = from_vector(std::vector<int64_t>{1, 4}, {2}), widths = from_vector(std::vector<int64_t>{2, 9}, {2});
  Tensor y = mask_along_axis_at(spec, -1, starts, widths, 0.25);
  auto v = contiguous(y).to_vector<double>();
  auto xs = contiguous(spec).to_vector<double>();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t f = 0; f < 5; ++f)
      for (int64_t t = 0; t < 7; ++t) {
        const bool m = b == 0 ? (t >= 1 && t < 3) : t >= 4;
        const size_t i = static_cast<size_t>((b * 5 + f) * 7 + t);
        EXPECT_EQ(v[i], m ? 0.25 : xs[i]);
      }
  EXPECT_THROW_MSG(mask_along_axis_at(spec, -1, from_vector(std::vector<int64_t>{1, 2, 3}, {3}), widths),
                   "starts must be int64 of the leading shape [2]");
}

std::shared_ptr<Compose> pipeline() {
  auto c = std::make_shared<Compose>();
  c->add(std::make_shared<Gain>(-6, 6), 0.8)
      .add(std::make_shared<RandomTimeStretch>(0.9, 1.1), 0.5)
      .add(std::make_shared<RandomPitchShift>(kSr, -2, 2), 0.5)
      .add(std::make_shared<AddGaussianSNR>(10, 30), 0.7)
      .add(std::make_shared<PolarityInversion>(), 0.5)
      .add(std::make_shared<RandomCrop>(3000), 1.0);
  return c;
}

TEST(AudioAugment, ComposeIsDeterministicGivenASeed) {
  auto c = pipeline();
  Tensor x = stack({sine(440, 4000, DType::Float32), sine(660, 4000, DType::Float32)});
  Generator g1(100), g2(100), g3(101);
  Tensor y1 = (*c)(x, g1), y2 = (*c)(x, g2), y3 = (*c)(x, g3);
  EXPECT_EQ(y1.sizes(), (Shape{2, 3000}));
  EXPECT_CLOSE(y1, y2, 0, 0);
  EXPECT_FALSE(testing::close(y1, y3));
  // successive calls draw fresh parameters
  EXPECT_FALSE(testing::close((*c)(x, g1), y1));
  // the default generator, through fm::manual_seed
  manual_seed(7);
  Tensor d1 = c->forward(x);
  manual_seed(7);
  EXPECT_CLOSE(c->forward(x), d1, 0, 0);
  EXPECT_EQ(c->size(), 6u);
  EXPECT_EQ(c->named_children()[3].first, "3");
  EXPECT_NE(c->to_string().find("AddGaussianSNR(min_snr_db=10, max_snr_db=30)"), std::string::npos) << c->to_string();
}

TEST(AudioAugment, ComposeProbabilities) {
  Tensor x = sine(440, 2000);
  Compose never({{std::make_shared<Gain>(-6, -6), 0.0}, {std::make_shared<PolarityInversion>(), 0.0}});
  Compose always({{std::make_shared<Gain>(-6, -6), 1.0}, {std::make_shared<PolarityInversion>(), 1.0}});
  Generator gen(1);
  EXPECT_CLOSE(never(x, gen), x, 0, 0);
  EXPECT_CLOSE(always(x, gen), neg(gain(x, -6)), 1e-15, 0);
  Compose half({{std::make_shared<PolarityInversion>(), 0.5}});
  int flipped = 0;
  for (int i = 0; i < 400; ++i) flipped += half(x, gen).to_vector<double>()[10] < 0;
  EXPECT_NEAR(flipped, 200, 40);
  EXPECT_THROW_MSG(Compose().add(std::make_shared<Gain>(), 1.5), "probability of transform 0 (Gain) must be in [0, 1]");
  EXPECT_THROW_MSG(Gain(3, -3), "expected min_gain_db <= max_gain_db");
}

TEST(AudioAugment, RandomTimeStretchKeepsOrChangesTheLength) {
  Tensor x = sine(440, 3000);
  Generator gen(2);
  EXPECT_EQ(RandomTimeStretch(1.2, 1.2, true)(x, gen).sizes(), x.sizes());
  EXPECT_EQ(RandomTimeStretch(1.2, 1.2, false)(x, gen).sizes().back(), 2500);
  EXPECT_EQ(RandomPitchShift(kSr, 3, 3)(x, gen).sizes(), x.sizes());
}

}  // namespace
}  // namespace fm
