#pragma once
// The full state of a training run, so that a stopped run continues exactly: on top of
// optim/checkpoint.h's pair of files (`<prefix>.safetensors`, the weights with PyTorch's keys;
// `<prefix>.train.safetensors`, optimizer moments, scheduler epoch, the default generator's seed
// and offset) the training state's metadata records the position (epoch, batches done in it,
// global step), the running sums of the epoch in progress, the best metric so far, what the
// caller wants to keep with the run (model name and configuration, class names) and the CRC-32C
// of the weights file. Loading refuses, naming the file and what is wrong, a checkpoint that is
// truncated or corrupt, whose two files come from different saves, whose weights changed since
// the save, or that belongs to another model.
#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "layers/module.h"
#include "optim/optimizer.h"
#include "optim/scheduler.h"

namespace fm::train {

struct TrainState {
  int64_t epoch = 0;        // the epoch in progress (or next to start)
  int64_t batch = 0;        // batches of `epoch` already trained
  int64_t global_step = 0;  // optimizer steps since the start of the run
  // sums over the batches of `epoch` already trained, so its mean loss survives a resume
  double epoch_loss_sum = 0;
  int64_t epoch_examples = 0;
  double best_metric = -std::numeric_limits<double>::infinity();  // larger is better
  int64_t best_epoch = -1;
  // Caller's entries ("model", "model_config", "class_names", ...), kept verbatim.
  std::map<std::string, std::string> info;
};

// "out/checkpoint", "out/checkpoint.safetensors" and "out/checkpoint.train.safetensors" all
// name the checkpoint "out/checkpoint".
std::string checkpoint_prefix(const std::string& path);
// Whether both files of a checkpoint exist.
bool checkpoint_exists(const std::string& prefix);

// Writes both files atomically (a crash leaves either the old pair or a pair detected as
// mismatched on load).
void save_training_checkpoint(const std::string& prefix, const nn::Module& model, const optim::Optimizer& opt,
                              const optim::LRScheduler* sched, const TrainState& state);

// Reads only the state (no tensors are loaded): what `fermata eval` needs to rebuild the model.
TrainState read_training_state(const std::string& prefix);

// Restores weights, optimizer, scheduler and the default generator, and returns the state.
// expected_info: entries that must be equal in the checkpoint (e.g. {"model", "music_cnn"}).
TrainState load_training_checkpoint(const std::string& prefix, nn::Module& model, optim::Optimizer& opt,
                                    optim::LRScheduler* sched,
                                    const std::map<std::string, std::string>& expected_info = {});

}  // namespace fm::train
