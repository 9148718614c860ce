#pragma once
// The training loop: for each epoch, for each batch: augment, forward, loss, backward, clip,
// optimizer step (and a per-batch schedule); then the epoch's schedule step, validation with
// classification metrics, logs (metrics.csv, TensorBoard), the checkpoint and, when the
// validation metric improved, the best checkpoint.
//
// Exact resume: the checkpoint holds the weights, optimizer and scheduler state, the position
// (epoch, batches done), the running sums of the epoch in progress and the default generator's
// state; the loader's order is a function of (seed, epoch) and it skips the batches already
// done. A resumed run therefore computes the same losses, bit for bit, as one never stopped.
// Ctrl-C (SIGINT, or SIGTERM) sets a flag: the step in progress finishes, a checkpoint is saved
// and fit() returns with `interrupted` set; a second Ctrl-C kills the process as usual. A run
// killed outright resumes from its last checkpoint (each epoch's end, or every
// checkpoint_every_steps steps) and from there computes what the uninterrupted run did.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "layers/module.h"
#include "optim/optimizer.h"
#include "optim/scheduler.h"
#include "train/metrics.h"
#include "train/recipe.h"
#include "train/training_checkpoint.h"

namespace fm::train {

// The batches of one epoch, in order; what the trainer needs of a loader.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t size() const = 0;  // batches per epoch
  // Starts `epoch` at batch `start_batch` (the batches before it are skipped, not loaded).
  virtual void start(int64_t epoch, int64_t start_batch) = 0;
  virtual std::optional<data::Batch> next() = 0;
};

// Adapts a loader with data::DataLoader's interface (set_epoch, set_start_batch, size,
// begin/end over batches).
template <class Loader>
class LoaderSource : public BatchSource {
 public:
  explicit LoaderSource(Loader& loader) : loader_(loader) {}
  int64_t size() const override { return loader_.size(); }
  void start(int64_t epoch, int64_t start_batch) override {
    it_.reset();
    loader_.set_epoch(epoch);
    loader_.set_start_batch(start_batch);
    it_.emplace(loader_.begin());
  }
  std::optional<data::Batch> next() override {
    if (!it_ || *it_ == loader_.end()) return std::nullopt;
    data::Batch b = std::move(**it_);
    ++*it_;
    return b;
  }

 private:
  Loader& loader_;
  std::optional<decltype(std::declval<Loader&>().begin())> it_;
};

// Computes the model's output for a batch.
using ForwardFn = std::function<Tensor(nn::Module& model, const data::Batch& batch)>;
// The default: the model is an nn::UnaryModule applied to batch[input_key].
ForwardFn unary_forward(const std::string& input_key = "audio");

struct TrainerOptions {
  int64_t epochs = 10;
  // Where checkpoint.*, best.*, metrics.csv and the TensorBoard events go; "" writes nothing.
  std::string out_dir;
  // Continue from out_dir/checkpoint when it exists (else start afresh).
  bool resume = false;
  // Kept in every checkpoint (model name, configuration, class names); on resume the entries
  // named in `must_match` have to be equal.
  std::map<std::string, std::string> info;
  std::vector<std::string> must_match = {"model"};
  std::vector<std::string> class_names;  // for printing; their number is the number of classes
  int64_t num_classes = 0;               // 0: class_names.size()
  std::string label_key = "label";
  ForwardFn forward;                     // empty: unary_forward("audio")
  // Ctrl-C (SIGINT) and SIGTERM stop the run after the step in progress, with a checkpoint.
  bool catch_sigint = true;
  // Also save a checkpoint every this many steps within epochs (0: only at the ends of epochs
  // and when stopped), so that a killed run loses at most that many steps.
  int64_t checkpoint_every_steps = 0;
  bool tensorboard = true;
  // The validation metric that picks the best checkpoint: "accuracy", "macro_f1" or "loss".
  std::string best_metric = "accuracy";
};

struct StepInfo {
  int64_t epoch = 0, epochs = 0;
  int64_t batch = 0, batches = 0;  // batch: 1-based index of the step just done in its epoch
  int64_t global_step = 0;
  double loss = 0, lr = 0;
  double examples_per_second = 0;
  double eta_seconds = 0;  // to the end of the run, from this session's pace
};

struct EpochResult {
  int64_t epoch = 0, global_step = 0;
  double train_loss = 0, lr = 0, seconds = 0;
  bool validated = false;
  double val_loss = 0, accuracy = 0, top_k_accuracy = 0, macro_f1 = 0;
  bool best = false;
};

struct FitResult {
  bool interrupted = false;
  int64_t start_epoch = 0, start_batch = 0;  // where this call began (after a resume)
  int64_t global_step = 0;
  std::vector<float> losses;                 // every step's loss in this call
  std::vector<EpochResult> epochs;           // the epochs that ended in this call
  double best_metric = 0;
  int64_t best_epoch = -1;
};

struct Evaluation {
  double loss = 0;
  std::shared_ptr<ClassificationMetrics> metrics;
};

class Trainer {
 public:
  Trainer(nn::Module& model, Recipe recipe, TrainerOptions options);
  ~Trainer();

  // Trains from the start, or from out_dir/checkpoint with options.resume. `val` may be null.
  FitResult fit(BatchSource& train, BatchSource* val = nullptr);
  // Loss and metrics of the model on every batch of `loader` (epoch 0), in eval mode.
  Evaluation evaluate(BatchSource& loader);

  // Called after every step (the progress bar; tests raise SIGINT from here).
  std::function<void(const StepInfo&)> on_step;
  // Called after every epoch's validation, before the checkpoint is written.
  std::function<void(const EpochResult&, const Evaluation&)> on_epoch_end;

  // Asks the loop to stop after the step in progress, as Ctrl-C does.
  void request_stop() { stop_requested_ = true; }

  nn::Module& model() { return model_; }
  optim::Optimizer& optimizer();            // valid once fit() started
  optim::LRScheduler* scheduler() { return scheduler_.get(); }
  const Recipe& recipe() const { return recipe_; }
  const TrainerOptions& options() const { return options_; }
  std::string checkpoint_path() const;  // out_dir/checkpoint (a prefix)
  std::string best_path() const;        // out_dir/best

 private:
  void build_optimizer(int64_t steps_per_epoch);
  void save(const std::string& prefix, const TrainState& state) const;
  double score(const Evaluation& e) const;

  nn::Module& model_;
  Recipe recipe_;
  TrainerOptions options_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  std::unique_ptr<optim::LRScheduler> scheduler_;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace fm::train
