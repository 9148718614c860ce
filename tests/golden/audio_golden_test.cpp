// Golden tests of the audio front end against torch.stft and torchaudio 0.13
// (tests/golden/make_golden_audio.py -> tests/golden/data/audio.safetensors).
#include <gtest/gtest.h>

#include "audio/features.h"
#include "audio/stft.h"
#include "golden/golden_support.h"

namespace fm {
namespace {

using namespace fm::audio;
using testing::golden::Case;

const Tensor& H(int64_t n) {
  static std::map<int64_t, Tensor> cache;
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, hann_window(n, true, DType::Float64)).first;
  return it->second;
}

Tensor fbank(const std::string& scale, const std::string& norm) {
  return melscale_fbanks(129, 30.0, 7000.0, 40, 16000, norm, scale, DType::Float64);
}

MelOptions slaney_mel() {
  MelOptions o;
  o.n_fft = 128;
  o.hop_length = 32;
  o.f_min = 50.0;
  o.f_max = 6000.0;
  o.n_mels = 24;
  o.norm = "slaney";
  o.mel_scale = "slaney";
  return o;
}

std::vector<Case> audio_cases() {
  return {
      GOLDEN("stft_n256_h64", stft(x[0], 256, 64, std::nullopt, H(256))),
      GOLDEN("stft_n128_win100_const_norm", stft(x[0], 128, 32, 100, H(100), true, "constant", true)),
      GOLDEN("stft_n64_nocenter_hamming",
             stft(x[0], 64, 16, std::nullopt, hamming_window(64, true, 0.54, 0.46, DType::Float64), false)),
      GOLDEN("stft_n63_twosided_blackman",
             stft(x[0], 63, 20, std::nullopt, blackman_window(63, true, DType::Float64), true, "reflect", false,
                  false)),
      GOLDEN("spectrogram_power2", spectrogram(x[0], 256, std::nullopt, std::nullopt, H(256))),
      GOLDEN("spectrogram_power1_norm", spectrogram(x[0], 128, 40, std::nullopt, H(128), 1.0, true)),
      GOLDEN("fbank_htk_none", fbank("htk", "")),
      GOLDEN("fbank_htk_slaney", fbank("htk", "slaney")),
      GOLDEN("fbank_slaney_none", fbank("slaney", "")),
      GOLDEN("fbank_slaney_slaney", fbank("slaney", "slaney")),
      GOLDEN("mel_htk", mel_spectrogram(x[0], [] {
               MelOptions o;
               o.n_fft = 256;
               o.n_mels = 40;
               return o;
             }())),
      GOLDEN("mel_slaney", mel_spectrogram(x[0], slaney_mel())),
      GOLDEN("db_power_top80", AmplitudeToDB("power", 80.0)(x[0])),
      GOLDEN("db_magnitude", AmplitudeToDB("magnitude")(x[0])),
      GOLDEN("db_batch_top40", AmplitudeToDB("power", 40.0)(x[0])),
  };
}

FM_GOLDEN_FAMILY(AudioGolden, "audio", audio_cases)

// float32 against torch's float32 results, within 1e-4 relative (the tolerance).
const Tensor& file(const std::string& name) { return testing::golden::load("audio").tensors.at(name); }

TEST(AudioGoldenF32, Stft) {
  const Tensor got = stft(file("f32_stft.in0"), 256, 64);
  EXPECT_EQ(got.dtype(), DType::Float32);
  EXPECT_CLOSE(got, file("f32_stft.out"), 1e-4, 1e-4);
}

TEST(AudioGoldenF32, MelSpectrogram) {
  MelOptions o;
  o.n_fft = 256;
  o.n_mels = 40;
  MelSpectrogram m(o);
  const Tensor got = m(file("f32_mel.in0"));
  EXPECT_EQ(got.dtype(), DType::Float32);
  EXPECT_CLOSE(got, file("f32_mel.out"), 1e-4, 1e-4);
}

}  // namespace
}  // namespace fm
