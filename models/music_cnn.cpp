#include "models/music_cnn.h"

#include <sstream>

#include "autograd/elementwise.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "layers/conv.h"
#include "layers/norm.h"
#include "layers/pool.h"
#include "tensor/error.h"

namespace fm::models {

namespace {

std::shared_ptr<nn::Sequential> conv_block(int64_t in, int64_t out, Int2 kernel, Padding2d padding, bool pool) {
  auto s = std::make_shared<nn::Sequential>();
  s->push_back(std::make_shared<nn::Conv2d>(in, out, kernel, nn::Conv2dOptions{.padding = padding}));
  s->push_back(std::make_shared<nn::BatchNorm2d>(out));
  s->push_back(nn::ReLU());
  if (pool) s->push_back(std::make_shared<nn::MaxPool2d>(Int2{2, 2}));
  return s;
}

void check_config(const MusicCNNConfig& c) {
  FM_CHECK(c.n_classes >= 1, "MusicCNN: n_classes must be positive, got ", c.n_classes);
  FM_CHECK(c.sample_rate > 0, "MusicCNN: sample_rate must be positive, got ", c.sample_rate);
  FM_CHECK(c.n_fft >= 2 && c.hop_length >= 1, "MusicCNN: n_fft must be >= 2 and hop_length >= 1, got n_fft=",
           c.n_fft, ", hop_length=", c.hop_length);
  FM_CHECK(c.n_mels >= 4, "MusicCNN: n_mels must be at least 4 (two 2x2 poolings), got ", c.n_mels);
  FM_CHECK(c.conv1_channels >= 1 && c.branch_channels >= 1 && c.conv3_channels >= 1,
           "MusicCNN: channel counts must be positive, got conv1_channels=", c.conv1_channels,
           ", branch_channels=", c.branch_channels, ", conv3_channels=", c.conv3_channels);
  FM_CHECK(c.harmonic_kernel >= 1 && c.temporal_kernel >= 1, "MusicCNN: kernel sizes must be positive, got ",
           "harmonic_kernel=", c.harmonic_kernel, ", temporal_kernel=", c.temporal_kernel);
  FM_CHECK(c.dropout >= 0 && c.dropout < 1, "MusicCNN: dropout must be in [0, 1), got ", c.dropout);
  FM_CHECK(c.f_max == 0 || c.f_max > c.f_min, "MusicCNN: f_max (", c.f_max, ") must exceed f_min (", c.f_min, ")");
}

}  // namespace

MusicCNN::MusicCNN(const MusicCNNConfig& c) : config(c) {
  check_config(c);
  audio::MelOptions mo;
  mo.sample_rate = c.sample_rate;
  mo.n_fft = c.n_fft;
  mo.hop_length = c.hop_length;
  mo.n_mels = c.n_mels;
  mo.f_min = c.f_min;
  mo.f_max = c.f_max > 0 ? c.f_max : static_cast<double>(c.sample_rate / 2);
  melspec = register_module("melspec", std::make_shared<audio::MelSpectrogram>(mo));
  conv1 = register_module("conv1", conv_block(1, c.conv1_channels, {3, 3}, 1, true));
  // The blog pads the 12x1 kernel by 6 rows, which gives one row more than the input and than
  // the 1x7 branch, so the concatenation fails. "same" pads (k-1)/2 above and the rest below
  // (5 and 6 for k = 12), exactly as PyTorch's padding="same".
  conv2_harmonic = register_module("conv2_harmonic",
                                   conv_block(c.conv1_channels, c.branch_channels, {c.harmonic_kernel, 1}, "same", false));
  conv2_temporal = register_module("conv2_temporal",
                                   conv_block(c.conv1_channels, c.branch_channels, {1, c.temporal_kernel}, "same", false));
  conv3 = register_module("conv3", conv_block(2 * c.branch_channels, c.conv3_channels, {3, 3}, 1, true));
  global_pool = register_module("global_pool", std::static_pointer_cast<nn::UnaryModule>(
                                                   std::make_shared<nn::AdaptiveAvgPool2d>(Int2{1, 1})));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.dropout));
  fc = register_module("fc", std::make_shared<nn::Linear>(c.conv3_channels, c.n_classes));
}

std::string MusicCNN::extra_repr() const {
  std::ostringstream os;
  os << "n_classes=" << config.n_classes << ", sample_rate=" << config.sample_rate << ", n_mels=" << config.n_mels;
  return os.str();
}

int64_t MusicCNN::frames_for(int64_t samples) const { return samples / config.hop_length + 1; }

Tensor MusicCNN::check_input(const Tensor& x) const {
  FM_CHECK(x.dim() == 1 || x.dim() == 2, "MusicCNN: expected audio [N, samples] or [samples], got shape ",
           shape_str(x.sizes()));
  FM_CHECK(x.is_floating_point(), "MusicCNN: audio must be floating point, got ", x.dtype());
  const int64_t samples = x.sizes().back();
  // Reflect padding needs more samples than n_fft / 2, and two 2x2 poolings need 4 frames.
  FM_CHECK(samples > config.n_fft / 2 && frames_for(samples) >= 4, "MusicCNN: ", samples,
           " samples are too few for n_fft=", config.n_fft, ", hop_length=", config.hop_length,
           " (need more than n_fft/2 and at least 4 frames)");
  return x.dim() == 1 ? unsqueeze(x, 0) : x;
}

Tensor MusicCNN::log_mel(const Tensor& mel) const { return unsqueeze(log(add(mel, 1e-9)), 1); }

Tensor MusicCNN::forward(const Tensor& input) {
  const Tensor x0 = check_input(input);
  Tensor x = (*conv1)(log_mel((*melspec)(x0)));
  x = cat({(*conv2_harmonic)(x), (*conv2_temporal)(x)}, 1);
  x = (*conv3)(x);
  x = flatten((*global_pool)(x), 1);
  x = (*fc)((*dropout)(x));
  if (input.dim() == 1) x = squeeze(x, 0);
  return x;
}

const std::vector<std::string>& MusicCNN::feature_names() {
  static const std::vector<std::string> names{"spectrogram", "conv1", "harmonic", "temporal", "conv3"};
  return names;
}

std::map<std::string, Tensor> MusicCNN::extract_features(const Tensor& input) {
  const Tensor x0 = check_input(input);
  std::map<std::string, Tensor> f;
  Tensor mel = (*melspec)(x0);
  f["spectrogram"] = mel;
  Tensor x = (*conv1)(log_mel(mel));
  f["conv1"] = x;
  f["harmonic"] = (*conv2_harmonic)(x);
  f["temporal"] = (*conv2_temporal)(x);
  f["conv3"] = (*conv3)(cat({f["harmonic"], f["temporal"]}, 1));
  return f;
}

}  // namespace fm::models
