#pragma once
// Checkpoints: the model's weights in `<prefix>.safetensors` with PyTorch's state_dict keys
// (so safetensors.torch.load_file + model.load_state_dict reads them, and the reverse), and
// the training state beside it in `<prefix>.train.safetensors` (optimizer moments and step
// counts, learning rate, scheduler epoch, RNG seed and offset, epoch and step). Each file is
// written atomically; both carry the same checkpoint id, checked on load, so a crash between
// the two writes is detected instead of resuming from a mismatched pair.
#include <cstdint>
#include <string>

#include "layers/module.h"
#include "optim/optimizer.h"
#include "optim/scheduler.h"

namespace fm::optim {

struct TrainingProgress {
  int64_t epoch = 0;
  int64_t step = 0;
};

void save_checkpoint(const std::string& prefix, const nn::Module& model, const Optimizer* opt = nullptr,
                     const LRScheduler* sched = nullptr, TrainingProgress progress = {});

// Loads weights (strict) and, when `opt` is given, the training state; returns the progress.
// The default generator's seed and offset are restored too, so random draws continue exactly.
TrainingProgress load_checkpoint(const std::string& prefix, nn::Module& model, Optimizer* opt = nullptr,
                                 LRScheduler* sched = nullptr);

}  // namespace fm::optim
