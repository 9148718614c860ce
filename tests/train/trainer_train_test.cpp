// Learning tests of the training loop (through data::DataLoader, one thread): a small classifier
// overfits a handful of tone clips; a run stopped at an epoch boundary, mid-epoch by SIGINT or
// killed after a periodic checkpoint, then resumed, computes the same losses, bit for bit, as an
// uninterrupted run; the logs and checkpoints it leaves behind.
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

#include "train/curves.h"
#include "train/trainer.h"
#include "train_fixtures.h"

using namespace fm;
using fm::testing::make_loader;
using fm::testing::TempDir;
using fm::testing::ToneDataset;

namespace {

constexpr int64_t kT = 64, kClasses = 3;

train::Recipe test_recipe(const std::string& schedule = "cosine") {
  train::Recipe r = train::classification_recipe();
  r.optimizer = "adamw";
  r.lr = 1e-2;
  r.schedule = schedule;
  r.grad_clip_norm = 1.0;
  // an augmentation drawing from the default generator: resume must restore its draws too
  r.augment = [](data::Batch& b) { b["audio"] = b["audio"] + randn(b["audio"].sizes()) * 0.05; };
  return r;
}

train::TrainerOptions test_options(const std::string& out, int64_t epochs, bool resume = false) {
  train::TrainerOptions o;
  o.epochs = epochs;
  o.out_dir = out;
  o.resume = resume;
  o.class_names = {"low", "mid", "high"};
  o.info = {{"model", "tone_mlp"}};
  return o;
}

struct RunResult {
  std::vector<float> losses;
  std::map<std::string, Tensor> weights;
  bool interrupted = false;
};

// How one training session goes: its model is initialised from init_seed (a resumed session's
// initialisation is overwritten by the checkpoint), and it may be stopped or killed.
struct Session {
  int64_t epochs = 2;
  uint64_t init_seed = 1;
  int64_t stop_at_step = 0;  // SIGINT raised after this global step
  bool stop_at_epoch_end = false;
  int64_t checkpoint_every = 0;
  int64_t die_at_step = 0;  // an exception after this step, as if the process died
  std::string schedule = "cosine";
  int workers = 0;
};

// Trains in `out`, resuming from a checkpoint there if any.
RunResult run_training(const std::string& out, const Session& s) {
  auto ds = std::make_shared<ToneDataset>(24, kClasses, kT);
  auto val_ds = std::make_shared<ToneDataset>(9, kClasses, kT, 11);
  auto loader = make_loader(ds, 5, /*shuffle=*/true, 7, s.workers);
  auto val_loader = make_loader(val_ds, 4, false, 0, s.workers);
  train::LoaderSource train_src(loader), val_src(val_loader);
  manual_seed(s.init_seed);
  auto model = fm::testing::tone_classifier(kT, kClasses);
  auto options = test_options(out, s.epochs, /*resume=*/true);
  options.checkpoint_every_steps = s.checkpoint_every;
  train::Trainer trainer(*model, test_recipe(s.schedule), options);
  trainer.on_step = [&](const train::StepInfo& info) {
    if (info.global_step == s.stop_at_step) std::raise(SIGINT);
    // a process killed during this step: nothing after the last checkpoint is kept
    if (info.global_step == s.die_at_step) throw std::runtime_error("killed");
  };
  if (s.stop_at_epoch_end)
    trainer.on_epoch_end = [&](const train::EpochResult&, const train::Evaluation&) { trainer.request_stop(); };
  const train::FitResult r = trainer.fit(train_src, &val_src);
  return {r.losses, model->state_dict(), r.interrupted};
}

void expect_bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(std::memcmp(&a[i], &b[i], sizeof(float)), 0) << "step " << i + 1 << ": " << a[i] << " vs " << b[i];
}

void expect_same_weights(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, v] : a) {
    const auto x = v.to_vector<double>(), y = b.at(k).to_vector<double>();
    EXPECT_EQ(x, y) << k;
  }
}

std::vector<std::string> csv_rows_without_seconds(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> rows;
  for (std::string line; std::getline(f, line);) rows.push_back(line.substr(0, line.rfind(',')));
  return rows;
}

}  // namespace

TEST(TrainerTrain, OverfitsAHandfulOfClips) {
  auto ds = std::make_shared<ToneDataset>(12, kClasses, kT);
  auto loader = make_loader(ds, 4, true, 1);
  train::LoaderSource src(loader);
  manual_seed(0);
  auto model = fm::testing::tone_classifier(kT, kClasses, 0.0);
  train::Recipe recipe = train::classification_recipe();
  recipe.lr = 1e-2;
  recipe.weight_decay = 0;
  train::TrainerOptions o;
  o.epochs = 60;
  o.num_classes = kClasses;
  train::Trainer trainer(*model, recipe, o);
  const train::FitResult r = trainer.fit(src, &src);
  ASSERT_EQ(r.epochs.size(), 60u);
  EXPECT_FALSE(r.interrupted);
  EXPECT_GT(r.losses.front(), 0.8);  // about ln 3 at the start
  // batch statistics of 4 clips make the training-mode loss noisy: judge the eval-mode loss
  EXPECT_LT(r.epochs.back().val_loss, 0.05);
  const train::Evaluation ev = trainer.evaluate(src);
  EXPECT_EQ(ev.loss, r.epochs.back().val_loss);
  EXPECT_EQ(ev.metrics->count(), 12);
  EXPECT_DOUBLE_EQ(ev.metrics->accuracy(), 1.0) << ev.metrics->confusion_to_string();
  EXPECT_DOUBLE_EQ(ev.metrics->macro_f1(), 1.0);
  EXPECT_GE(r.best_epoch, 0);
}

TEST(TrainerTrain, ResumeAtEpochBoundaryEqualsUninterruptedRun) {
  TempDir straight("fermata_resume_straight"), split("fermata_resume_split");
  const RunResult straight_run = run_training(straight.str(), {.epochs = 2, .init_seed = 1});
  EXPECT_FALSE(straight_run.interrupted);
  ASSERT_EQ(straight_run.losses.size(), 10u);  // 24 clips in batches of 5: 5 steps per epoch

  const RunResult first = run_training(split.str(), {.epochs = 2, .init_seed = 1, .stop_at_epoch_end = true});
  EXPECT_TRUE(first.interrupted);
  ASSERT_EQ(first.losses.size(), 5u);
  // a model initialised differently: everything it continues with comes from the checkpoint
  const RunResult second = run_training(split.str(), {.epochs = 2, .init_seed = 99});
  EXPECT_FALSE(second.interrupted);
  std::vector<float> joined = first.losses;
  joined.insert(joined.end(), second.losses.begin(), second.losses.end());
  expect_bitwise_equal(joined, straight_run.losses);
  expect_same_weights(second.weights, straight_run.weights);
  EXPECT_EQ(csv_rows_without_seconds(split.str("metrics.csv")), csv_rows_without_seconds(straight.str("metrics.csv")));
  EXPECT_EQ(csv_rows_without_seconds(split.str("metrics.csv")).size(), 3u);
}

TEST(TrainerTrain, SigintMidEpochSavesAndResumesExactly) {
  TempDir straight("fermata_sigint_straight"), split("fermata_sigint_split");
  const RunResult straight_run = run_training(straight.str(), {.epochs = 3, .init_seed = 2});
  ASSERT_EQ(straight_run.losses.size(), 15u);

  // step 7 is the second batch of epoch 1
  const RunResult first = run_training(split.str(), {.epochs = 3, .init_seed = 2, .stop_at_step = 7});
  EXPECT_TRUE(first.interrupted);
  ASSERT_EQ(first.losses.size(), 7u);
  const train::TrainState st = train::read_training_state(split.str("checkpoint"));
  EXPECT_EQ(st.epoch, 1);
  EXPECT_EQ(st.batch, 2);
  EXPECT_EQ(st.global_step, 7);
  EXPECT_EQ(st.info.at("model"), "tone_mlp");
  // the handler is gone after fit(): SIGINT's previous disposition is back
  struct sigaction now {};
  sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
  sigaction(SIGTERM, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);

  const RunResult second = run_training(split.str(), {.epochs = 3, .init_seed = 123});
  std::vector<float> joined = first.losses;
  joined.insert(joined.end(), second.losses.begin(), second.losses.end());
  expect_bitwise_equal(joined, straight_run.losses);
  expect_same_weights(second.weights, straight_run.weights);
  // the interrupted epoch's mean loss and the validation rows agree too
  EXPECT_EQ(csv_rows_without_seconds(split.str("metrics.csv")), csv_rows_without_seconds(straight.str("metrics.csv")));
  EXPECT_TRUE(train::checkpoint_exists(split.str("best")));
  // the picture of all three epochs, drawn from the log the two sessions wrote
  train::save_training_curves(split.str("metrics.csv"), split.str("curves.png"));
  EXPECT_GT(std::filesystem::file_size(split.str("curves.png")), 1000u);
}

TEST(TrainerTrain, SigintMidEpochWithLoaderThreadsResumesExactly) {
  // batches do not depend on the number of loader threads, and a stop leaves none behind
  TempDir straight("fermata_workers_straight"), split("fermata_workers_split");
  const RunResult straight_run = run_training(straight.str(), {.epochs = 2, .init_seed = 4});
  const RunResult first = run_training(split.str(), {.epochs = 2, .init_seed = 4, .stop_at_step = 8, .workers = 2});
  ASSERT_TRUE(first.interrupted);
  const RunResult second = run_training(split.str(), {.epochs = 2, .init_seed = 50, .workers = 2});
  std::vector<float> joined = first.losses;
  joined.insert(joined.end(), second.losses.begin(), second.losses.end());
  expect_bitwise_equal(joined, straight_run.losses);
  expect_same_weights(second.weights, straight_run.weights);
}

TEST(TrainerTrain, AKilledRunResumesFromItsLastCheckpoint) {
  TempDir straight("fermata_killed_straight"), split("fermata_killed_split");
  const RunResult straight_run = run_training(straight.str(), {.epochs = 2, .init_seed = 3});
  // checkpoints every 3 steps; killed during step 8, so the last checkpoint is step 6's
  EXPECT_THROW(run_training(split.str(), {.epochs = 2, .init_seed = 3, .checkpoint_every = 3, .die_at_step = 8}),
               std::runtime_error);
  EXPECT_EQ(train::read_training_state(split.str("checkpoint")).global_step, 6);
  const RunResult second = run_training(split.str(), {.epochs = 2, .init_seed = 77});
  ASSERT_EQ(second.losses.size(), 4u);
  expect_bitwise_equal(second.losses, std::vector<float>(straight_run.losses.begin() + 6, straight_run.losses.end()));
  expect_same_weights(second.weights, straight_run.weights);
  EXPECT_EQ(csv_rows_without_seconds(split.str("metrics.csv")), csv_rows_without_seconds(straight.str("metrics.csv")));
}

TEST(TrainerTrain, ResumeIsExactWithPerBatchOneCycleAndStepSchedules) {
  for (const char* schedule : {"onecycle", "step"}) {
    SCOPED_TRACE(schedule);
    TempDir straight("fermata_sched_straight"), split("fermata_sched_split");
    const RunResult straight_run = run_training(straight.str(), {.epochs = 2, .init_seed = 5, .schedule = schedule});
    // OneCycleLR also cycles Adam's beta1: it must come back with the checkpoint
    const RunResult first =
        run_training(split.str(), {.epochs = 2, .init_seed = 5, .stop_at_step = 3, .schedule = schedule});
    ASSERT_TRUE(first.interrupted);
    const RunResult second = run_training(split.str(), {.epochs = 2, .init_seed = 8, .schedule = schedule});
    std::vector<float> joined = first.losses;
    joined.insert(joined.end(), second.losses.begin(), second.losses.end());
    expect_bitwise_equal(joined, straight_run.losses);
  }
}

TEST(TrainerTrain, StopsWithAClearMessageWhenTheLossIsNotFinite) {
  auto ds = std::make_shared<ToneDataset>(8, kClasses, kT);
  auto loader = make_loader(ds, 4, false);
  train::LoaderSource src(loader);
  auto model = fm::testing::tone_classifier(kT, kClasses);
  train::Recipe recipe = test_recipe();
  recipe.augment = [](data::Batch& b) { b["audio"] = b["audio"] * std::nan(""); };
  train::TrainerOptions o = test_options("", 1);
  train::Trainer trainer(*model, recipe, o);
  const auto before = model->state_dict().at("1.weight").to_vector<float>();
  EXPECT_THROW_MSG(trainer.fit(src), "nan at epoch 1, batch 1 (step 1); lower the learning rate");
  EXPECT_EQ(model->state_dict().at("1.weight").to_vector<float>(), before);
}

TEST(TrainerTrain, RefusesToResumeAnotherModelsCheckpoint) {
  TempDir dir("fermata_resume_other");
  run_training(dir.str(), {.epochs = 1, .init_seed = 1});
  auto ds = std::make_shared<ToneDataset>(24, kClasses, kT);
  auto loader = make_loader(ds, 5, true, 7);
  train::LoaderSource src(loader);
  auto model = fm::testing::tone_classifier(kT, kClasses);
  auto o = test_options(dir.str(), 2, true);
  o.info["model"] = "other_mlp";
  train::Trainer trainer(*model, test_recipe(), o);
  EXPECT_THROW_MSG(trainer.fit(src), "was saved with model 'tone_mlp', this run has 'other_mlp'");
  // a different batch size would name other batches
  auto loader4 = make_loader(ds, 4, true, 7);
  train::LoaderSource src4(loader4);
  train::Trainer trainer4(*model, test_recipe(), test_options(dir.str(), 2, true));
  EXPECT_THROW_MSG(trainer4.fit(src4), "batches_per_epoch '5', this run has '6'");
}
