#pragma once
// Data sets built from tensors or from other data sets, as torch.utils.data's TensorDataset,
// Subset, ConcatDataset and random_split.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace fm::data {

// Named tensors indexed along dim 0: example i maps each name to tensor[i] (a view sharing the
// tensor's memory; collating copies it). Every tensor needs dim >= 1 and the same size(0).
class TensorDataset : public Dataset {
 public:
  explicit TensorDataset(std::map<std::string, Tensor> tensors);
  int64_t size() const override { return size_; }
  Example get(int64_t index) const override;

 private:
  std::map<std::string, Tensor> tensors_;
  int64_t size_ = 0;
};

// The examples of `dataset` at `indices`, in that order (indices may repeat).
class Subset : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices);
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Example get(int64_t index) const override;
  const std::vector<int64_t>& indices() const { return indices_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  std::vector<int64_t> indices_;
};

// The data sets one after the other.
class ConcatDataset : public Dataset {
 public:
  explicit ConcatDataset(std::vector<std::shared_ptr<const Dataset>> datasets);
  int64_t size() const override { return ends_.empty() ? 0 : ends_.back(); }
  Example get(int64_t index) const override;

 private:
  std::vector<std::shared_ptr<const Dataset>> datasets_;
  std::vector<int64_t> ends_;  // cumulative sizes
};

// Splits `dataset` into disjoint subsets of the given lengths (summing to its size) after a
// random permutation drawn from `seed` (data/sampler.h's random_permutation), so the same seed
// gives the same split everywhere.
std::vector<std::shared_ptr<Subset>> random_split(std::shared_ptr<const Dataset> dataset,
                                                  const std::vector<int64_t>& lengths, uint64_t seed);

// Lengths for fractions of n summing to 1, as torch.utils.data.random_split computes them:
// floor(n * f) each, then the remainder handed out one at a time from the first split on.
std::vector<int64_t> split_lengths(int64_t n, const std::vector<double>& fractions);

}  // namespace fm::data
