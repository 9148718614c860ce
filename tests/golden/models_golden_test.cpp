// MusicCNN and HarmonicCNN against the same architectures in PyTorch 1.13 (bench/torch_models.py)
// on fixed weights: logits, cross-entropy, the gradient of every parameter, the BatchNorm
// statistics after the training-mode forward, and eval-mode logits.
// tests/golden/make_golden_models.py -> tests/golden/data/models.safetensors.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "golden/golden_support.h"
#include "models/harmonic_cnn.h"
#include "models/music_cnn.h"

namespace fm {
namespace {

double max_abs(const Tensor& t) { return amax(abs(to(t, DType::Float64))).item(); }

// Within 1e-4 of the value relative to it, with an absolute floor of 1e-5 of `scale` (by
// default the tensor's largest magnitude: an element near zero is a difference of large terms).
::testing::AssertionResult near_rel(const Tensor& got, const Tensor& want, double scale = -1) {
  if (scale < 0) scale = max_abs(want);
  return testing::close(got, want, 1e-4, 1e-5 * scale + 1e-12);
}

// Loads m.state.*, runs the training-mode step and the eval forward, and compares everything.
void check_model(const std::string& name, nn::UnaryModule& model) {
  const auto& file = testing::golden::load("models").tensors;
  const std::string state_prefix = name + ".state.";
  std::map<std::string, Tensor> state;
  for (const auto& [k, v] : file)
    if (k.rfind(state_prefix, 0) == 0) state[k.substr(state_prefix.size())] = v;
  ASSERT_FALSE(state.empty()) << "no weights for " << name << " in models.safetensors";
  model.load_state_dict(state);  // strict: the keys are exactly PyTorch's

  model.train();
  const Tensor x = file.at(name + ".input");
  Tensor logits = model(x);
  EXPECT_TRUE(near_rel(logits, file.at(name + ".logits"))) << "logits";
  Tensor loss = nn::cross_entropy(logits, file.at(name + ".target"));
  EXPECT_TRUE(near_rel(loss, file.at(name + ".loss"))) << "loss";
  loss.backward();
  // Some gradients are zero in exact arithmetic: a conv bias (or HarmonicCNN's input_bn) feeding
  // a training-mode BatchNorm, which removes any per-channel shift and scale. Both sides then
  // hold float32 rounding noise (~1e-7 of the largest gradient) whose value depends on the order
  // of the sums (OpenBLAS's AVX2 and AVX-512 kernels differ), so for those only the size is
  // checked: below 1e-5 of the model's largest gradient. The others are compared on the scale
  // of the largest gradient.
  double grad_scale = 0;
  for (const auto& [k, v] : file)
    if (k.rfind(name + ".grad.", 0) == 0) grad_scale = std::max(grad_scale, max_abs(v));
  int checked = 0;
  for (const auto& [k, p] : model.named_parameters()) {
    const std::string key = name + ".grad." + k;
    ASSERT_TRUE(file.count(key)) << "PyTorch has no gradient for " << k;
    ASSERT_TRUE(p.grad().defined()) << "no gradient for " << k;
    const Tensor& want = file.at(key);
    const double noise = 1e-5 * grad_scale;
    if (max_abs(want) <= noise)
      EXPECT_LE(max_abs(p.grad()), noise) << "gradient of " << k << ", zero in exact arithmetic";
    else
      EXPECT_TRUE(near_rel(p.grad(), want, std::max(max_abs(want), 1e-2 * grad_scale))) << "gradient of " << k;
    ++checked;
  }
  int64_t in_file = 0;
  for (const auto& [k, v] : file) in_file += k.rfind(name + ".grad.", 0) == 0;
  EXPECT_EQ(checked, in_file) << "parameters with a PyTorch gradient";
  for (const auto& [k, b] : model.named_buffers()) {
    const std::string key = name + ".after." + k;
    if (!file.count(key)) continue;
    if (b.dtype() == DType::Int64) {
      EXPECT_EQ(b.item<int64_t>(), file.at(key).item<int64_t>()) << k;
    } else {
      EXPECT_TRUE(near_rel(b, file.at(key))) << "buffer " << k << " after the forward";
    }
  }
  model.eval();
  NoGradGuard ng;
  EXPECT_TRUE(near_rel(model(x), file.at(name + ".eval_logits"))) << "eval logits";
}

// The configs of make_golden_models.py (its metadata repeats them).
TEST(ModelsGolden, MusicCNNForwardAndBackwardMatchPyTorch) {
  models::MusicCNN m({.n_classes = 3, .sample_rate = 8000, .n_fft = 256, .hop_length = 128, .n_mels = 16,
                      .conv1_channels = 4, .branch_channels = 4, .conv3_channels = 8, .dropout = 0.0});
  check_model("music_cnn", m);
}

TEST(ModelsGolden, HarmonicCNNForwardAndBackwardMatchPyTorch) {
  models::HarmonicCNN m({.n_classes = 3, .sample_rate = 8000, .n_fft = 62, .hop_length = 32, .n_harmonics = 3,
                         .n_bands = 8, .f_min = 65.40639132514966, .conv_channels = 4, .combine_channels = 8});
  check_model("harmonic_cnn", m);
}

TEST(ModelsGolden, FileListsBothModels) {
  EXPECT_EQ(testing::golden::file_cases("models"), (std::vector<std::string>{"music_cnn", "harmonic_cnn"}));
}

}  // namespace
}  // namespace fm
