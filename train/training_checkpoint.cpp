#include "train/training_checkpoint.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "optim/checkpoint.h"
#include "tensor/error.h"
#include "tensor/safetensors.h"
#include "train/crc32c.h"

namespace fm::train {

namespace {
constexpr const char* kFormat = "fermata-trainer-1";

std::string exact(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);  // hexadecimal: the double comes back bit for bit
  return buf;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

std::string checkpoint_prefix(const std::string& path) {
  for (const char* suffix : {".train.safetensors", ".safetensors"})
    if (ends_with(path, suffix)) return path.substr(0, path.size() - std::string(suffix).size());
  return path;
}

bool checkpoint_exists(const std::string& prefix) {
  return std::filesystem::exists(prefix + ".safetensors") && std::filesystem::exists(prefix + ".train.safetensors");
}

void save_training_checkpoint(const std::string& prefix, const nn::Module& model, const optim::Optimizer& opt,
                              const optim::LRScheduler* sched, const TrainState& s) {
  const auto dir = std::filesystem::path(prefix).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir);
  optim::save_checkpoint(prefix, model, &opt, sched, {s.epoch, s.global_step});
  // The trainer's entries join the training state in a second atomic write; until it lands
  // the state file lacks them and a load reports the save as interrupted.
  const std::string state_path = prefix + ".train.safetensors";
  SafetensorsFile state = read_safetensors(state_path);
  auto& m = state.metadata;
  m["trainer.format"] = kFormat;
  m["trainer.epoch"] = std::to_string(s.epoch);
  m["trainer.batch"] = std::to_string(s.batch);
  m["trainer.global_step"] = std::to_string(s.global_step);
  m["trainer.epoch_loss_sum"] = exact(s.epoch_loss_sum);
  m["trainer.epoch_examples"] = std::to_string(s.epoch_examples);
  m["trainer.best_metric"] = exact(s.best_metric);
  m["trainer.best_epoch"] = std::to_string(s.best_epoch);
  m["trainer.weights_crc32c"] = std::to_string(crc32c_file(prefix + ".safetensors"));
  for (const auto& [k, v] : s.info) m["info." + k] = v;
  save_safetensors(state_path, state.tensors, m);
}

TrainState read_training_state(const std::string& prefix) {
  const std::string path = prefix + ".train.safetensors";
  FM_CHECK(std::filesystem::exists(path), "checkpoint '", prefix, "': the training state '", path,
           "' does not exist (weights alone cannot resume a run)");
  const SafetensorsFile file = read_safetensors(path);
  const auto& meta = file.metadata;
  auto get = [&](const std::string& k) -> const std::string& {
    auto it = meta.find(k);
    FM_CHECK(it != meta.end(), "checkpoint '", path, "' has no '", k, "' entry: ",
             meta.count("checkpoint_id") ? "its save was interrupted; use another checkpoint (e.g. best)"
                                         : "it is not a fermata training state");
    return it->second;
  };
  FM_CHECK(get("trainer.format") == kFormat, "checkpoint '", path, "' has format '", get("trainer.format"),
           "', this build reads '", kFormat, "'");
  auto to_int = [&](const char* k) -> int64_t {
    const std::string& v = get(k);
    int64_t out = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    FM_CHECK(ec == std::errc() && end == v.data() + v.size(), "checkpoint '", path, "': entry '", k, "' = '", v,
             "' is not an integer");
    return out;
  };
  auto to_double = [&](const char* k) {
    const std::string& v = get(k);
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    FM_CHECK(!v.empty() && end == v.c_str() + v.size(), "checkpoint '", path, "': entry '", k, "' = '", v,
             "' is not a number");
    return d;
  };
  TrainState s;
  s.epoch = to_int("trainer.epoch");
  s.batch = to_int("trainer.batch");
  s.global_step = to_int("trainer.global_step");
  s.epoch_loss_sum = to_double("trainer.epoch_loss_sum");
  s.epoch_examples = to_int("trainer.epoch_examples");
  s.best_metric = to_double("trainer.best_metric");
  s.best_epoch = to_int("trainer.best_epoch");
  FM_CHECK(s.epoch >= 0 && s.batch >= 0 && s.global_step >= 0 && s.epoch_examples >= 0, "checkpoint '", path,
           "': negative position (epoch ", s.epoch, ", batch ", s.batch, ", step ", s.global_step, ")");
  to_int("trainer.weights_crc32c");
  for (const auto& [k, v] : meta)
    if (k.rfind("info.", 0) == 0) s.info[k.substr(5)] = v;
  return s;
}

TrainState load_training_checkpoint(const std::string& prefix, nn::Module& model, optim::Optimizer& opt,
                                    optim::LRScheduler* sched, const std::map<std::string, std::string>& expected) {
  const std::string weights = prefix + ".safetensors";
  FM_CHECK(std::filesystem::exists(weights), "checkpoint '", prefix, "': the weights file '", weights,
           "' does not exist");
  const TrainState s = read_training_state(prefix);
  for (const auto& [k, v] : expected) {
    auto it = s.info.find(k);
    FM_CHECK(it != s.info.end() && it->second == v, "checkpoint '", prefix, ".train.safetensors' was saved with ", k,
             " '", it == s.info.end() ? std::string("(none)") : it->second, "', this run has '", v, "'");
  }
  const SafetensorsFile state_file = read_safetensors(prefix + ".train.safetensors");
  const SafetensorsFile weights_file = read_safetensors(weights);
  auto id = weights_file.metadata.find("checkpoint_id");
  auto state_id = state_file.metadata.find("checkpoint_id");
  FM_CHECK(id != weights_file.metadata.end() && state_id != state_file.metadata.end() && id->second == state_id->second,
           "checkpoint '",
           weights, "' and '", prefix, ".train.safetensors' come from different saves (their checkpoint ids differ)");
  const std::string& recorded = state_file.metadata.at("trainer.weights_crc32c");
  const uint32_t crc = crc32c_file(weights);
  FM_CHECK(std::to_string(crc) == recorded, "checkpoint '", weights, "' is corrupt or was changed after the save: ",
           "its CRC-32C is ", crc, ", the training state recorded ", recorded);
  try {
    optim::load_checkpoint(prefix, model, &opt, sched);
  } catch (const Error& e) {
    fail("cannot load checkpoint '", weights, "': ", e.what());
  }
  return s;
}

}  // namespace fm::train
