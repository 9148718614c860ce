// `fermata train MODEL --data DIR`: trains a registered model on a rendered corpus or a class
// folder with the model's recipe; a progress bar per epoch, validation metrics and the
// confusion matrix after each, logs, checkpoints, the best model and a picture of the curves
// in --out. Ctrl-C saves a checkpoint and stops; --resume continues from it exactly.
#include <cstdio>
#include <filesystem>

#include "apps/command.h"
#include "apps/train_common.h"
#include "autograd/views.h"
#include "data/dataloader.h"
#include "data/progress.h"
#include "tensor/philox.h"
#include "train/curves.h"
#include "train/trainer.h"

namespace fm::apps {
namespace {

struct TrainArgs {
  std::string model, data, out, device = "cpu";
  int64_t epochs = 20, batch_size = 16;
  double lr = 0;  // 0: the recipe's
  uint64_t seed = 0;
  int threads = 0, workers = 0;
  int64_t checkpoint_every = 0;
  bool resume = false, overwrite = false, no_augment = false;
  std::vector<std::string> settings;  // --set NAME=VALUE
};

// --set n_mels=64 / dropout=0.3 / conv1_channels=16 ...: the ModelConfig fields by name, the
// rest as the model's own options (create_model names the valid ones when one is unknown).
void apply_settings(models::ModelConfig& c, const std::vector<std::string>& settings) {
  for (const std::string& s : settings) {
    const size_t eq = s.find('=');
    FM_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < s.size(), "--set expects NAME=VALUE, got '", s, "'");
    const std::string name = s.substr(0, eq), text = s.substr(eq + 1);
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    FM_CHECK(used == text.size(), "--set ", name, ": '", text, "' is not a number");
    if (name == "n_fft") c.n_fft = static_cast<int64_t>(v);
    else if (name == "hop_length") c.hop_length = static_cast<int64_t>(v);
    else if (name == "n_mels") c.n_mels = static_cast<int64_t>(v);
    else if (name == "dropout") c.dropout = v;
    else c.options[name] = v;
  }
}

int run_train(const TrainArgs& a) {
  set_threads(a.threads);
  const Device device = Device::parse(a.device);
  FM_CHECK(device.is_cpu() || cuda_device_count() > 0, "--device ", a.device,
           ": no CUDA device here (this build or machine has none)");
  const std::string out = a.out.empty() ? "runs/" + a.model : a.out;
  FM_CHECK(!(a.resume && a.overwrite), "--resume and --overwrite exclude each other");
  const bool has_run = train::checkpoint_exists(out + "/checkpoint") || std::filesystem::exists(out + "/metrics.csv");
  FM_CHECK(!has_run || a.resume || a.overwrite, "'", out, "' already holds a training run: add --resume to continue "
           "it, --overwrite to start again there, or choose another --out");
  if (has_run && a.overwrite) {
    // the files of the earlier run, so that its events and rows do not mix with the new ones
    for (const auto& entry : std::filesystem::directory_iterator(out)) {
      const std::string name = entry.path().filename().string();
      const bool ours = name.rfind("events.out.tfevents.", 0) == 0 || name == "metrics.csv" || name == "curves.png" ||
                        name.rfind("checkpoint.", 0) == 0 || name.rfind("best.", 0) == 0;
      if (ours && entry.is_regular_file()) std::filesystem::remove(entry.path());
    }
  }
  if (a.resume && !has_run) std::printf("no checkpoint in '%s': starting a new run\n", out.c_str());
  manual_seed(a.seed);

  const ClassificationData train_data = open_split(a.data, "train");
  const ClassificationData valid_data = open_split(a.data, "valid", train_data.sample_rate);
  FM_CHECK(train_data.dataset->size() > 0, "no training clips in '", a.data, "'");
  std::printf("data: %s\n      %s\n", train_data.description.c_str(), valid_data.description.c_str());

  models::ModelConfig config;
  config.n_classes = static_cast<int64_t>(train_data.classes.size());
  config.sample_rate = train_data.sample_rate;
  apply_settings(config, a.settings);
  std::shared_ptr<nn::Module> model = models::create_model(a.model, config);
  model->to(device);

  train::Recipe recipe = train::recipe_for(a.model);
  if (a.lr > 0) recipe.lr = a.lr;
  if (a.no_augment) recipe.augment = nullptr;
  std::printf("model: %s, %lld parameters, %lld classes\nrecipe: %s\n", a.model.c_str(),
              static_cast<long long>(model->num_parameters()), static_cast<long long>(config.n_classes),
              recipe.to_string().c_str());

  data::DataLoaderOptions train_opts;
  train_opts.batch_size = a.batch_size;
  train_opts.shuffle = true;
  train_opts.seed = a.seed;
  train_opts.num_workers = a.workers;
  data::DataLoaderOptions valid_opts = train_opts;
  valid_opts.shuffle = false;
  data::DataLoader train_loader(train_data.dataset, train_opts);
  data::DataLoader valid_loader(valid_data.dataset, valid_opts);
  train::LoaderSource train_src(train_loader), valid_src(valid_loader);

  train::TrainerOptions o;
  o.epochs = a.epochs;
  o.out_dir = out;
  o.resume = a.resume;
  o.checkpoint_every_steps = a.checkpoint_every;
  o.class_names = train_data.classes;
  o.info = {{"model", a.model},
            {"model_config", model_config_to_json(config)},
            {"class_names", strings_to_json(train_data.classes)},
            {"data", a.data},
            {"seed", std::to_string(a.seed)},
            {"epochs", std::to_string(a.epochs)}};
  o.must_match = {"model", "model_config", "class_names", "seed"};
  o.forward = [device](nn::Module& m, const data::Batch& batch) {
    auto it = batch.find("audio");
    FM_CHECK(it != batch.end(), "the batches have no 'audio'");
    return forward_audio(m, it->second.device() == device ? it->second : to(it->second, device));
  };
  if (!device.is_cpu()) {
    const train::LossFn base = recipe.loss_fn();
    recipe.loss = [base, device](const Tensor& out, const data::Batch& b) {
      data::Batch moved = b;
      moved["label"] = to(b.at("label"), device);
      return base(out, moved);
    };
  }
  train::Trainer trainer(*model, recipe, o);

  std::unique_ptr<data::ProgressBar> bar;
  trainer.on_step = [&](const train::StepInfo& s) {
    if (!bar || s.batch == 1) {
      // a run resumed mid-epoch counts the batches left, so that the rate and ETA are this run's
      std::string label = "epoch " + std::to_string(s.epoch + 1) + "/" + std::to_string(s.epochs);
      if (s.batch > 1) label += " from batch " + std::to_string(s.batch);
      bar = std::make_unique<data::ProgressBar>(label, s.batches - s.batch + 1, data::ProgressOptions{.unit = "batch"});
    }
    char loss[32], rate[32];
    std::snprintf(loss, sizeof loss, "%.4f", s.loss);
    std::snprintf(rate, sizeof rate, "%.1f", s.examples_per_second);
    bar->advance(1, {{"step", std::to_string(s.global_step)},
                     {"loss", loss},
                     {"ex/s", rate},
                     {"run ETA", data::format_duration(s.eta_seconds)}});
  };
  trainer.on_epoch_end = [&](const train::EpochResult& e, const train::Evaluation& ev) {
    if (bar) bar->finish();
    bar.reset();
    if (!e.validated) {
      std::printf("epoch %lld/%lld  train loss %.4f  lr %.3g  %.1fs\n", static_cast<long long>(e.epoch + 1),
                  static_cast<long long>(a.epochs), e.train_loss, e.lr, e.seconds);
    } else {
      std::printf("epoch %lld/%lld  train loss %.4f  val loss %.4f  accuracy %.2f%%  macro-F1 %.4f  lr %.3g  %.1fs%s\n",
                  static_cast<long long>(e.epoch + 1), static_cast<long long>(a.epochs), e.train_loss, e.val_loss,
                  100 * e.accuracy, e.macro_f1, e.lr, e.seconds, e.best ? "  (best)" : "");
    }
    if (ev.metrics) std::printf("%s", ev.metrics->confusion_to_string(train_data.classes).c_str());
    std::fflush(stdout);
  };

  if (a.resume && train::checkpoint_exists(trainer.checkpoint_path())) {
    const train::TrainState st = train::read_training_state(trainer.checkpoint_path());
    std::printf("resuming from %s: epoch %lld, batch %lld, step %lld\n", trainer.checkpoint_path().c_str(),
                static_cast<long long>(st.epoch + 1), static_cast<long long>(st.batch),
                static_cast<long long>(st.global_step));
    auto e = st.info.find("epochs");
    if (e != st.info.end() && e->second != std::to_string(a.epochs))
      std::printf("note: the run was started with --epochs %s; with --epochs %lld the schedule differs from there on\n",
                  e->second.c_str(), static_cast<long long>(a.epochs));
  }
  std::fflush(stdout);  // before any error on stderr, when stdout is a file
  const bool validate = valid_data.dataset->size() > 0;
  if (!validate) std::printf("note: no validation clips: no metrics each epoch, and no best checkpoint\n");
  const train::FitResult r = trainer.fit(train_src, validate ? &valid_src : nullptr);
  if (bar) bar->finish();
  bar.reset();
  const std::string csv = out + "/metrics.csv";
  if (std::filesystem::exists(csv)) train::save_training_curves(csv, out + "/curves.png");
  if (r.interrupted) {
    std::string again = "fermata train " + a.model + " --data " + a.data + " --out " + out + " --epochs " +
                        std::to_string(a.epochs) + " --batch-size " + std::to_string(a.batch_size) + " --seed " +
                        std::to_string(a.seed);
    if (a.lr > 0) again += " --lr " + std::to_string(a.lr);
    if (a.no_augment) again += " --no-augment";
    std::printf("\nstopped at step %lld; checkpoint saved to %s.safetensors\ncontinue with: %s --resume\n",
                static_cast<long long>(r.global_step), trainer.checkpoint_path().c_str(), again.c_str());
    return 130;  // the shell's status for a run ended by Ctrl-C
  }
  std::printf("done: %lld steps", static_cast<long long>(r.global_step));
  if (r.best_epoch >= 0)
    std::printf("; best validation %s %.4f at epoch %lld", o.best_metric.c_str(), r.best_metric,
                static_cast<long long>(r.best_epoch + 1));
  std::printf("\nwrote %s/: checkpoint.safetensors%s, metrics.csv, curves.png, TensorBoard events\n", out.c_str(),
              r.best_epoch >= 0 ? ", best.safetensors" : "");
  return 0;
}

const Registration train_cmd{{"train", "Train a model on a rendered corpus or a class folder",
  [](CLI::App& sub) -> std::function<int()> {
    auto a = std::make_shared<TrainArgs>();
    sub.add_option("model", a->model, "Model name (music_cnn, harmonic_cnn)")->required();
    sub.add_option("--data", a->data, "Rendered corpus (with manifest.json) or a folder of class sub-folders")
        ->required();
    sub.add_option("--epochs", a->epochs, "Epochs")->capture_default_str();
    sub.add_option("--batch-size", a->batch_size, "Clips per batch")->capture_default_str();
    sub.add_option("--lr", a->lr, "Peak learning rate (default: the model's recipe)");
    sub.add_option("--seed", a->seed, "Seed of the initialisation, the shuffling and the augmentation")
        ->capture_default_str();
    sub.add_option("--threads", a->threads, "CPU threads (0: all)")->capture_default_str();
    sub.add_option("--workers", a->workers, "Data loading threads (0: load in the training thread)")
        ->capture_default_str();
    sub.add_option("--device", a->device, "cpu or cuda[:N]")->capture_default_str();
    sub.add_option("--out", a->out, "Output directory (default runs/MODEL)");
    sub.add_option("--checkpoint-every", a->checkpoint_every,
                   "Also save a checkpoint every N steps within epochs (0: at the end of each epoch)")
        ->capture_default_str();
    sub.add_option("--set", a->settings, "Model setting NAME=VALUE (n_mels, n_fft, hop_length, dropout or the "
                   "model's own, e.g. conv1_channels); repeatable");
    sub.add_flag("--resume", a->resume, "Continue from OUT/checkpoint when there is one");
    sub.add_flag("--overwrite", a->overwrite, "Start afresh in an OUT that holds an earlier run (its files go)");
    sub.add_flag("--no-augment", a->no_augment, "Train without the recipe's augmentation");
    return [a] { return run_train(*a); };
  }}};

}  // namespace
}  // namespace fm::apps
