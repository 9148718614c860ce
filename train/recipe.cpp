#include "train/recipe.h"

#include <cstdio>

#include "audio/augment.h"
#include "layers/loss.h"
#include "tensor/error.h"

namespace fm::train {

std::unique_ptr<optim::Optimizer> Recipe::make_optimizer(std::vector<Tensor> params) const {
  FM_CHECK(lr > 0, "Recipe '", name, "': learning rate must be > 0, got ", lr);
  if (optimizer == "sgd")
    return std::make_unique<optim::SGD>(
        std::move(params),
        optim::SGDOptions{.lr = lr, .momentum = momentum, .weight_decay = weight_decay, .nesterov = momentum > 0});
  if (optimizer == "adam")
    return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions{.lr = lr, .weight_decay = weight_decay});
  if (optimizer == "adamw")
    return std::make_unique<optim::AdamW>(std::move(params),
                                          optim::AdamOptions{.lr = lr, .weight_decay = weight_decay});
  if (optimizer == "rmsprop")
    return std::make_unique<optim::RMSprop>(
        std::move(params), optim::RMSpropOptions{.lr = lr, .weight_decay = weight_decay, .momentum = momentum});
  fail("Recipe '", name, "': unknown optimizer '", optimizer, "' (expected sgd, adam, adamw or rmsprop)");
}

std::unique_ptr<optim::LRScheduler> Recipe::make_scheduler(optim::Optimizer& opt, int64_t epochs,
                                                           int64_t steps_per_epoch) const {
  FM_CHECK(epochs >= 1 && steps_per_epoch >= 1, "Recipe '", name, "': need at least one epoch and one batch, got ",
           epochs, " epochs of ", steps_per_epoch, " batches");
  if (schedule == "constant") return nullptr;
  if (schedule == "onecycle") return std::make_unique<optim::OneCycleLR>(opt, lr, epochs * steps_per_epoch);
  FM_CHECK(schedule == "cosine" || schedule == "step", "Recipe '", name, "': unknown schedule '", schedule,
           "' (expected constant, cosine, step or onecycle)");
  const int64_t warm = std::min(warmup_epochs, epochs - 1);
  auto main_schedule = [&]() -> std::unique_ptr<optim::LRScheduler> {
    if (schedule == "cosine")
      return std::make_unique<optim::CosineAnnealingLR>(opt, std::max<int64_t>(1, epochs - warm));
    return std::make_unique<optim::StepLR>(opt, step_size, gamma);
  };
  if (warm <= 0) return main_schedule();
  std::shared_ptr<optim::LRScheduler> warmup = std::make_shared<optim::LinearLR>(opt, 0.1, 1.0, warm);
  std::shared_ptr<optim::LRScheduler> after = main_schedule();
  return std::make_unique<optim::SequentialLR>(opt, std::vector<std::shared_ptr<optim::LRScheduler>>{warmup, after},
                                               std::vector<int64_t>{warm});
}

LossFn Recipe::loss_fn() const {
  if (loss) return loss;
  const double smoothing = label_smoothing;
  return [smoothing](const Tensor& output, const data::Batch& batch) {
    auto it = batch.find("label");
    FM_CHECK(it != batch.end(), "cross-entropy recipe: the batch has no 'label'");
    nn::CrossEntropyOptions o;
    o.label_smoothing = smoothing;
    return nn::cross_entropy(output, it->second, o);
  };
}

std::string Recipe::to_string() const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s: %s lr %g, weight decay %g, %s schedule%s, clip %g%s", name.c_str(),
                optimizer.c_str(), lr, weight_decay, schedule.c_str(),
                warmup_epochs > 0 ? (", " + std::to_string(warmup_epochs) + " warm-up epochs").c_str() : "",
                grad_clip_norm, augment ? ", augmentation" : "");
  return buf;
}

Recipe classification_recipe() {
  Recipe r;
  r.grad_clip_norm = 5;
  return r;
}

Recipe recipe_for(const std::string& model_name) {
  Recipe r = classification_recipe();
  r.name = model_name;
  if (model_name == "music_cnn" || model_name == "harmonic_cnn") {
    // a random gain of +-6 dB per batch: loudness is no cue to the class
    r.augment = [](data::Batch& b) {
      auto it = b.find("audio");
      FM_CHECK(it != b.end(), "recipe augmentation: the batch has no 'audio'");
      it->second = audio::gain(it->second, audio::uniform(-6.0, 6.0));
    };
  }
  if (model_name == "harmonic_cnn") {
    // a small model (28.7k parameters) that underfits at 1e-3: on the genres corpus, 20-30
    // epochs reached 16.7 % held-out accuracy at 1e-3 and 23.8 % at 1e-2 (docs/MODELS.md)
    r.lr = 1e-2;
    // the harmonic front end's centre frequencies are learnt: a short warm-up keeps the first
    // large gradients from throwing them off the spectrum
    r.warmup_epochs = 1;
  }
  return r;
}

}  // namespace fm::train
