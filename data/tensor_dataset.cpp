#include "data/tensor_dataset.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "data/sampler.h"
#include "tensor/error.h"

namespace fm::data {

TensorDataset::TensorDataset(std::map<std::string, Tensor> tensors) : tensors_(std::move(tensors)) {
  FM_CHECK(!tensors_.empty(), "TensorDataset: no tensors");
  const auto& [first_name, first] = *tensors_.begin();
  for (const auto& [name, t] : tensors_) {
    FM_CHECK(t.defined() && t.dim() >= 1, "TensorDataset: tensor '", name, "' is ",
             t.defined() ? t.describe() : std::string("undefined"),
             "; every tensor needs a dim 0 to index examples along");
    FM_CHECK(t.size(0) == first.size(0), "TensorDataset: tensor '", name, "' has ", t.size(0),
             " examples (shape ", shape_str(t.sizes()), ") but '", first_name, "' has ", first.size(0),
             " (shape ", shape_str(first.sizes()), "); every tensor needs the same size(0)");
  }
  size_ = first.size(0);
}

Example TensorDataset::get(int64_t index) const {
  FM_CHECK(index >= 0 && index < size_, "TensorDataset: index ", index, " is outside [0, ", size_, ")");
  Example out;
  for (const auto& [name, t] : tensors_) {
    const Shape sizes(t.sizes().begin() + 1, t.sizes().end());
    const Shape strides(t.strides().begin() + 1, t.strides().end());
    out[name] = make_view(t, sizes, strides, t.storage_offset() + index * t.stride(0));
  }
  return out;
}

Subset::Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices)
    : dataset_(std::move(dataset)), indices_(std::move(indices)) {
  FM_CHECK(dataset_ != nullptr, "Subset: no data set");
  const int64_t n = dataset_->size();
  for (size_t k = 0; k < indices_.size(); ++k)
    FM_CHECK(indices_[k] >= 0 && indices_[k] < n, "Subset: indices[", k, "] = ", indices_[k],
             " is outside the data set's [0, ", n, ")");
}

Example Subset::get(int64_t index) const {
  FM_CHECK(index >= 0 && index < size(), "Subset: index ", index, " is outside [0, ", size(), ")");
  return dataset_->get(indices_[static_cast<size_t>(index)]);
}

ConcatDataset::ConcatDataset(std::vector<std::shared_ptr<const Dataset>> datasets)
    : datasets_(std::move(datasets)) {
  int64_t end = 0;
  for (size_t k = 0; k < datasets_.size(); ++k) {
    FM_CHECK(datasets_[k] != nullptr, "ConcatDataset: data set ", k, " is null");
    end += datasets_[k]->size();
    ends_.push_back(end);
  }
}

Example ConcatDataset::get(int64_t index) const {
  FM_CHECK(index >= 0 && index < size(), "ConcatDataset: index ", index, " is outside [0, ", size(), ")");
  // The first data set ending after `index` (empty data sets are skipped by upper_bound).
  const auto k = static_cast<size_t>(std::upper_bound(ends_.begin(), ends_.end(), index) - ends_.begin());
  const int64_t start = k == 0 ? 0 : ends_[k - 1];
  return datasets_[k]->get(index - start);
}

std::vector<std::shared_ptr<Subset>> random_split(std::shared_ptr<const Dataset> dataset,
                                                  const std::vector<int64_t>& lengths, uint64_t seed) {
  FM_CHECK(dataset != nullptr, "random_split: no data set");
  int64_t total = 0;
  for (size_t k = 0; k < lengths.size(); ++k) {
    FM_CHECK(lengths[k] >= 0, "random_split: lengths[", k, "] = ", lengths[k], " is negative");
    total += lengths[k];
  }
  FM_CHECK(total == dataset->size(), "random_split: the lengths sum to ", total, " but the data set has ",
           dataset->size(), " examples");
  const std::vector<int64_t> order = random_permutation(total, seed);
  std::vector<std::shared_ptr<Subset>> out;
  auto start = order.begin();
  for (const int64_t length : lengths) {
    out.push_back(std::make_shared<Subset>(dataset, std::vector<int64_t>(start, start + length)));
    start += length;
  }
  return out;
}

std::vector<int64_t> split_lengths(int64_t n, const std::vector<double>& fractions) {
  FM_CHECK(n >= 0, "split_lengths: n must be >= 0, got ", n);
  FM_CHECK(!fractions.empty(), "split_lengths: no fractions");
  double sum = 0;
  for (size_t k = 0; k < fractions.size(); ++k) {
    FM_CHECK(fractions[k] >= 0 && fractions[k] <= 1, "split_lengths: fractions[", k, "] = ",
             fractions[k], " is outside [0, 1]");
    sum += fractions[k];
  }
  FM_CHECK(std::abs(sum - 1) < 1e-9, "split_lengths: the fractions sum to ", sum, ", not 1");
  std::vector<int64_t> lengths;
  int64_t assigned = 0;
  for (const double f : fractions) {
    lengths.push_back(static_cast<int64_t>(std::floor(static_cast<double>(n) * f)));
    assigned += lengths.back();
  }
  for (int64_t k = 0; assigned < n; ++k, ++assigned) ++lengths[static_cast<size_t>(k) % lengths.size()];
  return lengths;
}

}  // namespace fm::data
