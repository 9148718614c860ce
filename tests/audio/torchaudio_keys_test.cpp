// The audio modules' state_dict keys are torchaudio 0.13's, so weights and buffers load both
// ways; MelSpectrogram's children compute what its one-GEMM forward computes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "audio/features.h"
#include "audio/mfcc.h"
#include "audio/phase_vocoder.h"
#include "autograd/elementwise.h"
#include "support/test_support.h"
#include "tensor/factory.h"

namespace fm {
namespace {

using namespace fm::audio;

std::vector<std::string> keys(const nn::Module& m) {
  std::vector<std::string> k;
  for (const auto& kv : m.state_dict()) k.push_back(kv.first);
  return k;  // sorted: state_dict is a std::map
}

// Printed by torchaudio 0.13 (sorted):
//   python3 -c "import torchaudio.transforms as T; print(sorted(T.MelSpectrogram().state_dict()))"
// and the same for Spectrogram(), MelScale(), AmplitudeToDB(), MFCC(), TimeStretch(n_freq=201).
TEST(AudioTorchaudioKeys, EveryModuleMatchesTorchaudio) {
  EXPECT_EQ(keys(Spectrogram()), (std::vector<std::string>{"window"}));
  EXPECT_EQ(keys(MelScale()), (std::vector<std::string>{"fb"}));
  EXPECT_EQ(keys(MelSpectrogram()), (std::vector<std::string>{"mel_scale.fb", "spectrogram.window"}));
  EXPECT_EQ(keys(AmplitudeToDB()), (std::vector<std::string>{}));
  EXPECT_EQ(keys(MFCC()), (std::vector<std::string>{"MelSpectrogram.mel_scale.fb",
                                                    "MelSpectrogram.spectrogram.window", "dct_mat"}));
  MFCCOptions log_mels;
  log_mels.log_mels = true;
  EXPECT_EQ(keys(MFCC(log_mels)), keys(MFCC()));
  EXPECT_EQ(keys(TimeStretch(std::nullopt, 201)), (std::vector<std::string>{"phase_advance"}));
  // shapes as torchaudio's defaults give them
  const auto sd = MFCC().state_dict();
  EXPECT_EQ(sd.at("MelSpectrogram.mel_scale.fb").sizes(), (Shape{201, 128}));
  EXPECT_EQ(sd.at("MelSpectrogram.spectrogram.window").sizes(), (Shape{400}));
  EXPECT_EQ(sd.at("dct_mat").sizes(), (Shape{128, 40}));
}

TEST(AudioTorchaudioKeys, MelSpectrogramChildrenAgreeWithItsForward) {
  MelOptions o;
  o.n_fft = 256;
  o.n_mels = 32;
  MelSpectrogram m(o);
  EXPECT_EQ(m.spectrogram->hop_length, 128);
  EXPECT_EQ(m.mel_scale->fb.sizes(), (Shape{129, 32}));
  const Tensor x = to(testing::leaf64({2, 2000}).detach(), DType::Float32);
  EXPECT_CLOSE(m(x), (*m.mel_scale)((*m.spectrogram)(x)), 1e-4, 1e-5);
  EXPECT_CLOSE(m(x), mel_spectrogram(x, o), 1e-5, 1e-6);
  // a loaded filterbank is the one forward uses
  auto sd = m.state_dict();
  sd["mel_scale.fb"] = mul(sd.at("mel_scale.fb"), 2.0);
  const Tensor before = m(x);
  m.load_state_dict(sd);
  EXPECT_CLOSE(m(x), mul(before, 2.0), 1e-5, 1e-6);
}

}  // namespace
}  // namespace fm
