#pragma once
// Models by name: `create_model("music_cnn", cfg)`. ModelConfig carries what a training
// program sets for any model (classes, audio front end, dropout); a field left empty takes
// the model's own default (MusicCNNConfig, HarmonicCNNConfig), and `options` sets a model's
// other fields by name ("conv1_channels": 16). Every model takes audio [N, samples].
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/module.h"
#include "models/harmonic_cnn.h"
#include "models/music_cnn.h"

namespace fm::models {

struct ModelConfig {
  int64_t n_classes = 10;
  std::optional<int64_t> sample_rate;
  std::optional<int64_t> n_fft;
  std::optional<int64_t> hop_length;
  std::optional<int64_t> n_mels;    // models with a mel front end
  std::optional<double> dropout;
  // Model-specific fields by their config-struct name; an unknown name is an error listing
  // the model's names.
  std::map<std::string, double> options;
};

struct ModelInfo {
  std::string name;
  std::string description;
  std::vector<std::string> options;  // the names `ModelConfig::options` accepts
};

const std::vector<ModelInfo>& model_infos();
std::vector<std::string> model_names();

// Throws, listing the known names, for an unknown model.
std::shared_ptr<nn::Module> create_model(const std::string& name, const ModelConfig& config = {});

// The full config each model is built with from a ModelConfig.
MusicCNNConfig music_cnn_config(const ModelConfig& config);
HarmonicCNNConfig harmonic_cnn_config(const ModelConfig& config);

}  // namespace fm::models
