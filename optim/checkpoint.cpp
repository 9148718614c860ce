#include "optim/checkpoint.h"

#include <chrono>
#include <filesystem>

#include "tensor/factory.h"
#include "tensor/safetensors.h"

namespace fm::optim {

namespace {
std::string new_checkpoint_id() {
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  const PhiloxBlock b = philox4x32_10(static_cast<uint64_t>(now), 0, 0xC4EC);
  return std::to_string(b.v[0]) + "-" + std::to_string(b.v[1]);
}
}  // namespace

void save_checkpoint(const std::string& prefix, const nn::Module& model, const Optimizer* opt,
                     const LRScheduler* sched, TrainingProgress progress) {
  const std::string id = new_checkpoint_id();
  std::map<std::string, Tensor> weights;
  for (auto& [k, v] : model.state_dict()) weights[k] = v;
  std::map<std::string, Tensor> state;
  if (opt)
    for (auto& [k, v] : opt->state_dict()) state["optimizer." + k] = v;
  std::map<std::string, std::string> meta = {
      {"checkpoint_id", id},
      {"epoch", std::to_string(progress.epoch)},
      {"step", std::to_string(progress.step)},
      {"rng_seed", std::to_string(default_generator().seed())},
      {"rng_offset", std::to_string(default_generator().offset())},
      {"format", "fermata-training-state-1"}};
  if (sched) meta["scheduler_last_epoch"] = std::to_string(sched->last_epoch());
  // training state first: weights with a fresh id never pair with stale state
  save_safetensors(prefix + ".train.safetensors", state, meta);
  save_safetensors(prefix + ".safetensors", weights, {{"checkpoint_id", id}, {"format", "pt"}});
}

TrainingProgress load_checkpoint(const std::string& prefix, nn::Module& model, Optimizer* opt, LRScheduler* sched) {
  const SafetensorsFile weights = read_safetensors(prefix + ".safetensors");
  TrainingProgress progress;
  if (!opt && !sched) {
    model.load_state_dict(weights.tensors);
    return progress;
  }
  const SafetensorsFile state = read_safetensors(prefix + ".train.safetensors");
  auto meta = [&](const char* k) -> const std::string& {
    auto it = state.metadata.find(k);
    FM_CHECK(it != state.metadata.end(), "load_checkpoint: ", prefix, ".train.safetensors has no '", k,
             "' entry (not a fermata training state)");
    return it->second;
  };
  auto wid = weights.metadata.find("checkpoint_id");
  FM_CHECK(wid != weights.metadata.end() && wid->second == meta("checkpoint_id"), "load_checkpoint: ", prefix,
           ".safetensors and ", prefix, ".train.safetensors come from different saves (checkpoint ids differ); "
           "the last save was interrupted — use an earlier checkpoint");
  auto to_int = [&](const char* k) {
    try {
      return static_cast<int64_t>(std::stoll(meta(k)));
    } catch (const std::logic_error&) {
      fail("load_checkpoint: entry '", k, "' of ", prefix, ".train.safetensors is not an integer");
    }
  };
  std::map<std::string, Tensor> opt_state;
  for (const auto& [k, v] : state.tensors)
    if (k.rfind("optimizer.", 0) == 0) opt_state[k.substr(10)] = v;
  // everything validated before anything changes
  model.load_state_dict(weights.tensors);
  if (opt) opt->load_state_dict(opt_state);
  if (sched) sched->set_last_epoch(to_int("scheduler_last_epoch"));
  default_generator().manual_seed(static_cast<uint64_t>(std::stoull(meta("rng_seed"))));
  default_generator().set_offset(static_cast<uint64_t>(std::stoull(meta("rng_offset"))));
  progress.epoch = to_int("epoch");
  progress.step = to_int("step");
  return progress;
}

}  // namespace fm::optim
