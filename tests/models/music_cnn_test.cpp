// MusicCNN (models/music_cnn.h) and the model registry (models/registry.h): shapes, the
// blog's concatenation bug fixed, state_dict keys as PyTorch names them, extract_features,
// errors. Values against PyTorch are in tests/golden/models_golden_test.cpp.
#include <gtest/gtest.h>

#include <set>

#include "models/music_cnn.h"
#include "models/registry.h"
#include "support/test_support.h"

namespace fm {
namespace {

using models::MusicCNN;
using models::MusicCNNConfig;

// Half a second at 22.05 kHz: 22 frames, so conv1 leaves 64 x 11 and conv3 32 x 5.
Tensor clip(int64_t n = 1, int64_t samples = 11025) { return sub(mul(rand({n, samples}), 2.0), ones({1})); }

TEST(MusicCNN, DefaultShapesFollowTheFixedArchitecture) {
  manual_seed(1);
  MusicCNN m;
  m.eval();
  NoGradGuard ng;
  const Tensor x = clip();
  const auto f = m.extract_features(x);
  EXPECT_EQ(f.at("spectrogram").sizes(), (Shape{1, 128, 22}));
  EXPECT_EQ(f.at("conv1").sizes(), (Shape{1, 64, 64, 11}));
  // The blog's 12x1 branch with padding 6 gave 65 rows here; "same" keeps the 64 of the 1x7 one.
  EXPECT_EQ(f.at("harmonic").sizes(), (Shape{1, 128, 64, 11}));
  EXPECT_EQ(f.at("temporal").sizes(), (Shape{1, 128, 64, 11}));
  EXPECT_EQ(f.at("conv3").sizes(), (Shape{1, 256, 32, 5}));
  EXPECT_EQ(m.forward(x).sizes(), (Shape{1, 10}));
  EXPECT_EQ(m.forward(squeeze(x, 0)).sizes(), (Shape{10}));
  EXPECT_EQ(m.frames_for(3 * 22050), 130);
  EXPECT_EQ(m.num_parameters(), 750346);  // the PyTorch class's count (bench/torch_models.py)
}

TEST(MusicCNN, ExtractFeaturesNamesEveryMapAndAgreesWithForward) {
  manual_seed(2);
  MusicCNN m({.n_classes = 4, .sample_rate = 8000, .n_fft = 256, .hop_length = 128, .n_mels = 16,
              .conv1_channels = 4, .branch_channels = 3, .conv3_channels = 5});
  m.eval();
  const Tensor x = clip(2, 1920);
  const auto f = m.extract_features(x);
  std::set<std::string> names;
  for (const auto& [k, v] : f) names.insert(k);
  const auto& expected = MusicCNN::feature_names();
  EXPECT_EQ(names, std::set<std::string>(expected.begin(), expected.end()));
  EXPECT_EQ(f.at("spectrogram").sizes(), (Shape{2, 16, 16}));
  EXPECT_EQ(f.at("conv1").sizes(), (Shape{2, 4, 8, 8}));
  EXPECT_EQ(f.at("harmonic").sizes(), (Shape{2, 3, 8, 8}));
  EXPECT_EQ(f.at("conv3").sizes(), (Shape{2, 5, 4, 4}));
  // The head applied to conv3 gives forward's logits (eval: dropout off, running statistics).
  const Tensor head = (*m.fc)(flatten((*m.global_pool)(f.at("conv3")), 1));
  EXPECT_CLOSE(m.forward(x), head);
  // The spectrogram is the mel power: log(spec + 1e-9) is what conv1 saw.
  EXPECT_CLOSE(f.at("spectrogram"), audio::mel_spectrogram(x, {.sample_rate = 8000, .n_fft = 256,
                                                               .hop_length = 128, .n_mels = 16}),
               1e-4, 1e-6);
}

TEST(MusicCNN, StateDictKeysAreThoseOfPyTorch) {
  MusicCNN m;
  // Printed by the PyTorch class in bench/torch_models.py (MusicCNN().state_dict().keys()).
  const std::vector<std::string> torch_keys{
      "melspec.spectrogram.window", "melspec.mel_scale.fb", "conv1.0.weight", "conv1.0.bias", "conv1.1.weight",
      "conv1.1.bias", "conv1.1.running_mean", "conv1.1.running_var", "conv1.1.num_batches_tracked",
      "conv2_harmonic.0.weight", "conv2_harmonic.0.bias", "conv2_harmonic.1.weight", "conv2_harmonic.1.bias",
      "conv2_harmonic.1.running_mean", "conv2_harmonic.1.running_var", "conv2_harmonic.1.num_batches_tracked",
      "conv2_temporal.0.weight", "conv2_temporal.0.bias", "conv2_temporal.1.weight", "conv2_temporal.1.bias",
      "conv2_temporal.1.running_mean", "conv2_temporal.1.running_var", "conv2_temporal.1.num_batches_tracked",
      "conv3.0.weight", "conv3.0.bias", "conv3.1.weight", "conv3.1.bias", "conv3.1.running_mean",
      "conv3.1.running_var", "conv3.1.num_batches_tracked", "fc.weight", "fc.bias"};
  const auto sd = m.state_dict();
  std::set<std::string> ours;
  for (const auto& [k, v] : sd) ours.insert(k);
  EXPECT_EQ(ours, std::set<std::string>(torch_keys.begin(), torch_keys.end()));
  EXPECT_EQ(sd.at("melspec.mel_scale.fb").sizes(), (Shape{1025, 128}));
  EXPECT_EQ(sd.at("conv2_harmonic.0.weight").sizes(), (Shape{128, 64, 12, 1}));
  EXPECT_EQ(sd.at("conv2_temporal.0.weight").sizes(), (Shape{128, 64, 1, 7}));
  EXPECT_EQ(sd.at("conv3.0.weight").sizes(), (Shape{256, 256, 3, 3}));
  EXPECT_EQ(sd.at("fc.weight").sizes(), (Shape{10, 256}));
  // The parameters are in PyTorch's registration order too (optimizer state follows it).
  const auto named = m.named_parameters();
  ASSERT_EQ(named.size(), 18u);
  EXPECT_EQ(named.front().first, "conv1.0.weight");
  EXPECT_EQ(named.back().first, "fc.bias");
}

TEST(MusicCNN, TrainsAStepAndBatchNormUpdates) {
  manual_seed(3);
  MusicCNN m({.n_classes = 3, .sample_rate = 8000, .n_fft = 256, .hop_length = 128, .n_mels = 16,
              .conv1_channels = 4, .branch_channels = 4, .conv3_channels = 8, .dropout = 0.5});
  const Tensor x = clip(2, 1920);
  Tensor loss = nn::cross_entropy(m.forward(x), from_vector(std::vector<int64_t>{0, 2}, {2}));
  loss.backward();
  for (const auto& [name, p] : m.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    // A conv bias (or the input BatchNorm) feeding a training-mode BatchNorm has a zero
    // gradient in exact arithmetic: the next BatchNorm removes any per-channel shift and scale.
    const bool feeds_batchnorm = name.ends_with(".0.bias") || name.starts_with("input_bn.");
    if (!feeds_batchnorm) EXPECT_GT(max(abs(p.grad())).item(), 1e-6) << name;
  }
  EXPECT_EQ(m.state_dict().at("conv3.1.num_batches_tracked").item<int64_t>(), 1);
}

TEST(MusicCNN, BadInputAndConfigAreRefusedClearly) {
  MusicCNN m({.sample_rate = 8000, .n_fft = 256, .hop_length = 128, .n_mels = 16, .conv1_channels = 2,
              .branch_channels = 2, .conv3_channels = 2});
  EXPECT_THROW_MSG(m.forward(zeros({2, 1, 1920})), "expected audio [N, samples]");
  EXPECT_THROW_MSG(m.forward(zeros({2, 100})), "too few");
  EXPECT_THROW_MSG(m.forward(zeros({2, 1920}, {.dtype = DType::Int64})), "floating point");
  EXPECT_THROW_MSG(MusicCNN({.n_mels = 2}), "n_mels must be at least 4");
  EXPECT_THROW_MSG(MusicCNN({.dropout = 1.0}), "dropout");
}

TEST(ModelRegistry, CreatesEachModelByName) {
  const auto names = models::model_names();
  EXPECT_EQ(names, (std::vector<std::string>{"music_cnn", "harmonic_cnn"}));
  models::ModelConfig cfg;
  cfg.n_classes = 7;
  cfg.n_mels = 32;
  cfg.dropout = 0.25;
  cfg.options = {{"conv1_channels", 8}, {"conv3_channels", 16}};
  auto m = models::create_model("music_cnn", cfg);
  auto* mc = dynamic_cast<MusicCNN*>(m.get());
  ASSERT_NE(mc, nullptr);
  EXPECT_EQ(mc->config.n_classes, 7);
  EXPECT_EQ(mc->config.n_mels, 32);
  EXPECT_EQ(mc->config.dropout, 0.25);
  EXPECT_EQ(mc->config.conv1_channels, 8);
  EXPECT_EQ(mc->config.n_fft, 2048);  // unset: the model's default
  EXPECT_EQ(m->state_dict().at("fc.weight").sizes(), (Shape{7, 16}));
  EXPECT_EQ(models::create_model("harmonic_cnn")->type_name(), "HarmonicCNN");
}

TEST(ModelRegistry, UnknownNamesAndOptionsListTheKnownOnes) {
  EXPECT_THROW_MSG(models::create_model("resnet"), "known models: music_cnn, harmonic_cnn");
  models::ModelConfig cfg;
  cfg.options = {{"n_bands", 12}};
  EXPECT_THROW_MSG(models::create_model("music_cnn", cfg), "music_cnn has no option 'n_bands'");
  cfg.options = {{"conv1_channels", 2.5}};
  EXPECT_THROW_MSG(models::create_model("music_cnn", cfg), "must be an integer");
  models::ModelConfig mel;
  mel.n_mels = 64;
  EXPECT_THROW_MSG(models::create_model("harmonic_cnn", mel), "no mel front end");
}

}  // namespace
}  // namespace fm
