// `fermata predict MODEL --weights W FILE.wav...`: the most probable classes of each clip, or
// of each window of --window seconds (with the clip's mean over its windows). W is a
// safetensors state_dict of the same architecture: a fermata checkpoint (whose training state
// beside it gives the classes and configuration) or weights saved from PyTorch.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "apps/command.h"
#include "apps/train_common.h"
#include "audio/features.h"
#include "audio/io.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/shape.h"
#include "autograd/softmax.h"
#include "autograd/views.h"
#include "plot/heatmap.h"
#include "tensor/safetensors.h"
#include "train/training_checkpoint.h"

namespace fm::apps {
namespace {

struct PredictArgs {
  std::string model, weights, classes, picture;
  std::vector<std::string> files;
  double window = 0;
  int64_t top = 3, n_classes = 0, sample_rate = 0;
  int threads = 0;
};

std::string top_classes(const std::vector<float>& p, int64_t k, const std::vector<std::string>& names) {
  std::vector<int64_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  k = std::min<int64_t>(k, static_cast<int64_t>(p.size()));
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
  std::string s;
  char buf[64];
  for (int64_t i = 0; i < k; ++i) {
    std::snprintf(buf, sizeof buf, "%s%s %.3f", i ? "  " : "", names[order[i]].c_str(), p[order[i]]);
    s += buf;
  }
  return s;
}

// The clip's log-mel spectrogram (n_fft 2048, hop 512, 128 mels, dB with top_db 80) under the
// file's name and the model's answer, so a person can see what the model heard.
void save_prediction_picture(const std::string& path, const Tensor& mono, int64_t sr, const std::string& file,
                             const std::string& answer) {
  audio::MelOptions o;
  o.sample_rate = sr;
  o.n_fft = 2048;
  o.hop_length = 512;
  o.n_mels = 128;
  const Tensor mel = audio::MelSpectrogram(o)(mono);  // [n_mels, frames]
  const Tensor db = squeeze(audio::amplitude_to_db(unsqueeze(mel, 0), 10.0, 1e-10, 0.0, 80.0), 0);
  const std::string name = std::filesystem::path(file).filename().string();
  plot::write_png(path, plot::with_caption(plot::readable_heatmap(db), {name + " (log-mel)", "predicted: " + answer}));
  std::printf("  picture: %s\n", path.c_str());
}

int run_predict(const PredictArgs& a) {
  set_threads(a.threads);
  FM_CHECK(a.top >= 1, "--top must be >= 1, got ", a.top);
  FM_CHECK(a.window >= 0, "--window must be >= 0 seconds, got ", a.window);
  const std::string prefix = train::checkpoint_prefix(a.weights);
  const std::string weights = prefix + ".safetensors";
  FM_CHECK(std::filesystem::exists(weights), "weights '", weights, "' do not exist");

  // classes and configuration: the training state beside the weights, else the options
  models::ModelConfig config;
  std::vector<std::string> classes;
  if (std::filesystem::exists(prefix + ".train.safetensors")) {
    const train::TrainState st = train::read_training_state(prefix);
    if (st.info.count("model_config"))
      config = model_config_from_json(st.info.at("model_config"), prefix + ".train.safetensors");
    if (st.info.count("class_names"))
      classes = strings_from_json(st.info.at("class_names"), prefix + ".train.safetensors");
  }
  if (!a.classes.empty()) {
    classes.clear();
    std::stringstream ss(a.classes);
    for (std::string c; std::getline(ss, c, ',');) classes.push_back(c);
  }
  if (!classes.empty()) config.n_classes = static_cast<int64_t>(classes.size());
  if (a.n_classes > 0) config.n_classes = a.n_classes;
  FM_CHECK(!classes.empty() || a.n_classes > 0, "'", weights, "' has no training state beside it: give the classes "
           "with --classes a,b,c (or their number with --n-classes)");
  if (classes.empty())
    for (int64_t c = 0; c < config.n_classes; ++c) classes.push_back("class " + std::to_string(c));
  FM_CHECK(static_cast<int64_t>(classes.size()) == config.n_classes, "--classes names ", classes.size(),
           " classes but --n-classes is ", config.n_classes);
  if (a.sample_rate > 0) config.sample_rate = a.sample_rate;

  std::shared_ptr<nn::Module> model = models::create_model(a.model, config);
  try {
    model->load_state_dict(load_safetensors(weights));
  } catch (const Error& e) {
    fail("cannot load '", weights, "' into ", a.model, " with ", config.n_classes, " classes: ", e.what());
  }
  model->eval();
  NoGradGuard no_grad;
  const int64_t sr = config.sample_rate.value_or(22050);

  for (const std::string& file : a.files) {
    audio::LoadOptions lo;
    lo.mono = true;
    lo.sample_rate = sr;
    const audio::Audio clip = audio::load(file, lo);
    const Tensor x = clip.samples;  // (1, T)
    const int64_t T = x.size(1);
    FM_CHECK(T > 0, "'", file, "' has no samples");
    std::printf("%s (%.1f s)\n", file.c_str(), static_cast<double>(T) / sr);
    if (a.window <= 0) {
      const auto p = softmax(forward_audio(*model, x), 1).to_vector<float>();
      const std::string answer = top_classes(p, a.top, classes);
      std::printf("  %s\n", answer.c_str());
      if (!a.picture.empty() && file == a.files.front())
        save_prediction_picture(a.picture, select(x, 0, 0), sr, file, answer);
      continue;
    }
    const int64_t w = std::max<int64_t>(1, static_cast<int64_t>(a.window * sr));
    // windows of w samples from the start; a remainder gets a last window ending at the clip's
    // end (overlapping the one before), and a clip shorter than a window is zero-padded
    std::vector<int64_t> starts;
    for (int64_t start = 0; start + w <= T; start += w) starts.push_back(start);
    if (starts.empty() || starts.back() + w < T) starts.push_back(std::max<int64_t>(0, T - w));
    std::vector<Tensor> windows;
    for (int64_t start : starts) {
      const int64_t len = std::min(w, T - start);
      Tensor piece = narrow(x, 1, start, len);
      if (len < w) piece = pad(piece, {0, w - len});
      windows.push_back(piece);
    }
    const Tensor probs = softmax(forward_audio(*model, cat(windows, 0)), 1);  // (W, C)
    for (size_t i = 0; i < windows.size(); ++i) {
      const auto p = narrow(probs, 0, static_cast<int64_t>(i), 1).to_vector<float>();
      char span[64];
      std::snprintf(span, sizeof span, "%.2f-%.2f s", static_cast<double>(starts[i]) / sr,
                    static_cast<double>(std::min(starts[i] + w, T)) / sr);
      std::printf("  %-18s %s\n", span, top_classes(p, a.top, classes).c_str());
    }
    const std::string answer = top_classes(mean(probs, {0}).to_vector<float>(), a.top, classes);
    std::printf("  %-18s %s\n", "mean", answer.c_str());
    if (!a.picture.empty() && file == a.files.front())
      save_prediction_picture(a.picture, select(x, 0, 0), sr, file, answer);
  }
  return 0;
}

const Registration predict_cmd{{"predict", "Most probable classes of sound files, per clip or per window",
  [](CLI::App& sub) -> std::function<int()> {
    auto a = std::make_shared<PredictArgs>();
    sub.add_option("model", a->model, "Model name (music_cnn, harmonic_cnn)")->required();
    sub.add_option("files", a->files, "Sound files (WAV, FLAC, OGG)")->required();
    sub.add_option("--weights", a->weights, "safetensors weights (a fermata checkpoint or a PyTorch state_dict)")
        ->required();
    sub.add_option("--window", a->window, "Seconds per window (0: the whole clip)")->capture_default_str();
    sub.add_option("--top", a->top, "Classes to show")->capture_default_str();
    sub.add_option("--classes", a->classes, "Class names, comma-separated (weights without a training state)");
    sub.add_option("--n-classes", a->n_classes, "Number of classes (weights without a training state)");
    sub.add_option("--sample-rate", a->sample_rate, "The model's sample rate (default: the checkpoint's, or 22050)");
    sub.add_option("--threads", a->threads, "CPU threads (0: all)")->capture_default_str();
    sub.add_option("--picture", a->picture, "PNG of the first file's log-mel spectrogram with the prediction");
    return [a] { return run_predict(*a); };
  }}};

}  // namespace
}  // namespace fm::apps
