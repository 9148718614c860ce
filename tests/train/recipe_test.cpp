// Recipes: the optimizer and schedule they build, with the rates PyTorch's schedulers give.
#include <cmath>

#include "layers/basic.h"
#include "support/test_support.h"
#include "train/recipe.h"

using namespace fm;

TEST(Recipe, BuildsTheNamedOptimizer) {
  nn::Linear layer(3, 2);
  train::Recipe r;
  r.lr = 0.05;
  for (const char* name : {"sgd", "adam", "adamw", "rmsprop"}) {
    r.optimizer = name;
    auto opt = r.make_optimizer(layer.parameters());
    EXPECT_DOUBLE_EQ(opt->lr(), 0.05) << name;
    EXPECT_EQ(opt->params().size(), 2u);
  }
  r.optimizer = "sgd";
  EXPECT_EQ(dynamic_cast<optim::SGD&>(*r.make_optimizer(layer.parameters())).options().nesterov, true);
  r.optimizer = "lion";
  EXPECT_THROW_MSG(r.make_optimizer(layer.parameters()), "unknown optimizer 'lion'");
  r.optimizer = "adam";
  r.lr = 0;
  EXPECT_THROW_MSG(r.make_optimizer(layer.parameters()), "learning rate must be > 0");
}

TEST(Recipe, SchedulesAsPyTorch) {
  nn::Linear layer(3, 2);
  train::Recipe r;
  r.lr = 0.1;
  auto opt = r.make_optimizer(layer.parameters());
  // cosine over 4 epochs: lr_e = 0.1 (1 + cos(pi e / 4)) / 2
  r.schedule = "cosine";
  auto cosine = r.make_scheduler(*opt, 4, 10);
  EXPECT_FALSE(r.schedule_per_batch());
  for (int e = 1; e <= 4; ++e) {
    cosine->step();
    EXPECT_NEAR(opt->lr(), 0.1 * (1 + std::cos(M_PI * e / 4)) / 2, 1e-15) << e;
  }
  // one warm-up epoch from 0.1 x lr, then cosine over the remaining 3
  r.warmup_epochs = 1;
  auto warm = r.make_scheduler(*opt, 4, 10);
  EXPECT_NEAR(opt->lr(), 0.01, 1e-15);
  warm->step();
  EXPECT_NEAR(opt->lr(), 0.1, 1e-15);
  warm->step();
  EXPECT_NEAR(opt->lr(), 0.1 * (1 + std::cos(M_PI / 3)) / 2, 1e-15);
  // step: x gamma every step_size epochs
  r.warmup_epochs = 0;
  r.schedule = "step";
  r.step_size = 2;
  r.gamma = 0.5;
  auto step = r.make_scheduler(*opt, 6, 10);
  step->step();
  EXPECT_NEAR(opt->lr(), 0.1, 1e-15);
  step->step();
  EXPECT_NEAR(opt->lr(), 0.05, 1e-15);
  // one-cycle runs per batch over epochs x batches steps
  r.schedule = "onecycle";
  EXPECT_TRUE(r.schedule_per_batch());
  auto one = r.make_scheduler(*opt, 2, 10);
  EXPECT_NEAR(opt->lr(), 0.1 / 25, 1e-15);  // div_factor 25
  for (int i = 0; i < 5; ++i) one->step();  // the peak at step pct_start x 20 - 1 (as PyTorch)
  EXPECT_NEAR(opt->lr(), 0.1, 1e-12);
  r.schedule = "constant";
  EXPECT_EQ(r.make_scheduler(*opt, 2, 10), nullptr);
  r.schedule = "plateau";
  EXPECT_THROW_MSG(r.make_scheduler(*opt, 2, 10), "unknown schedule 'plateau'");
}

TEST(Recipe, DefaultLossIsCrossEntropyOnTheLabels) {
  const Tensor logits = from_vector(std::vector<float>{2, 0, 0, 0, 1, 3}, {2, 3});
  const Tensor labels = from_vector(std::vector<int64_t>{0, 2}, {2});
  train::Recipe r = train::recipe_for("music_cnn");
  EXPECT_EQ(r.name, "music_cnn");
  EXPECT_EQ(r.loss_fn()(logits, {{"label", labels}}).item(), nn::cross_entropy(logits, labels).item());
  r.label_smoothing = 0.1;
  nn::CrossEntropyOptions o;
  o.label_smoothing = 0.1;
  EXPECT_EQ(r.loss_fn()(logits, {{"label", labels}}).item(), nn::cross_entropy(logits, labels, o).item());
  EXPECT_THROW_MSG(r.loss_fn()(logits, {{"target", labels}}), "the batch has no 'label'");
  EXPECT_EQ(train::recipe_for("harmonic_cnn").warmup_epochs, 1);
  EXPECT_DOUBLE_EQ(train::recipe_for("harmonic_cnn").lr, 1e-2);
  EXPECT_DOUBLE_EQ(train::recipe_for("music_cnn").lr, 1e-3);
  // the augmentation scales the audio by one random gain within +-6 dB, drawn from the default
  // generator (so a resumed run draws the same)
  ASSERT_TRUE(r.augment);
  EXPECT_FALSE(train::recipe_for("some_other_model").augment);
  const Tensor audio = from_vector(std::vector<float>{0.5f, -0.25f, 0.1f}, {1, 1, 3});
  auto augmented = [&](uint64_t seed) {
    manual_seed(seed);
    data::Batch b{{"audio", audio}};
    r.augment(b);
    return b.at("audio").to_vector<float>();
  };
  const auto a1 = augmented(3), a2 = augmented(3), a3 = augmented(4);
  EXPECT_EQ(a1, a2);
  EXPECT_NE(a1, a3);
  const double g = a1[0] / 0.5;
  EXPECT_GE(20 * std::log10(g), -6.0);
  EXPECT_LE(20 * std::log10(g), 6.0);
  EXPECT_NEAR(a1[1], -0.25 * g, 1e-6);
  EXPECT_NE(r.to_string().find("music_cnn: adamw lr 0.001"), std::string::npos) << r.to_string();
}
