#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>

#include "autograd/node.h"
#include "tensor/error.h"
#include "train/csv_log.h"
#include "train/tensorboard.h"

namespace fm::train {

namespace {

volatile std::sig_atomic_t g_sigint = 0;

extern "C" void on_stop_signal(int sig) {
  g_sigint = 1;
  // a second Ctrl-C (or TERM) is not caught: it ends the process at once
  std::signal(sig, SIG_DFL);
}

// Catches SIGINT and SIGTERM (a scheduler preempting the job) for the duration of fit(), then
// puts the previous handlers back.
class StopSignalScope {
 public:
  explicit StopSignalScope(bool on) : on_(on) {
    g_sigint = 0;
    if (on_) {
      struct sigaction sa {};
      sa.sa_handler = on_stop_signal;
      sigemptyset(&sa.sa_mask);
      sigaction(SIGINT, &sa, &previous_int_);
      sigaction(SIGTERM, &sa, &previous_term_);
    }
  }
  ~StopSignalScope() {
    if (on_) {
      sigaction(SIGINT, &previous_int_, nullptr);
      sigaction(SIGTERM, &previous_term_, nullptr);
    }
    g_sigint = 0;
  }

 private:
  bool on_;
  struct sigaction previous_int_ {}, previous_term_ {};
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

const std::vector<std::string> kCsvColumns = {"epoch",        "step",         "train_loss", "val_loss", "val_accuracy",
                                              "val_top_k_accuracy", "val_macro_f1", "lr",         "seconds"};

}  // namespace

ForwardFn unary_forward(const std::string& input_key) {
  return [input_key](nn::Module& model, const data::Batch& batch) {
    auto* unary = dynamic_cast<nn::UnaryModule*>(&model);
    FM_CHECK(unary != nullptr, "Trainer: model ", model.type_name(),
             " takes more than one input; give TrainerOptions::forward");
    auto it = batch.find(input_key);
    FM_CHECK(it != batch.end(), "Trainer: the batch has no '", input_key, "'");
    return (*unary)(it->second);
  };
}

Trainer::Trainer(nn::Module& model, Recipe recipe, TrainerOptions options)
    : model_(model), recipe_(std::move(recipe)), options_(std::move(options)) {
  FM_CHECK(options_.epochs >= 1, "Trainer: epochs must be >= 1, got ", options_.epochs);
  if (options_.num_classes == 0) options_.num_classes = static_cast<int64_t>(options_.class_names.size());
  if (!options_.forward) options_.forward = unary_forward("audio");
  FM_CHECK(options_.best_metric == "accuracy" || options_.best_metric == "macro_f1" || options_.best_metric == "loss",
           "Trainer: best_metric must be accuracy, macro_f1 or loss, got '", options_.best_metric, "'");
}

Trainer::~Trainer() = default;

optim::Optimizer& Trainer::optimizer() {
  FM_CHECK(optimizer_ != nullptr, "Trainer::optimizer: fit() has not started");
  return *optimizer_;
}

std::string Trainer::checkpoint_path() const { return options_.out_dir + "/checkpoint"; }
std::string Trainer::best_path() const { return options_.out_dir + "/best"; }

void Trainer::build_optimizer(int64_t steps_per_epoch) {
  scheduler_.reset();
  optimizer_ = recipe_.make_optimizer(model_.parameters());
  scheduler_ = recipe_.make_scheduler(*optimizer_, options_.epochs, steps_per_epoch);
}

void Trainer::save(const std::string& prefix, const TrainState& state) const {
  save_training_checkpoint(prefix, model_, *optimizer_, scheduler_.get(), state);
}

double Trainer::score(const Evaluation& e) const {
  if (options_.best_metric == "loss") return -e.loss;
  return options_.best_metric == "macro_f1" ? e.metrics->macro_f1() : e.metrics->accuracy();
}

Evaluation Trainer::evaluate(BatchSource& loader) {
  FM_CHECK(options_.num_classes >= 1, "Trainer::evaluate: the number of classes is unknown (set class_names or "
           "num_classes)");
  const bool was_training = model_.is_training();
  model_.eval();
  NoGradGuard no_grad;
  const LossFn loss_fn = recipe_.loss_fn();
  Evaluation ev;
  ev.metrics = std::make_shared<ClassificationMetrics>(options_.num_classes, 5);
  double loss_sum = 0;
  loader.start(0, 0);
  while (auto b = loader.next()) {
    const Tensor out = options_.forward(model_, *b);
    auto label = b->find(options_.label_key);
    FM_CHECK(label != b->end(), "Trainer::evaluate: the batch has no '", options_.label_key, "'");
    loss_sum += loss_fn(out, *b).item() * out.size(0);
    ev.metrics->update(out, label->second);
  }
  ev.loss = ev.metrics->count() ? loss_sum / ev.metrics->count() : 0;
  model_.train(was_training);
  return ev;
}

FitResult Trainer::fit(BatchSource& train, BatchSource* val) {
  const int64_t batches = train.size();
  FM_CHECK(batches >= 1, "Trainer::fit: the training loader has no batches");
  FM_CHECK(!val || options_.num_classes >= 1, "Trainer::fit: validation needs the number of classes (set "
           "TrainerOptions::class_names or num_classes)");
  build_optimizer(batches);
  options_.info["batches_per_epoch"] = std::to_string(batches);
  const bool to_disk = !options_.out_dir.empty();

  TrainState st;
  st.info = options_.info;
  const bool resumed = options_.resume && to_disk && checkpoint_exists(checkpoint_path());
  if (resumed) {
    std::map<std::string, std::string> expected;
    for (const auto& k : options_.must_match)
      if (options_.info.count(k)) expected[k] = options_.info.at(k);
    // the same batches per epoch, or the positions in the checkpoint would name other batches
    expected["batches_per_epoch"] = options_.info["batches_per_epoch"];
    st = load_training_checkpoint(checkpoint_path(), model_, *optimizer_, scheduler_.get(), expected);
    st.info = options_.info;
  }

  std::unique_ptr<CsvLog> csv;
  std::unique_ptr<SummaryWriter> tb;
  if (to_disk) {
    std::filesystem::create_directories(options_.out_dir);
    const std::string csv_path = options_.out_dir + "/metrics.csv";
    // rows of epochs this run will redo (written after the checkpoint it resumes from) go
    if (resumed) CsvLog::truncate_rows(csv_path, st.epoch);
    csv = std::make_unique<CsvLog>(csv_path, kCsvColumns, resumed);
    if (options_.tensorboard) {
      tb = std::make_unique<SummaryWriter>(options_.out_dir);
      // steps after the checkpoint that a killed session logged are redone from here
      if (resumed) tb->add_session_start(st.global_step + 1);
    }
  }

  FitResult result;
  result.start_epoch = st.epoch;
  result.start_batch = st.batch;
  StopSignalScope signals(options_.catch_sigint);
  auto stopping = [&] { return stop_requested_.load() || g_sigint != 0; };
  stop_requested_ = false;

  const LossFn loss_fn = recipe_.loss_fn();
  const std::vector<Tensor> params = model_.parameters();
  const auto session_start = std::chrono::steady_clock::now();
  int64_t session_steps = 0, session_examples = 0;
  const int64_t total_steps = options_.epochs * batches;

  auto finish = [&](bool interrupted) {
    result.interrupted = interrupted;
    result.global_step = st.global_step;
    result.best_metric = st.best_metric;
    result.best_epoch = st.best_epoch;
    return result;
  };

  for (int64_t epoch = st.epoch; epoch < options_.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const double epoch_lr = optimizer_->lr();
    model_.train();
    if (st.batch < batches) {
      train.start(epoch, st.batch);
      while (auto b = train.next()) {
        data::Batch& batch = *b;
        if (recipe_.augment) recipe_.augment(batch);
        optimizer_->zero_grad();
        const Tensor out = options_.forward(model_, batch);
        const Tensor loss = loss_fn(out, batch);
        const double l = loss.item();
        // stop before a NaN reaches the weights: the checkpoint on disk stays the last good one
        FM_CHECK(std::isfinite(l), "Trainer::fit: the loss is ", l, " at epoch ", epoch + 1, ", batch ", st.batch + 1,
                 " (step ", st.global_step + 1, "); lower the learning rate or clip gradients",
                 to_disk ? "; the last checkpoint is " + checkpoint_path() : std::string());
        loss.backward();
        if (recipe_.grad_clip_norm > 0) optim::clip_grad_norm_(params, recipe_.grad_clip_norm);
        const double lr = optimizer_->lr();
        optimizer_->step();
        if (scheduler_ && recipe_.schedule_per_batch()) scheduler_->step();

        const int64_t n = out.dim() > 0 ? out.size(0) : 1;
        st.epoch_loss_sum += l * n;
        st.epoch_examples += n;
        ++st.batch;
        ++st.global_step;
        ++session_steps;
        session_examples += n;
        result.losses.push_back(static_cast<float>(l));
        if (tb) tb->add_scalar("train/loss", l, st.global_step);
        if (on_step) {
          const double elapsed = seconds_since(session_start);
          StepInfo info{epoch, options_.epochs, st.batch, batches, st.global_step, l, lr,
                        session_examples / std::max(elapsed, 1e-9),
                        elapsed / session_steps * static_cast<double>(total_steps - st.global_step)};
          on_step(info);
        }
        if (stopping()) {
          if (to_disk) save(checkpoint_path(), st);
          return finish(true);
        }
        if (to_disk && options_.checkpoint_every_steps > 0 && st.global_step % options_.checkpoint_every_steps == 0 &&
            st.batch < batches)
          save(checkpoint_path(), st);
      }
      FM_CHECK(st.batch == batches, "Trainer::fit: the training loader yielded ", st.batch, " batches in epoch ",
               epoch, " but its size() is ", batches);
    }

    if (scheduler_ && !recipe_.schedule_per_batch()) scheduler_->step();
    EpochResult er;
    er.epoch = epoch;
    er.global_step = st.global_step;
    er.train_loss = st.epoch_examples ? st.epoch_loss_sum / st.epoch_examples : 0;
    er.lr = epoch_lr;
    Evaluation ev;
    if (val) {
      ev = evaluate(*val);
      er.validated = true;
      er.val_loss = ev.loss;
      er.accuracy = ev.metrics->accuracy();
      er.top_k_accuracy = ev.metrics->top_k_accuracy();
      er.macro_f1 = ev.metrics->macro_f1();
      const double s = score(ev);
      if (s > st.best_metric) {
        st.best_metric = s;
        st.best_epoch = epoch;
        er.best = true;
      }
    }
    er.seconds = seconds_since(epoch_start);
    if (on_epoch_end) on_epoch_end(er, ev);

    st.epoch = epoch + 1;
    st.batch = 0;
    st.epoch_loss_sum = 0;
    st.epoch_examples = 0;
    if (to_disk) {
      if (er.best) save(best_path(), st);
      save(checkpoint_path(), st);
      const double nan = std::numeric_limits<double>::quiet_NaN();
      csv->write_row({epoch, st.global_step, er.train_loss, val ? er.val_loss : nan, val ? er.accuracy : nan,
                      val ? er.top_k_accuracy : nan, val ? er.macro_f1 : nan, er.lr, er.seconds});
      if (tb) {
        tb->add_scalar("train/epoch_loss", er.train_loss, st.global_step);
        tb->add_scalar("train/lr", er.lr, st.global_step);
        if (val) {
          tb->add_scalar("val/loss", er.val_loss, st.global_step);
          tb->add_scalar("val/accuracy", er.accuracy, st.global_step);
          tb->add_scalar("val/macro_f1", er.macro_f1, st.global_step);
        }
        tb->flush();
      }
    }
    result.epochs.push_back(er);
    if (stopping()) return finish(true);
  }
  return finish(false);
}

}  // namespace fm::train
