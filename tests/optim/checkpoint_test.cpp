#include <filesystem>

#include "support/test_support.h"

using namespace fm;

namespace {
struct TrainingRun {
  std::shared_ptr<nn::Sequential> model;
  std::unique_ptr<optim::AdamW> opt;
  std::unique_ptr<optim::StepLR> sched;
  TrainingRun() {
    manual_seed(11);
    model = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::UnaryModule>>{
        std::make_shared<nn::Linear>(4, 8), nn::ReLU(), std::make_shared<nn::Dropout>(0.2), std::make_shared<nn::Linear>(8, 1)});
    opt = std::make_unique<optim::AdamW>(model->parameters(), optim::AdamOptions{.lr = 0.01, .weight_decay = 0.01});
    sched = std::make_unique<optim::StepLR>(*opt, 2, 0.5);
  }
  // one epoch: a few steps whose data and dropout masks come from the default generator
  double epoch() {
    double last = 0;
    for (int i = 0; i < 3; ++i) {
      Tensor x = randn({16, 4});
      Tensor y = sum(x, {1}, true);
      opt->zero_grad();
      Tensor loss = mean(pow((*model)(x) - y, 2.0));
      loss.backward();
      opt->step();
      last = loss.item();
    }
    sched->step();
    return last;
  }
};
}  // namespace

TEST(Checkpoint, ResumeContinuesExactlyAsAnUninterruptedRun) {
  const auto dir = std::filesystem::temp_directory_path() / "fermata_ckpt_test";
  std::filesystem::create_directories(dir);
  const std::string prefix = (dir / "run").string();
  std::vector<double> straight;
  {
    TrainingRun r;
    for (int e = 0; e < 5; ++e) straight.push_back(r.epoch());
  }
  {
    TrainingRun r;
    for (int e = 0; e < 3; ++e) r.epoch();
    optim::save_checkpoint(prefix, *r.model, r.opt.get(), r.sched.get(), {.epoch = 3, .step = 9});
  }
  TrainingRun resumed;  // fresh weights, fresh optimizer, different RNG position
  randn({100});
  const auto progress = optim::load_checkpoint(prefix, *resumed.model, resumed.opt.get(), resumed.sched.get());
  EXPECT_EQ(progress.epoch, 3);
  EXPECT_EQ(progress.step, 9);
  EXPECT_EQ(resumed.opt->lr(), 0.01 * 0.5);  // StepLR at epoch 3
  EXPECT_EQ(resumed.epoch(), straight[3]);
  EXPECT_EQ(resumed.epoch(), straight[4]);
  std::filesystem::remove_all(dir);
}

// A restored one-cycle schedule must bring back the momentum (Adam's beta1) its step() cycles,
// not only the rate: a resumed run would otherwise train with the wrong beta1.
TEST(Checkpoint, OneCycleSetLastEpochRestoresTheMomentum) {
  Tensor w = zeros({3}, {.requires_grad = true});
  optim::Adam stepped({w}, {.lr = 0.01}), restored({w}, {.lr = 0.01});
  optim::OneCycleLR a(stepped, 0.1, 20), b(restored, 0.1, 20);
  for (int i = 0; i < 7; ++i) a.step();
  b.set_last_epoch(7);
  EXPECT_EQ(restored.lr(), stepped.lr());
  EXPECT_EQ(restored.momentum(), stepped.momentum());
  EXPECT_NE(stepped.momentum(), 0.95);  // the cycle has moved it off max_momentum
}

TEST(Checkpoint, MismatchedPairIsRejectedWithoutChangingTheModel) {
  const auto dir = std::filesystem::temp_directory_path() / "fermata_ckpt_pair";
  std::filesystem::create_directories(dir);
  TrainingRun a, b;
  optim::save_checkpoint((dir / "a").string(), *a.model, a.opt.get());
  optim::save_checkpoint((dir / "b").string(), *b.model, b.opt.get());
  // weights of b beside training state of a: an interrupted save looks like this
  std::filesystem::copy_file(dir / "b.safetensors", dir / "a.safetensors", std::filesystem::copy_options::overwrite_existing);
  TrainingRun c;
  const auto before = c.model->state_dict();
  EXPECT_THROW_MSG(optim::load_checkpoint((dir / "a").string(), *c.model, c.opt.get()), "different saves");
  for (auto& [k, v] : c.model->state_dict()) EXPECT_TRUE(equal(v, before.at(k))) << k;
  EXPECT_THROW_MSG(optim::load_checkpoint((dir / "missing").string(), *c.model), "missing");
  std::filesystem::remove_all(dir);
}
