#pragma once
// A recipe: how a task is trained, apart from the model and the data — the loss, the optimizer
// with its rate and weight decay, the learning-rate schedule, gradient clipping and an
// augmentation applied to each training batch. `fermata train MODEL` takes the model's recipe
// and lets the command line override the rate and the epochs.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "optim/optimizer.h"
#include "optim/scheduler.h"

namespace fm::train {

// The scalar loss of a batch from the model's output.
using LossFn = std::function<Tensor(const Tensor& output, const data::Batch& batch)>;
// Changes a training batch in place (random gain, shifts, masking, ...); it must draw its random
// numbers from fm::default_generator() so that a resumed run draws the same ones.
using AugmentFn = std::function<void(data::Batch& batch)>;

struct Recipe {
  std::string name = "classification";
  LossFn loss;                       // empty: cross-entropy against batch["label"]
  std::string optimizer = "adamw";   // "sgd" (with momentum, nesterov), "adam", "adamw", "rmsprop"
  double lr = 1e-3;
  double weight_decay = 1e-2;
  double momentum = 0.9;             // sgd and rmsprop
  // "constant", "cosine" (to 0 over the run), "step" (x gamma every step_size epochs) or
  // "onecycle" (per batch, peaking at lr); warmup_epochs of linear warm-up precede cosine/step.
  std::string schedule = "cosine";
  int64_t step_size = 10;
  double gamma = 0.1;
  int64_t warmup_epochs = 0;
  double label_smoothing = 0;
  double grad_clip_norm = 0;  // 0: no clipping
  AugmentFn augment;

  std::unique_ptr<optim::Optimizer> make_optimizer(std::vector<Tensor> params) const;
  // Null for "constant".
  std::unique_ptr<optim::LRScheduler> make_scheduler(optim::Optimizer& opt, int64_t epochs,
                                                     int64_t steps_per_epoch) const;
  // Whether the schedule advances every batch (else every epoch).
  bool schedule_per_batch() const { return schedule == "onecycle"; }
  // The loss to use: `loss`, or cross-entropy with label_smoothing on batch["label"].
  LossFn loss_fn() const;
  std::string to_string() const;
};

// Cross-entropy, AdamW (lr 1e-3, weight decay 1e-2), cosine schedule, clipping at norm 5.
Recipe classification_recipe();
// The recipe of a registered model: for "music_cnn" and "harmonic_cnn", classification_recipe()
// with a random gain of +-6 dB per batch as augmentation (HarmonicCNN also trains at lr 1e-2 and
// warms up for an epoch);
// other names get classification_recipe() under their own name.
Recipe recipe_for(const std::string& model_name);

}  // namespace fm::train
