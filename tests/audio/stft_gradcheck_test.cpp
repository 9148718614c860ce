// float64 gradchecks of the FFT, STFT, iSTFT and mel spectrogram.
#include <gtest/gtest.h>

#include "audio/features.h"
#include "audio/fft.h"
#include "audio/stft.h"
#include "support/test_support.h"

namespace fm {
namespace {

using namespace fm::audio;
using autograd::tensor_list;

// The gradcheck macros take two arguments: pass the function first through a variable.
#define GC(fn, ...) EXPECT_GRADCHECK(fn, (tensor_list{__VA_ARGS__}))
#define GGC(fn, ...) EXPECT_GRADGRADCHECK(fn, (tensor_list{__VA_ARGS__}))

TEST(AudioStftGradcheck, Rfft) {
  for (int64_t n : {7, 8}) {
    Tensor x = testing::leaf64({3, n});
    auto f = [](const tensor_list& in) { return tensor_list{rfft(in[0])}; };
    GC(f, x);
    GGC(f, x);
    Tensor z = testing::leaf64({2, n / 2 + 1, 2}, -1, 1, 3);
    auto g = [n](const tensor_list& in) { return tensor_list{irfft(in[0], n)}; };
    GC(g, z);
    GGC(g, z);
  }
}

TEST(AudioStftGradcheck, StftReflectAndWindow) {
  Tensor x = testing::leaf64({2, 40});
  Tensor w = testing::leaf64({12}, 0.1, 1.0, 11);
  auto f = [](const tensor_list& in) { return tensor_list{stft(in[0], 16, 5, 12, in[1])}; };
  GC(f, x, w);
  auto g = [](const tensor_list& in) {
    return tensor_list{stft(in[0], 15, 4, std::nullopt, Tensor(), true, "constant", true, false)};
  };
  GC(g, x);
  auto h = [](const tensor_list& in) { return tensor_list{stft(in[0], 16, 4)}; };
  GGC(h, x);
}

TEST(AudioStftGradcheck, Istft) {
  Tensor x = testing::leaf64({40}).detach();
  Tensor s = stft(x, 16, 4).detach().requires_grad_(true);
  auto f = [](const tensor_list& in) { return tensor_list{istft(in[0], 16, 4)}; };
  GC(f, s);
}

TEST(AudioStftGradcheck, MelSpectrogramAndDb) {
  Tensor x = testing::leaf64({2, 64});
  MelOptions o;
  o.sample_rate = 8000;
  o.n_fft = 32;
  o.n_mels = 6;
  auto f = [o](const tensor_list& in) { return tensor_list{mel_spectrogram(in[0], o)}; };
  GC(f, x);
  o.power = 1.0;
  o.norm = "slaney";
  o.mel_scale = "slaney";
  auto g = [o](const tensor_list& in) {
    return tensor_list{amplitude_to_db(mel_spectrogram(in[0], o), 20.0, 1e-10, 0.0)};
  };
  GC(g, x);
}

}  // namespace
}  // namespace fm
