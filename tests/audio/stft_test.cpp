// STFT / iSTFT / features: shapes, round trips, windows and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "audio/features.h"
#include "audio/fft.h"
#include "audio/stft.h"
#include "support/test_support.h"

namespace fm {
namespace {

using namespace fm::audio;

TEST(AudioStft, ShapesBatchedAndOnesided) {
  Tensor x = testing::leaf64({2, 3, 1000}).detach();
  Tensor s = stft(x, 256, 64);
  EXPECT_EQ(s.sizes(), (Shape{2, 3, 129, 1 + 1000 / 64, 2}));
  Tensor f = stft(x, 256, 64, std::nullopt, Tensor(), false, "reflect", false, false);
  EXPECT_EQ(f.sizes(), (Shape{2, 3, 256, 1 + (1000 - 256) / 64, 2}));
  Tensor one = stft(select(select(x, 0, 0), 0, 0), 128);
  EXPECT_EQ(one.sizes(), (Shape{65, 1 + 1000 / 32, 2}));
}

TEST(AudioStft, RoundTripIstft) {
  Tensor x = testing::leaf64({2, 1000}).detach();
  for (int64_t n_fft : {64, 255, 256}) {
    for (bool center : {true}) {  // without centering the periodic Hann envelope is 0 at sample 0 (NOLA fails, as in torch)
      for (bool normalized : {false, true}) {
        Tensor s = stft(x, n_fft, n_fft / 4, std::nullopt, Tensor(), center, "reflect", normalized);
        Tensor y = istft(s, n_fft, n_fft / 4, std::nullopt, Tensor(), center, normalized, true,
                         center ? std::optional<int64_t>(1000) : std::nullopt);
        if (center) {
          EXPECT_CLOSE(y, x, 1e-10, 1e-10) << "n_fft " << n_fft;
        } else {
          // the first and last frames are only partly covered: compare where the window is
          const int64_t len = y.sizes().back();
          EXPECT_CLOSE(slice(y, -1, n_fft, len - n_fft), slice(x, -1, n_fft, len - n_fft), 1e-10, 1e-10);
        }
      }
    }
  }
  // float32, a shorter window and a two-sided spectrum
  Tensor x32 = to(x, DType::Float32);
  Tensor s = stft(x32, 128, 32, 100, hann_window(100), true, "constant", false, false);
  EXPECT_CLOSE(istft(s, 128, 32, 100, hann_window(100), true, false, false, 1000), x32, 1e-4, 1e-5);
}

TEST(AudioStft, MatchesDirectDft) {
  Tensor x = testing::leaf64({40}).detach();
  Tensor s = stft(x, 16, 8, std::nullopt, Tensor(), false);
  Tensor w = hann_window(16, true, DType::Float64);
  const double* xp = x.data_ptr<double>();
  const double* wp = w.data_ptr<double>();
  Tensor sc = contiguous(s);
  const double* sp = sc.data_ptr<double>();
  const int64_t frames = s.sizes()[1];
  for (int64_t k = 0; k < 9; ++k)
    for (int64_t f = 0; f < frames; ++f) {
      double re = 0, im = 0;
      for (int64_t n = 0; n < 16; ++n) {
        const double a = -2 * M_PI * k * n / 16.0;
        re += xp[f * 8 + n] * wp[n] * std::cos(a);
        im += xp[f * 8 + n] * wp[n] * std::sin(a);
      }
      EXPECT_NEAR(sp[(k * frames + f) * 2], re, 1e-12);
      EXPECT_NEAR(sp[(k * frames + f) * 2 + 1], im, 1e-12);
    }
}

TEST(AudioStft, WindowsMatchTorch) {
  // torch.hann_window(4) = [0, .5, 1, .5]; periodic=False (5) = [0, .5, 1, .5, 0]
  EXPECT_CLOSE(hann_window(4, true, DType::Float64), tensor({0, 0.5, 1, 0.5}, {.dtype = DType::Float64}));
  EXPECT_CLOSE(hann_window(5, false, DType::Float64), tensor({0, 0.5, 1, 0.5, 0}, {.dtype = DType::Float64}));
  EXPECT_CLOSE(hamming_window(4, true, 0.54, 0.46, DType::Float64),
               tensor({0.08, 0.54, 1.0, 0.54}, {.dtype = DType::Float64}));
  EXPECT_CLOSE(blackman_window(4, true, DType::Float64),
               tensor({0.0, 0.34, 1.0, 0.34}, {.dtype = DType::Float64}), 1e-12, 1e-12);
  EXPECT_EQ(hann_window(1).sizes(), (Shape{1}));
}

TEST(AudioStft, ErrorsNameOpAndShape) {
  Tensor x = testing::leaf64({2, 100}).detach();
  EXPECT_THROW_MSG(stft(x, 0), "stft: n_fft must be positive");
  EXPECT_THROW_MSG(stft(x, 256, 64, std::nullopt, Tensor(), false), "[2, 100]");
  EXPECT_THROW_MSG(stft(x, 256), "stft: reflect padding");
  EXPECT_THROW_MSG(stft(x, 64, 16, 80), "stft: expected 0 < win_length <= n_fft");
  EXPECT_THROW_MSG(stft(x, 64, 16, 64, hann_window(32, true, DType::Float64)), "[32]");
  EXPECT_THROW_MSG(stft(x, 64, 16, std::nullopt, Tensor(), true, "circular"), "pad_mode");
  Tensor s = stft(x, 64, 16);
  EXPECT_THROW_MSG(istft(s, 128, 16), "istft: expected [..., 65, frames, 2]");
  EXPECT_THROW_MSG(istft(s, 64, 16, std::nullopt, mul(hann_window(64, true, DType::Float64), 0.0)), "istft: window");
}

TEST(AudioFft, PlansCachedAndThreadSafe) {
  Tensor x = testing::leaf64({8, 96}).detach();
  Tensor ref = rfft(x);
  const int64_t plans = fft_plan_cache_size();
  std::vector<std::thread> ts;
  std::vector<Tensor> outs(4);
  for (int i = 0; i < 4; ++i) ts.emplace_back([&, i] { outs[i] = rfft(x); });
  for (auto& t : ts) t.join();
  for (auto& o : outs) EXPECT_CLOSE(o, ref, 0, 0);
  EXPECT_EQ(fft_plan_cache_size(), plans);
  EXPECT_CLOSE(irfft(ref, 96), x, 1e-12, 1e-12);
  EXPECT_CLOSE(irfft(rfft(to(x, DType::Float32)), 96), to(x, DType::Float32), 1e-5, 1e-5);
}

TEST(AudioFeatures, SpectrogramMelAndDbShapes) {
  Tensor x = to(testing::leaf64({2, 1600}).detach(), DType::Float32);
  Spectrogram sp;
  EXPECT_EQ(sp.hop_length, 200);
  EXPECT_EQ(sp(x).sizes(), (Shape{2, 201, 9}));
  MelSpectrogram mel;
  EXPECT_EQ(mel.fb.sizes(), (Shape{201, 128}));
  Tensor m = mel(x);
  EXPECT_EQ(m.sizes(), (Shape{2, 128, 9}));
  Tensor db = AmplitudeToDB("power", 80.0)(m);
  EXPECT_EQ(db.sizes(), m.sizes());
  EXPECT_GE(min(db).item<float>(), max(db).item<float>() - 80.0f - 1e-3f);
  EXPECT_THROW_MSG(mel_scale(sp(x), melscale_fbanks(100, 0, 8000, 10, 16000)), "mel_scale");
  EXPECT_THROW_MSG(AmplitudeToDB("energy"), "AmplitudeToDB");
}

}  // namespace
}  // namespace fm
