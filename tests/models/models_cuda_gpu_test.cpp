// The models' training step on CUDA against the same step on the CPU: the same weights and
// clips, forward in training mode (batch statistics), cross-entropy, backward and one AdamW
// update, through every CUDA kernel the models use (STFT, mel GEMM, convolutions, batch norm,
// pooling, concatenation, linear, cross-entropy, the optimizer). Logits, loss, each
// parameter's gradient, the BatchNorm running statistics and the updated weights must agree.
// Label gpu: skipped without a GPU.
#include <cmath>

#include "layers/loss.h"
#include "models/registry.h"
#include "optim/optimizer.h"
#include "support/test_support.h"
#include "tensor/cuda.h"

namespace fm {
namespace {

// Relative L2 distance, in double, of a CUDA result from the CPU one.
double rel_l2(const Tensor& gpu, const Tensor& cpu) {
  const std::vector<double> a = to(gpu, Device::cpu()).to_vector<double>(), b = cpu.to_vector<double>();
  double num = 0, den = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

struct StepResult {
  Tensor logits, loss;
  std::map<std::string, Tensor> grads, state_after;
};

StepResult train_step(nn::Module& model, const Tensor& audio, const Tensor& labels) {
  auto& unary = dynamic_cast<nn::UnaryModule&>(model);
  model.train();
  optim::AdamW opt(model.parameters(), optim::AdamOptions{.lr = 1e-3, .weight_decay = 1e-2});
  opt.zero_grad();
  StepResult r;
  r.logits = unary.forward(audio);
  r.loss = nn::cross_entropy(r.logits, labels);
  r.loss.backward();
  for (const auto& [k, p] : model.named_parameters()) r.grads[k] = p.grad();
  opt.step();
  r.state_after = model.state_dict();
  return r;
}

void check_model_on_cuda(const std::string& name, const models::ModelConfig& config, int64_t samples) {
  FM_SKIP_WITHOUT_GPU();
  cuda_poison_allocations(true);
  manual_seed(7);
  std::shared_ptr<nn::Module> cpu_model = models::create_model(name, config);
  std::shared_ptr<nn::Module> gpu_model = models::create_model(name, config);
  gpu_model->load_state_dict(cpu_model->state_dict());
  gpu_model->to(Device::cuda());
  const Tensor audio = sub(mul(rand({3, samples}), 2.0), ones({1}));
  const Tensor labels = from_vector(std::vector<int64_t>{1, 0, 2}, {3});

  const StepResult c = train_step(*cpu_model, audio, labels);
  const StepResult g = train_step(*gpu_model, to(audio, Device::cuda()), to(labels, Device::cuda()));
  cuda_poison_allocations(false);

  EXPECT_EQ(g.logits.device(), Device::cuda());
  // float32 end to end: STFT, GEMMs and batch statistics summed in other orders
  EXPECT_LE(rel_l2(g.logits, c.logits), 1e-4) << name << " logits";
  EXPECT_LE(rel_l2(g.loss, c.loss), 1e-5) << name << " loss";
  for (const auto& [k, grad] : c.grads) {
    ASSERT_TRUE(g.grads.at(k).defined()) << name << ": no CUDA gradient for " << k;
    // gradients that are zero in exact arithmetic (a conv bias before a training BatchNorm)
    // hold rounding noise on both sides: their size is all that can be compared
    const double size = std::sqrt(sum(mul(grad, grad)).item<double>());
    if (size < 1e-6) continue;
    EXPECT_LE(rel_l2(g.grads.at(k), grad), 1e-3) << name << " gradient of " << k;
  }
  for (const auto& [k, v] : c.state_after) {
    if (v.dtype() == DType::Int64) {
      EXPECT_EQ(to(g.state_after.at(k), Device::cpu()).to_vector<int64_t>(), v.to_vector<int64_t>()) << k;
      continue;
    }
    EXPECT_LE(rel_l2(g.state_after.at(k), v), 1e-4) << name << " " << k << " after the step";
  }
}

TEST(ModelsOnCuda, MusicCnnTrainingStepMatchesCpu) {
  models::ModelConfig config;
  config.n_classes = 4;
  config.n_mels = 32;
  config.dropout = 0.0;  // the masks agree too (same Philox), but a zeroed unit hides its gradient
  config.options = {{"conv1_channels", 8}, {"branch_channels", 16}, {"conv3_channels", 24}};
  check_model_on_cuda("music_cnn", config, 11025);
}

TEST(ModelsOnCuda, HarmonicCnnTrainingStepMatchesCpu) {
  models::ModelConfig config;
  config.n_classes = 4;
  config.options = {{"conv_channels", 8}, {"combine_channels", 16}};
  check_model_on_cuda("harmonic_cnn", config, 11025);
}

}  // namespace
}  // namespace fm
