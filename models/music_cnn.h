#pragma once
// MusicCNN: the blog's spectrogram CNN (docs/MODELS.md), with its shape bug fixed. The log-mel
// front end is inside the model, so it takes raw audio [N, samples]:
//   melspec -> log(x + 1e-9) -> conv1 (3x3 block, 2x2 max pool)
//     -> conv2_harmonic (12x1, "same" padding) || conv2_temporal (1x7)  -> concatenated
//     -> conv3 (3x3 block, 2x2 max pool) -> global average pool -> dropout -> fc
// Submodule names and state_dict keys are those of the PyTorch class in bench/torch_models.py
// ("conv1.0.weight", "melspec.mel_scale.fb", ...), so weights move both ways.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "audio/features.h"
#include "layers/basic.h"
#include "layers/module.h"

namespace fm::models {

struct MusicCNNConfig {
  int64_t n_classes = 10;
  int64_t sample_rate = 22050;
  int64_t n_fft = 2048;
  int64_t hop_length = 512;
  int64_t n_mels = 128;
  double f_min = 0.0;
  double f_max = 0.0;  // 0: sample_rate / 2 (integer division, as the blog's sample_rate // 2)
  int64_t conv1_channels = 64;
  int64_t branch_channels = 128;  // each of the harmonic and temporal branches
  int64_t conv3_channels = 256;
  int64_t harmonic_kernel = 12;   // height of the tall branch's kernel
  int64_t temporal_kernel = 7;    // width of the wide branch's kernel
  double dropout = 0.5;
};

class MusicCNN : public nn::UnaryModule {
 public:
  explicit MusicCNN(const MusicCNNConfig& config = {});
  // x: [N, samples] (or [samples]) -> logits [N, n_classes] (or [n_classes]).
  Tensor forward(const Tensor& x) override;
  // The intermediate maps, by name: "spectrogram" (mel power [N, n_mels, frames]), "conv1",
  // "harmonic", "temporal", "conv3" (each [N, C, H, W]). Computed in the module's current
  // mode (train/eval) and with the current grad mode.
  std::map<std::string, Tensor> extract_features(const Tensor& x);
  static const std::vector<std::string>& feature_names();
  std::string type_name() const override { return "MusicCNN"; }
  std::string extra_repr() const override;

  // Number of mel frames the front end makes from `samples` samples.
  int64_t frames_for(int64_t samples) const;

  MusicCNNConfig config;
  std::shared_ptr<audio::MelSpectrogram> melspec;  // keys melspec.spectrogram.window, melspec.mel_scale.fb
  std::shared_ptr<nn::Sequential> conv1, conv2_harmonic, conv2_temporal, conv3;
  std::shared_ptr<nn::UnaryModule> global_pool;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Linear> fc;

 private:
  Tensor log_mel(const Tensor& mel) const;
  Tensor check_input(const Tensor& x) const;
};

}  // namespace fm::models
