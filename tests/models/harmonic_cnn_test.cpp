// HarmonicCNN (models/harmonic_cnn.h): the harmonic front end keeps a frequency axis
// (the blog's collapsed it), its filters sit at harmonic multiples of the learnable
// fundamentals, it is differentiable in the spectrogram, f0 and Q (float64 gradcheck), and the
// state_dict keys are those of the PyTorch class in bench/torch_models.py.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "models/harmonic_cnn.h"
#include "models/registry.h"
#include "support/test_support.h"

namespace fm {
namespace {

using models::HarmonicCNN;
using models::HarmonicCNNConfig;

TEST(HarmonicCNN, DefaultShapesKeepTheFrequencyAxis) {
  manual_seed(1);
  HarmonicCNN m;
  m.eval();
  NoGradGuard ng;
  const Tensor spec = add(rand({2, 1, 128, 130}), 1e-3);
  const Tensor h = m.harmonic_spectrogram(spec);
  // (batch, harmonics, bands, frames): the blog's filters gave (batch, 1, 1, frames).
  EXPECT_EQ(h.sizes(), (Shape{2, 6, 128, 130}));
  EXPECT_EQ(m.forward(spec).sizes(), (Shape{2, 10}));
  EXPECT_EQ(m.forward(squeeze(spec, 1)).sizes(), (Shape{2, 10}));
  // Audio in: the magnitude STFT (n_fft 254, hop 512) is taken inside.
  const Tensor audio = sub(mul(rand({2, 22050}), 2.0), ones({1}));
  EXPECT_EQ(m.harmonic_spectrogram(audio).sizes(), (Shape{2, 6, 128, 44}));
  EXPECT_EQ(m.num_parameters(), 28695);  // the PyTorch class's count
}

TEST(HarmonicCNN, FiltersPeakAtHarmonicMultiplesOfTheirFundamental) {
  HarmonicCNN m;
  const auto& hf = *m.harmonic_filters;
  const Tensor fb = hf.filterbank();  // [H * B, F]
  ASSERT_EQ(fb.sizes(), (Shape{6 * 128, 128}));
  const auto f0 = hf.f0.to_vector<float>();
  const auto w = fb.to_vector<float>();
  const double df = 22050.0 / 2 / 127;
  EXPECT_NEAR(f0.front(), 32.7032, 1e-3);                 // C1
  EXPECT_LT(f0.back(), 22050.0 / (2 * 6));               // the 6th harmonic stays below Nyquist
  for (int64_t h = 0; h < 6; ++h) {
    for (int64_t b = 0; b < 128; b += 17) {
      const float* row = w.data() + (h * 128 + b) * 128;
      int64_t best = 0;
      float sum = 0;
      for (int64_t k = 0; k < 128; ++k) {
        if (row[k] > row[best]) best = k;
        sum += row[k];
      }
      const double fc = static_cast<double>(h + 1) * f0[static_cast<size_t>(b)];
      EXPECT_LE(std::abs(static_cast<double>(best) * df - fc), df / 2 + 1e-3) << "harmonic " << h + 1 << " band " << b;
      EXPECT_GT(sum, 0.0f) << "a filter that sees no bin: harmonic " << h + 1 << " band " << b;
    }
  }
}

TEST(HarmonicCNN, FrontEndGradcheckInFloat64) {
  // Small: 17 bins of 0..4 kHz, 3 harmonics of 4 bands, with Q low enough that the ERB width
  // (not the two-bin floor) sets some filters, so Q's gradient is checked too.
  const int64_t n_freqs = 17, H = 3;
  const double sr = 8000, min_bw = 2 * (sr / 2) / (n_freqs - 1);
  Tensor spec = testing::leaf64({2, n_freqs, 3}, 0.1, 1.0, 11);
  Tensor f0 = from_vector(std::vector<double>{130.3, 277.1, 523.9, 1101.7}, {4});
  f0.requires_grad_(true);
  Tensor q = from_vector(std::vector<double>{0.7}, {1});
  q.requires_grad_(true);
  auto fn = [=](const autograd::tensor_list& in) -> autograd::tensor_list {
    return {models::apply_harmonic_filterbank(in[0], models::harmonic_filterbank(in[1], in[2], n_freqs, sr, H, min_bw),
                                              H)};
  };
  EXPECT_GRADCHECK(fn, (autograd::tensor_list{spec, f0, q}));
  // Q gets a gradient (the ERB width binds somewhere) and every fundamental does.
  Tensor y = fn({spec, f0, q})[0];
  EXPECT_EQ(y.sizes(), (Shape{2, H, 4, 3}));
  sum(y).backward();
  EXPECT_GT(std::abs(q.grad().item()), 0.0);
  for (double g : f0.grad().to_vector<double>()) EXPECT_NE(g, 0.0);
}

TEST(HarmonicCNN, ModuleGradcheckInFloat64) {
  models::HarmonicFilterbank hf(17, 8000, 2, 5, 100.0, 0.6);
  hf.to(DType::Float64);
  Tensor spec = testing::leaf64({1, 17, 2}, 0.1, 1.0, 5);
  auto fn = [&hf](const autograd::tensor_list& in) -> autograd::tensor_list { return {hf.forward(in[0])}; };
  EXPECT_GRADCHECK(fn, (autograd::tensor_list{spec}));
}

TEST(HarmonicCNN, EveryParameterLearns) {
  manual_seed(4);
  HarmonicCNN m({.n_classes = 3, .sample_rate = 8000, .n_fft = 62, .n_harmonics = 3, .n_bands = 8, .f_min = 65.4,
                 .conv_channels = 4, .combine_channels = 8, .dropout = 0.2});
  const Tensor spec = add(rand({2, 1, 32, 12}), 0.01);
  Tensor loss = nn::cross_entropy(m.forward(spec), from_vector(std::vector<int64_t>{1, 2}, {2}));
  loss.backward();
  for (const auto& [name, p] : m.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    // A conv bias (or the input BatchNorm) feeding a training-mode BatchNorm has a zero
    // gradient in exact arithmetic: the next BatchNorm removes any per-channel shift and scale.
    const bool feeds_batchnorm = name.ends_with(".0.bias") || name.starts_with("input_bn.");
    if (!feeds_batchnorm) EXPECT_GT(max(abs(p.grad())).item(), 1e-6) << name;
  }
  // dropout > 0 puts a Dropout before the Linear, which moves it to classifier.3 as in PyTorch.
  EXPECT_EQ(m.state_dict().count("classifier.3.weight"), 1u);
}

TEST(HarmonicCNN, StateDictKeysAreThoseOfPyTorch) {
  HarmonicCNN m;
  std::vector<std::string> torch_keys{"spectrogram.window", "harmonic_filters.f0", "harmonic_filters.bw_Q",
                                      "input_bn.weight", "input_bn.bias", "input_bn.running_mean",
                                      "input_bn.running_var", "input_bn.num_batches_tracked"};
  for (int h = 0; h < 6; ++h)
    for (const char* k : {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                          "1.num_batches_tracked"})
      torch_keys.push_back("harmonic_conv." + std::to_string(h) + "." + k);
  for (const char* k : {"combine.0.weight", "combine.0.bias", "combine.1.weight", "combine.1.bias",
                        "combine.1.running_mean", "combine.1.running_var", "combine.1.num_batches_tracked",
                        "classifier.2.weight", "classifier.2.bias"})
    torch_keys.push_back(k);
  const auto sd = m.state_dict();
  std::set<std::string> ours;
  for (const auto& [k, v] : sd) ours.insert(k);
  EXPECT_EQ(ours, std::set<std::string>(torch_keys.begin(), torch_keys.end()));
  EXPECT_EQ(sd.at("harmonic_filters.f0").sizes(), (Shape{128}));
  EXPECT_EQ(sd.at("harmonic_filters.bw_Q").sizes(), (Shape{1}));
  EXPECT_EQ(sd.at("harmonic_conv.5.0.weight").sizes(), (Shape{32, 1, 3, 3}));
  EXPECT_EQ(sd.at("combine.0.weight").sizes(), (Shape{128, 192, 1, 1}));
}

TEST(HarmonicCNN, BadInputAndConfigAreRefusedClearly) {
  HarmonicCNN m({.n_fft = 62, .n_harmonics = 2, .n_bands = 4, .conv_channels = 2, .combine_channels = 2});
  EXPECT_THROW_MSG(m.forward(ones({2, 1, 40, 12})), "the spectrogram has 40 frequency bins but n_fft=62 gives 32");
  EXPECT_THROW_MSG(m.forward(ones({2, 2, 32, 12})), "expected audio [N, samples]");
  EXPECT_THROW_MSG(m.forward(ones({2, 1, 32, 2})), "at least 4 frames");
  EXPECT_THROW_MSG(HarmonicCNN({.n_harmonics = 6, .f_min = 5000}), "f_min must be in");
  EXPECT_THROW_MSG(HarmonicCNN({.bw_Q = 0}), "bw_Q must be positive");
}

}  // namespace
}  // namespace fm
