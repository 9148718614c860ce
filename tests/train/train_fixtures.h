#pragma once
// Small data and models for the train/ tests: tones of a few pitches as a data set, a
// DataLoader over it, and a little MLP classifier with BatchNorm and Dropout (so that buffers and
// random draws take part in exact resume).
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/dataloader.h"
#include "data/dataset.h"
#include "support/test_support.h"

namespace fm::testing {

// n examples {"audio": (1, T) float32, "label": int64}: a tone of pitch class `label` with a
// random phase and noise.
class ToneDataset : public data::Dataset {
 public:
  ToneDataset(int64_t n, int64_t classes, int64_t T = 64, uint64_t seed = 3) : classes_(classes), T_(T) {
    Generator gen(seed);
    const auto phase = rand({n}, {.dtype = kFloat64}, &gen).to_vector<double>();
    const auto noise = randn({n, T}, {}, &gen).to_vector<float>();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = i % classes;
      std::vector<float> x(T);
      for (int64_t t = 0; t < T; ++t)
        x[t] = static_cast<float>(std::sin(2 * M_PI * ((c + 1) * 3.0 * t / T + phase[i]))) + 0.3f * noise[i * T + t];
      examples_.push_back({{"audio", from_vector(x, {1, T})}, {"label", scalar_tensor(c, {.dtype = DType::Int64})}});
    }
  }
  int64_t size() const override { return static_cast<int64_t>(examples_.size()); }
  data::Example get(int64_t i) const override { return examples_.at(i); }

 private:
  int64_t classes_, T_;
  std::vector<data::Example> examples_;
};

// A loader over `ds`: shuffled in an order fixed by (seed, epoch), as training uses it.
inline data::DataLoader make_loader(std::shared_ptr<const data::Dataset> ds, int64_t batch_size, bool shuffle,
                                    uint64_t seed = 0, int workers = 0) {
  data::DataLoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = shuffle;
  o.seed = seed;
  o.num_workers = workers;
  return data::DataLoader(std::move(ds), o);
}

inline std::shared_ptr<nn::Sequential> tone_classifier(int64_t T, int64_t classes, double dropout = 0.2) {
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::UnaryModule>>{
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(T, 32), std::make_shared<nn::BatchNorm1d>(32),
      nn::ReLU(), std::make_shared<nn::Dropout>(dropout), std::make_shared<nn::Linear>(32, classes)});
}

// A fresh directory under the system's temporary directory, removed on destruction.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string str(const std::string& child = "") const {
    return child.empty() ? path.string() : (path / child).string();
  }
};

}  // namespace fm::testing
