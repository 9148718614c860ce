// Training checkpoints: the state comes back exactly, and every kind of broken checkpoint is
// refused with a message naming the file and what is wrong, before the model is touched.
#include "train/training_checkpoint.h"

#include <fstream>

#include "optim/checkpoint.h"
#include "train_fixtures.h"

using namespace fm;
using fm::testing::TempDir;

namespace {

struct Fixture {
  std::shared_ptr<nn::Sequential> model;
  std::unique_ptr<optim::Adam> opt;
  std::unique_ptr<optim::CosineAnnealingLR> sched;
};

Fixture make_setup(uint64_t seed, int64_t classes = 3) {
  manual_seed(seed);
  Fixture s{fm::testing::tone_classifier(8, classes), nullptr, nullptr};
  s.opt = std::make_unique<optim::Adam>(s.model->parameters(), optim::AdamOptions{.lr = 0.1});
  s.sched = std::make_unique<optim::CosineAnnealingLR>(*s.opt, 10);
  return s;
}

void one_step(Fixture& s) {
  s.opt->zero_grad();
  Tensor loss = nn::cross_entropy((*s.model)(randn({4, 1, 8})), from_vector(std::vector<int64_t>{0, 1, 2, 0}, {4}));
  loss.backward();
  s.opt->step();
  s.sched->step();
}

train::TrainState sample_state() {
  train::TrainState st;
  st.epoch = 3;
  st.batch = 7;
  st.global_step = 37;
  st.epoch_loss_sum = 0.1 + 0.2;  // not exactly 0.3: must come back bit for bit
  st.epoch_examples = 28;
  st.best_metric = 2.0 / 3;
  st.best_epoch = 2;
  st.info = {{"model", "tone_mlp"}, {"class_names", "[\"a\",\"b\",\"c\"]"}};
  return st;
}

void flip_last_byte(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-1, std::ios::end);
  char c;
  f.get(c);
  f.seekp(-1, std::ios::end);
  f.put(static_cast<char>(c ^ 0x40));
}

}  // namespace

TEST(TrainingCheckpoint, RoundTripsTheWholeState) {
  TempDir dir("fermata_ckpt_roundtrip");
  const std::string prefix = dir.str("run/checkpoint");  // the directory is created
  Fixture a = make_setup(1);
  one_step(a);
  const uint64_t offset = default_generator().offset();
  train::save_training_checkpoint(prefix, *a.model, *a.opt, a.sched.get(), sample_state());
  EXPECT_TRUE(train::checkpoint_exists(prefix));
  EXPECT_EQ(train::checkpoint_prefix(prefix + ".safetensors"), prefix);
  EXPECT_EQ(train::checkpoint_prefix(prefix + ".train.safetensors"), prefix);

  Fixture b = make_setup(2);
  randn({100});  // moves the generator: the load must put it back
  const train::TrainState st =
      train::load_training_checkpoint(prefix, *b.model, *b.opt, b.sched.get(), {{"model", "tone_mlp"}});
  const train::TrainState expected = sample_state();
  EXPECT_EQ(st.epoch, expected.epoch);
  EXPECT_EQ(st.batch, expected.batch);
  EXPECT_EQ(st.global_step, expected.global_step);
  EXPECT_EQ(st.epoch_loss_sum, expected.epoch_loss_sum);
  EXPECT_EQ(st.epoch_examples, expected.epoch_examples);
  EXPECT_EQ(st.best_metric, expected.best_metric);
  EXPECT_EQ(st.best_epoch, expected.best_epoch);
  EXPECT_EQ(st.info, expected.info);
  EXPECT_EQ(default_generator().offset(), offset);
  EXPECT_EQ(b.sched->last_epoch(), 1);
  EXPECT_DOUBLE_EQ(b.opt->lr(), a.opt->lr());
  for (const auto& [k, v] : a.model->state_dict())
    EXPECT_EQ(v.to_vector<double>(), b.model->state_dict().at(k).to_vector<double>()) << k;
  // the optimizer continues identically
  one_step(a);
  const uint64_t after_a = default_generator().offset();
  default_generator().set_offset(offset);
  one_step(b);
  EXPECT_EQ(default_generator().offset(), after_a);
  for (const auto& [k, v] : a.model->state_dict())
    EXPECT_EQ(v.to_vector<double>(), b.model->state_dict().at(k).to_vector<double>()) << k;
  // the weights file alone is a PyTorch state_dict
  EXPECT_EQ(load_safetensors(prefix + ".safetensors").count("1.weight"), 1u);
}

TEST(TrainingCheckpoint, RefusesCorruptWeights) {
  TempDir dir("fermata_ckpt_corrupt");
  const std::string prefix = dir.str("checkpoint");
  Fixture a = make_setup(1);
  train::save_training_checkpoint(prefix, *a.model, *a.opt, a.sched.get(), sample_state());
  flip_last_byte(prefix + ".safetensors");  // a weight's bits: still a valid safetensors file
  Fixture b = make_setup(2);
  const auto before = b.model->state_dict().at("1.weight").to_vector<float>();
  EXPECT_THROW_MSG(train::load_training_checkpoint(prefix, *b.model, *b.opt, b.sched.get()),
                   "checkpoint '" + prefix + ".safetensors' is corrupt or was changed after the save");
  EXPECT_EQ(b.model->state_dict().at("1.weight").to_vector<float>(), before);  // untouched
}

TEST(TrainingCheckpoint, RefusesTruncatedAndGarbageFiles) {
  TempDir dir("fermata_ckpt_truncated");
  const std::string prefix = dir.str("checkpoint");
  Fixture a = make_setup(1);
  train::save_training_checkpoint(prefix, *a.model, *a.opt, a.sched.get(), sample_state());
  Fixture b = make_setup(2);
  std::filesystem::resize_file(prefix + ".safetensors", std::filesystem::file_size(prefix + ".safetensors") - 100);
  EXPECT_THROW_MSG(train::load_training_checkpoint(prefix, *b.model, *b.opt, b.sched.get()), prefix + ".safetensors");
  {
    std::ofstream f(prefix + ".train.safetensors", std::ios::binary | std::ios::trunc);
    f << "this is not a safetensors file at all";
  }
  EXPECT_THROW_MSG(train::load_training_checkpoint(prefix, *b.model, *b.opt, b.sched.get()),
                   prefix + ".train.safetensors");
  std::filesystem::remove(prefix + ".train.safetensors");
  EXPECT_THROW_MSG(train::load_training_checkpoint(prefix, *b.model, *b.opt, b.sched.get()),
                   "the training state '" + prefix + ".train.safetensors' does not exist");
  EXPECT_THROW_MSG(train::load_training_checkpoint(dir.str("nothing"), *b.model, *b.opt, b.sched.get()),
                   "the weights file '" + dir.str("nothing") + ".safetensors' does not exist");
}

TEST(TrainingCheckpoint, RefusesMismatchedPairsInterruptedSavesAndOtherModels) {
  TempDir dir("fermata_ckpt_mismatch");
  Fixture a = make_setup(1);
  train::save_training_checkpoint(dir.str("one"), *a.model, *a.opt, a.sched.get(), sample_state());
  train::save_training_checkpoint(dir.str("two"), *a.model, *a.opt, a.sched.get(), sample_state());
  Fixture b = make_setup(2);

  // the state of another save beside these weights
  std::filesystem::copy_file(dir.str("two.train.safetensors"), dir.str("one.train.safetensors"),
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_THROW_MSG(train::load_training_checkpoint(dir.str("one"), *b.model, *b.opt, b.sched.get()),
                   "come from different saves");

  // a save that stopped before the trainer's entries were written
  optim::save_checkpoint(dir.str("three"), *a.model, a.opt.get(), a.sched.get());
  EXPECT_THROW_MSG(train::load_training_checkpoint(dir.str("three"), *b.model, *b.opt, b.sched.get()),
                   "its save was interrupted");

  // another model's name, and another architecture
  EXPECT_THROW_MSG(train::load_training_checkpoint(dir.str("two"), *b.model, *b.opt, b.sched.get(), {{"model", "cnn"}}),
                   "was saved with model 'tone_mlp', this run has 'cnn'");
  Fixture c = make_setup(3, /*classes=*/4);
  EXPECT_THROW_MSG(train::load_training_checkpoint(dir.str("two"), *c.model, *c.opt, c.sched.get()),
                   "cannot load checkpoint '" + dir.str("two") + ".safetensors'");
  try {
    train::load_training_checkpoint(dir.str("two"), *c.model, *c.opt, c.sched.get());
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("5.weight"), std::string::npos) << e.what();  // names the bad key
  }
}
