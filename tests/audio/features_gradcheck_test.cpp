// float64 gradchecks of MFCC, the CQT, chroma and onset strength (small sizes).
#include <gtest/gtest.h>

#include "audio/chroma.h"
#include "audio/cqt.h"
#include "audio/mfcc.h"
#include "audio/onset.h"
#include "support/test_support.h"

namespace fm {
namespace {

using namespace fm::audio;
using autograd::tensor_list;

#define GC(fn, ...) EXPECT_GRADCHECK(fn, (tensor_list{__VA_ARGS__}))

TEST(AudioFeaturesGradcheck, Mfcc) {
  for (bool log_mels : {false, true}) {
    MFCCOptions o;
    o.n_mfcc = 5;
    o.log_mels = log_mels;
    o.mel.sample_rate = 1000;
    o.mel.n_fft = 16;
    o.mel.n_mels = 8;
    Tensor x = testing::leaf64({2, 40});
    auto f = [o](const tensor_list& in) { return tensor_list{mfcc(in[0], o)}; };
    GC(f, x);
  }
}

CQTOptions small_cqt() {
  CQTOptions o;
  o.sample_rate = 1000;
  o.fmin = 100;
  o.n_bins = 14;  // one full octave and part of the next
  o.hop_length = 32;
  return o;
}

TEST(AudioFeaturesGradcheck, Cqt) {
  Tensor x = testing::leaf64({2, 160});
  CQTOptions o = small_cqt();
  auto f = [o](const tensor_list& in) { return tensor_list{cqt(in[0], o)}; };
  GC(f, x);
  o.output_format = "complex";
  o.pad_mode = "constant";
  auto g = [o](const tensor_list& in) { return tensor_list{cqt(in[0], o)}; };
  GC(g, x);
}

TEST(AudioFeaturesGradcheck, Chroma) {
  Tensor x = testing::leaf64({150});
  ChromaSTFTOptions s;
  s.sample_rate = 1000;
  s.n_fft = 32;
  s.hop_length = 16;
  auto f = [s](const tensor_list& in) { return tensor_list{chroma_stft(in[0], s)}; };
  GC(f, x);
  ChromaCQTOptions c;
  c.cqt = small_cqt();
  auto g = [c](const tensor_list& in) { return tensor_list{chroma_cqt(in[0], c)}; };
  GC(g, x);
}

TEST(AudioFeaturesGradcheck, OnsetStrength) {
  Tensor x = testing::leaf64({200});
  OnsetStrengthOptions o;
  o.sample_rate = 1000;
  o.n_fft = 32;
  o.hop_length = 8;
  o.n_mels = 6;
  o.max_size = 3;
  auto f = [o](const tensor_list& in) { return tensor_list{onset_strength(in[0], o)}; };
  GC(f, x);
}

}  // namespace
}  // namespace fm
