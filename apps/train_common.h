#pragma once
// What `fermata train`, `eval` and `predict` share: opening a data directory (a rendered
// corpus with manifest.json, or a folder with one sub-folder per class), a model's
// configuration as JSON (kept in checkpoints so that eval rebuilds the model), and the
// forward pass on a batch's audio.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "layers/module.h"
#include "models/registry.h"

namespace fm::apps {

struct ClassificationData {
  std::shared_ptr<const data::Dataset> dataset;
  std::vector<std::string> classes;
  int64_t sample_rate = 0;
  std::string description;  // "genres corpus (small), split valid: 66 clips"
};

// A split ("train", "valid", "test") of `dir`. A class folder has no splits of its own: its
// files are divided 80/10/10 per class in a fixed pseudo-random order, the same every time.
ClassificationData open_split(const std::string& dir, const std::string& split, int64_t sample_rate = 22050);

std::string model_config_to_json(const models::ModelConfig& c);
models::ModelConfig model_config_from_json(const std::string& json, const std::string& source);
std::string strings_to_json(const std::vector<std::string>& v);
std::vector<std::string> strings_from_json(const std::string& json, const std::string& source);

// The model's logits for a batch's "audio" ((B, 1, T) from the loaders; the models take (B, T)).
Tensor forward_audio(nn::Module& model, const Tensor& audio);

// Applies --threads (0: leave OpenMP's default).
void set_threads(int threads);

}  // namespace fm::apps
