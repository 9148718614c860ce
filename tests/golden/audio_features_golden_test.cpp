// Golden tests of MFCC against torchaudio 0.13, and of the CQT (nnAudio's CQT1992v2), chroma and
// onset strength against numpy ports of nnAudio's and librosa's formulas
// (tests/golden/make_golden_audio_features.py -> tests/golden/data/audio_features.safetensors).
#include <gtest/gtest.h>

#include <cmath>

#include "audio/chroma.h"
#include "audio/cqt.h"
#include "audio/mfcc.h"
#include "audio/onset.h"
#include "autograd/views.h"
#include "golden/golden_support.h"

namespace fm {
namespace {

using namespace fm::audio;
using testing::golden::Case;
constexpr DType F64 = DType::Float64;

MFCCOptions mfcc_opts(int64_t n_mfcc, bool log_mels, const std::string& norm, int64_t n_fft, int64_t n_mels) {
  MFCCOptions o;
  o.n_mfcc = n_mfcc;
  o.log_mels = log_mels;
  o.norm = norm;
  o.mel.sample_rate = 16000;
  o.mel.n_fft = n_fft;
  o.mel.n_mels = n_mels;
  return o;
}

MFCCOptions slaney_mfcc() {
  MFCCOptions o = mfcc_opts(10, false, "", 128, 24);
  o.mel.hop_length = 32;
  o.mel.mel_scale = "slaney";
  o.mel.norm = "slaney";
  return o;
}

CQTOptions cqt_opts(int64_t sr, int64_t hop, double fmin, int64_t n_bins, int64_t bpo) {
  CQTOptions o;
  o.sample_rate = sr;
  o.hop_length = hop;
  o.fmin = fmin;
  o.n_bins = n_bins;
  o.bins_per_octave = bpo;
  return o;
}

CQTOptions cqt_bpo24() {
  CQTOptions o = cqt_opts(4000, 100, 110.0, 40, 24);
  o.filter_scale = 0.8;
  o.norm = 2;
  o.window = "hamming";
  o.pad_mode = "constant";
  return o;
}

CQTOptions cqt_complex() {
  CQTOptions o = cqt_opts(8000, 64, 200.0, 18, 12);
  o.norm = 0;
  o.window = "blackman";
  o.output_format = "complex";
  return o;
}

ChromaSTFTOptions chroma_stft_opts() {
  ChromaSTFTOptions o;
  o.sample_rate = 8000;
  o.n_fft = 256;
  o.hop_length = 64;
  return o;
}

ChromaCQTOptions chroma_cqt_opts() {
  ChromaCQTOptions o;
  o.cqt = cqt_opts(8000, 64, 200.0, 24, 12);
  return o;
}

OnsetStrengthOptions onset_opts(int64_t n_mels, int64_t lag = 1, int64_t max_size = 1,
                                std::optional<double> top_db = 80.0) {
  OnsetStrengthOptions o;
  o.sample_rate = 8000;
  o.n_fft = 128;
  o.hop_length = 32;
  o.n_mels = n_mels;
  o.lag = lag;
  o.max_size = max_size;
  o.top_db = top_db;
  return o;
}

std::vector<Case> feature_cases() {
  return {
      GOLDEN("dct_ortho", create_dct(13, 24, "ortho", F64)),
      GOLDEN("dct_none", create_dct(8, 20, "", F64)),
      GOLDEN("mfcc_db_ortho", mfcc(x[0], mfcc_opts(20, false, "ortho", 256, 40))),
      GOLDEN("mfcc_log_ortho", mfcc(x[0], mfcc_opts(13, true, "ortho", 256, 40))),
      GOLDEN("mfcc_db_nonorm_batch", mfcc(x[0], slaney_mfcc())),
      GOLDEN("mfcc_log_nonorm", mfcc(x[0], mfcc_opts(12, true, "", 128, 16))),
      GOLDEN("cqt_hann_l1", cqt(x[0], cqt_opts(8000, 64, 200.0, 24, 12))),
      GOLDEN("cqt_bpo24_l2_hamming_constant", cqt(x[0], cqt_bpo24())),
      GOLDEN("cqt_complex_nonorm_blackman", cqt(x[0], cqt_complex())),
      GOLDEN("chroma_fb_default", chroma_filterbank(8000, 128, 12, 0.0, 5.0, 2.0, 2.0, true, F64)),
      GOLDEN("chroma_fb_24_tuned_flat_a", chroma_filterbank(8000, 64, 24, 0.3, 5.0, std::nullopt, 2.0, false, F64)),
      GOLDEN("chroma_fb_l1_ctroct4", chroma_filterbank(16000, 64, 12, 0.0, 4.0, 1.5, 1.0, true, F64)),
      GOLDEN("cq_to_chroma_12", cq_to_chroma(30, 12, 12, 32.70, true, F64)),
      GOLDEN("cq_to_chroma_36_a", cq_to_chroma(40, 36, 12, 110.0, false, F64)),
      GOLDEN("cq_to_chroma_24_24", cq_to_chroma(30, 24, 24, 100.0, true, F64)),
      GOLDEN("chroma_stft", chroma_stft(x[0], chroma_stft_opts())),
      GOLDEN("chroma_cqt", chroma_cqt(x[0], chroma_cqt_opts())),
      GOLDEN("onset_default", onset_strength(x[0], onset_opts(24))),
      GOLDEN("onset_lag2_max3_batch", onset_strength(x[0], onset_opts(20, 2, 3, std::nullopt))),
  };
}

FM_GOLDEN_FAMILY(AudioFeaturesGolden, "audio_features", feature_cases)

// The float32 modules within 1e-4 relative (the tolerance): MFCC against torchaudio's
// float32 result, the others against the float64 references.
const Tensor& file(const std::string& name) { return testing::golden::load("audio_features").tensors.at(name); }
Tensor f32(const Tensor& t) { return to(t, DType::Float32); }

TEST(AudioFeaturesGoldenF32, MFCCModule) {
  MFCC m(mfcc_opts(20, false, "ortho", 256, 40));
  const Tensor got = m(file("f32_mfcc.in0"));
  EXPECT_EQ(got.dtype(), DType::Float32);
  EXPECT_CLOSE(got, file("f32_mfcc.out"), 1e-4, 1e-3);  // dB values near 0 need an absolute margin
}

TEST(AudioFeaturesGoldenF32, CQTModule) {
  CQT m(cqt_opts(8000, 64, 200.0, 24, 12));
  EXPECT_CLOSE(m(f32(file("cqt_hann_l1.in0"))), f32(file("cqt_hann_l1.out")), 1e-4, 1e-6);
}

TEST(AudioFeaturesGoldenF32, ChromaModules) {
  ChromaSTFT s(chroma_stft_opts());
  EXPECT_CLOSE(s(f32(file("chroma_stft.in0"))), f32(file("chroma_stft.out")), 1e-4, 1e-6);
  ChromaCQT c(chroma_cqt_opts());
  EXPECT_CLOSE(c(f32(file("chroma_cqt.in0"))), f32(file("chroma_cqt.out")), 1e-4, 1e-6);
}

TEST(AudioFeaturesGoldenF32, OnsetStrengthModule) {
  OnsetStrength m(onset_opts(24));
  EXPECT_CLOSE(m(f32(file("onset_default.in0"))), f32(file("onset_default.out")), 1e-4, 1e-3);
}

}  // namespace
}  // namespace fm
