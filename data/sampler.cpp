#include "data/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "tensor/error.h"
#include "tensor/philox.h"

namespace fm::data {
namespace {

// 64 random bits from Philox block `block` of (seed, epoch): lanes 0 and 1.
uint64_t bits64(uint64_t seed, int64_t epoch, uint64_t block) {
  const PhiloxBlock b = philox4x32_10(block, static_cast<uint64_t>(epoch), seed);
  return uint64_t{b.v[0]} << 32 | b.v[1];
}

// An integer in [0, bound) from 64 random bits (Lemire's multiply-high; no floating point, so
// the same on every machine).
int64_t below(uint64_t r, uint64_t bound) {
  return static_cast<int64_t>((static_cast<unsigned __int128>(r) * bound) >> 64);
}

double uniform01(uint64_t seed, int64_t epoch, uint64_t block) {
  const PhiloxBlock b = philox4x32_10(block, static_cast<uint64_t>(epoch), seed);
  return uniform_double(b.v[0], b.v[1]);
}

// Fisher-Yates drawing from blocks first_block + i, so several permutations of one epoch use
// disjoint blocks.
std::vector<int64_t> permutation(int64_t n, uint64_t seed, int64_t epoch, uint64_t first_block) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = below(bits64(seed, epoch, first_block + static_cast<uint64_t>(i)),
                            static_cast<uint64_t>(i) + 1);
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

}  // namespace

std::vector<int64_t> random_permutation(int64_t n, uint64_t seed, int64_t epoch) {
  FM_CHECK(n >= 0, "random_permutation: n must be >= 0, got ", n);
  return permutation(n, seed, epoch, 0);
}

SequentialSampler::SequentialSampler(int64_t n) : n_(n) {
  FM_CHECK(n >= 0, "SequentialSampler: the data set size must be >= 0, got ", n);
}

std::vector<int64_t> SequentialSampler::indices(int64_t) const {
  std::vector<int64_t> out(static_cast<size_t>(n_));
  std::iota(out.begin(), out.end(), int64_t{0});
  return out;
}

RandomSampler::RandomSampler(int64_t n, uint64_t seed, bool replacement, int64_t num_samples)
    : n_(n), num_samples_(num_samples < 0 ? n : num_samples), seed_(seed), replacement_(replacement) {
  FM_CHECK(n >= 0, "RandomSampler: the data set size must be >= 0, got ", n);
  FM_CHECK(n > 0 || num_samples_ == 0, "RandomSampler: cannot draw ", num_samples_,
           " samples from an empty data set");
}

std::vector<int64_t> RandomSampler::indices(int64_t epoch) const {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(num_samples_));
  if (replacement_) {
    for (int64_t k = 0; k < num_samples_; ++k)
      out.push_back(below(bits64(seed_, epoch, static_cast<uint64_t>(k)), static_cast<uint64_t>(n_)));
    return out;
  }
  for (int64_t round = 0; static_cast<int64_t>(out.size()) < num_samples_; ++round) {
    const std::vector<int64_t> p = permutation(n_, seed_, epoch, static_cast<uint64_t>(round * n_));
    const int64_t take = std::min<int64_t>(n_, num_samples_ - static_cast<int64_t>(out.size()));
    out.insert(out.end(), p.begin(), p.begin() + take);
  }
  return out;
}

WeightedRandomSampler::WeightedRandomSampler(std::vector<double> weights, int64_t num_samples,
                                             uint64_t seed, bool replacement)
    : weights_(std::move(weights)), num_samples_(num_samples), seed_(seed), replacement_(replacement) {
  FM_CHECK(num_samples >= 0, "WeightedRandomSampler: num_samples must be >= 0, got ", num_samples);
  double sum = 0;
  int64_t positive = 0;
  cumulative_.reserve(weights_.size());
  for (size_t i = 0; i < weights_.size(); ++i) {
    const double w = weights_[i];
    FM_CHECK(std::isfinite(w) && w >= 0, "WeightedRandomSampler: weights[", i,
             "] = ", w, "; weights must be finite and >= 0");
    sum += w;
    positive += w > 0;
    cumulative_.push_back(sum);
  }
  FM_CHECK(sum > 0 || num_samples == 0, "WeightedRandomSampler: the ", weights_.size(),
           " weights sum to 0; at least one must be positive");
  FM_CHECK(replacement || num_samples <= positive, "WeightedRandomSampler: cannot draw ", num_samples,
           " samples without replacement from ", positive, " indices of positive weight");
}

std::vector<int64_t> WeightedRandomSampler::indices(int64_t epoch) const {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(num_samples_));
  if (replacement_) {
    const double total = cumulative_.back();
    // A product rounding up to the total would land past the end: take the last index of
    // positive weight then.
    auto last = static_cast<int64_t>(weights_.size()) - 1;
    while (weights_[static_cast<size_t>(last)] <= 0) --last;
    for (int64_t k = 0; k < num_samples_; ++k) {
      const double target = uniform01(seed_, epoch, static_cast<uint64_t>(k)) * total;
      // The first index whose cumulative weight exceeds the target: never one of weight 0.
      const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), target);
      out.push_back(std::min<int64_t>(it - cumulative_.begin(), last));
    }
    return out;
  }
  std::vector<std::pair<double, int64_t>> keys;
  for (size_t i = 0; i < weights_.size(); ++i) {
    if (weights_[i] <= 0) continue;
    const double u = 1.0 - uniform01(seed_, epoch, i);  // (0, 1]
    keys.emplace_back(-std::log(u) / weights_[i], static_cast<int64_t>(i));
  }
  std::partial_sort(keys.begin(), keys.begin() + num_samples_, keys.end());
  for (int64_t k = 0; k < num_samples_; ++k) out.push_back(keys[static_cast<size_t>(k)].second);
  return out;
}

std::vector<int64_t> shard_indices(const std::vector<int64_t>& order, int64_t rank, int64_t world_size,
                                   bool drop_last) {
  FM_CHECK(world_size >= 1, "shard_indices: world_size must be >= 1, got ", world_size);
  FM_CHECK(rank >= 0 && rank < world_size, "shard_indices: rank ", rank, " is outside [0, ",
           world_size, ")");
  const auto n = static_cast<int64_t>(order.size());
  const int64_t per_rank = drop_last ? n / world_size : (n + world_size - 1) / world_size;
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(per_rank));
  for (int64_t k = 0; k < per_rank; ++k) {
    const int64_t position = rank + k * world_size;
    out.push_back(order[static_cast<size_t>(position % n)]);  // wraps into the padding
  }
  return out;
}

DistributedSampler::DistributedSampler(std::shared_ptr<const Sampler> base, int64_t rank,
                                       int64_t world_size, bool drop_last)
    : base_(std::move(base)), rank_(rank), world_size_(world_size), drop_last_(drop_last) {
  FM_CHECK(base_ != nullptr, "DistributedSampler: no base sampler");
  FM_CHECK(world_size >= 1, "DistributedSampler: world_size must be >= 1, got ", world_size);
  FM_CHECK(rank >= 0 && rank < world_size, "DistributedSampler: rank ", rank, " is outside [0, ",
           world_size, ")");
}

int64_t DistributedSampler::size() const {
  const int64_t n = base_->size();
  return drop_last_ ? n / world_size_ : (n + world_size_ - 1) / world_size_;
}

std::vector<int64_t> DistributedSampler::indices(int64_t epoch) const {
  return shard_indices(base_->indices(epoch), rank_, world_size_, drop_last_);
}

BatchSampler::BatchSampler(std::shared_ptr<const Sampler> sampler, int64_t batch_size, bool drop_last)
    : sampler_(std::move(sampler)), batch_size_(batch_size), drop_last_(drop_last) {
  FM_CHECK(sampler_ != nullptr, "BatchSampler: no sampler");
  FM_CHECK(batch_size >= 1, "BatchSampler: batch_size must be >= 1, got ", batch_size);
}

int64_t BatchSampler::size() const {
  const int64_t n = sampler_->size();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

std::vector<std::vector<int64_t>> BatchSampler::batches(int64_t epoch) const {
  const std::vector<int64_t> order = sampler_->indices(epoch);
  FM_CHECK(static_cast<int64_t>(order.size()) == sampler_->size(), "BatchSampler: the sampler gave ",
           order.size(), " indices for epoch ", epoch, " but its size() is ", sampler_->size());
  std::vector<std::vector<int64_t>> out;
  out.reserve(static_cast<size_t>(size()));
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size_)) {
    const size_t end = std::min(order.size(), start + static_cast<size_t>(batch_size_));
    if (drop_last_ && end - start < static_cast<size_t>(batch_size_)) break;
    out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                     order.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

}  // namespace fm::data
