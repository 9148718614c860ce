#include "apps/train_common.h"

#include <omp.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "autograd/views.h"
#include "data/audio_folder.h"
#include "data/corpus.h"
#include "data/manifest.h"
#include "tensor/error.h"
#include "tensor/philox.h"

namespace fm::apps {

namespace {

// The examples of a subset of another data set.
class Subset : public data::Dataset {
 public:
  Subset(std::shared_ptr<const data::Dataset> base, std::vector<int64_t> indices)
      : base_(std::move(base)), indices_(std::move(indices)) {}
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  data::Example get(int64_t i) const override { return base_->get(indices_.at(i)); }

 private:
  std::shared_ptr<const data::Dataset> base_;
  std::vector<int64_t> indices_;
};

}  // namespace

ClassificationData open_split(const std::string& dir, const std::string& split, int64_t sample_rate) {
  FM_CHECK(std::filesystem::is_directory(dir), "data directory '", dir, "' does not exist");
  FM_CHECK(split == "train" || split == "valid" || split == "test", "unknown split '", split,
           "' (expected train, valid or test)");
  ClassificationData d;
  if (std::filesystem::exists(data::manifest_path(dir))) {
    auto corpus = std::make_shared<data::CorpusDataset>(dir, split);
    FM_CHECK(corpus->num_classes() >= 2, "corpus '", dir, "' (", corpus->manifest().corpus,
             ") has no classes to learn: it is not a classification corpus");
    d.classes = corpus->classes();
    d.sample_rate = corpus->manifest().sample_rate;
    d.description = corpus->manifest().corpus + " corpus (" + corpus->manifest().size + "), split " + split + ": " +
                    std::to_string(corpus->size()) + " clips";
    d.dataset = corpus;
    return d;
  }
  data::AudioFolderOptions fo;
  fo.sample_rate = sample_rate;
  auto folder = std::make_shared<data::AudioFolder>(dir, fo);
  FM_CHECK(folder->classes().size() >= 2, "'", dir, "' has no manifest.json and fewer than two class sub-folders");
  // per class, a fixed shuffle of its files; the first 80% train, the next 10% valid, the rest test
  std::vector<std::vector<int64_t>> by_class(folder->classes().size());
  for (int64_t i = 0; i < folder->size(); ++i) by_class[folder->labels()[i]].push_back(i);
  std::vector<int64_t> chosen;
  for (auto& files : by_class) {
    const int64_t n = static_cast<int64_t>(files.size());
    for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates with Philox draws: the same everywhere
      const PhiloxBlock b = philox4x32_10(static_cast<uint64_t>(i), n, 0xF01DE5);
      std::swap(files[i], files[b.v[0] % static_cast<uint64_t>(i + 1)]);
    }
    const int64_t n_train = n * 8 / 10, n_valid = std::max<int64_t>(n >= 3 ? 1 : 0, n / 10);
    const int64_t lo = split == "train" ? 0 : split == "valid" ? n_train : n_train + n_valid;
    const int64_t hi = split == "train" ? n_train : split == "valid" ? n_train + n_valid : n;
    for (int64_t i = lo; i < std::min(hi, n); ++i) chosen.push_back(files[i]);
  }
  std::sort(chosen.begin(), chosen.end());
  d.classes = folder->classes();
  d.sample_rate = sample_rate;
  d.description = "class folder '" + dir + "', split " + split + " (80/10/10 per class): " +
                  std::to_string(chosen.size()) + " clips";
  d.dataset = std::make_shared<Subset>(folder, std::move(chosen));
  return d;
}

std::string model_config_to_json(const models::ModelConfig& c) {
  nlohmann::json j;
  j["n_classes"] = c.n_classes;
  if (c.sample_rate) j["sample_rate"] = *c.sample_rate;
  if (c.n_fft) j["n_fft"] = *c.n_fft;
  if (c.hop_length) j["hop_length"] = *c.hop_length;
  if (c.n_mels) j["n_mels"] = *c.n_mels;
  if (c.dropout) j["dropout"] = *c.dropout;
  j["options"] = c.options;
  return j.dump();
}

models::ModelConfig model_config_from_json(const std::string& text, const std::string& source) {
  models::ModelConfig c;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    c.n_classes = j.at("n_classes").get<int64_t>();
    if (j.contains("sample_rate")) c.sample_rate = j["sample_rate"].get<int64_t>();
    if (j.contains("n_fft")) c.n_fft = j["n_fft"].get<int64_t>();
    if (j.contains("hop_length")) c.hop_length = j["hop_length"].get<int64_t>();
    if (j.contains("n_mels")) c.n_mels = j["n_mels"].get<int64_t>();
    if (j.contains("dropout")) c.dropout = j["dropout"].get<double>();
    if (j.contains("options")) c.options = j["options"].get<std::map<std::string, double>>();
  } catch (const nlohmann::json::exception& e) {
    fail(source, ": the model configuration is not valid: ", e.what());
  }
  return c;
}

std::string strings_to_json(const std::vector<std::string>& v) { return nlohmann::json(v).dump(); }

std::vector<std::string> strings_from_json(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    fail(source, ": expected a JSON list of strings: ", e.what());
  }
}

Tensor forward_audio(nn::Module& model, const Tensor& audio) {
  auto* unary = dynamic_cast<nn::UnaryModule*>(&model);
  FM_CHECK(unary != nullptr, "model ", model.type_name(), " does not take audio alone");
  const Tensor x = audio.dim() == 3 && audio.size(1) == 1 ? squeeze(audio, 1) : audio;
  return (*unary)(x);
}

void set_threads(int threads) {
  FM_CHECK(threads >= 0, "--threads must be >= 0, got ", threads);
  if (threads > 0) omp_set_num_threads(threads);
}

}  // namespace fm::apps
