#pragma once
// Samplers choose which examples an epoch visits and in what order, as torch.utils.data's do.
// A sampler is a pure function of the epoch: indices(epoch) gives the same list on every call,
// run and machine (random ones draw from Philox with key = seed and subsequence = epoch, and
// use integer arithmetic wherever the result is an index), so a resumed run replays the
// interrupted epoch exactly, and samplers are safe to share between threads.
#include <cstdint>
#include <memory>
#include <vector>

namespace fm::data {

class Sampler {
 public:
  virtual ~Sampler() = default;
  // Indices per epoch.
  virtual int64_t size() const = 0;
  // The epoch's indices, in visiting order (size() of them).
  virtual std::vector<int64_t> indices(int64_t epoch) const = 0;
};

// A permutation of 0..n-1: Fisher-Yates where step i (from n-1 down to 1) swaps i with
// j = floor(r * (i + 1) / 2^64), r the first 64 bits of Philox block i of (seed, epoch).
// The bias of that mapping is below (i + 1) / 2^64, far below any measurable effect.
std::vector<int64_t> random_permutation(int64_t n, uint64_t seed, int64_t epoch = 0);

// 0, 1, ..., n-1 every epoch.
class SequentialSampler : public Sampler {
 public:
  explicit SequentialSampler(int64_t n);
  int64_t size() const override { return n_; }
  std::vector<int64_t> indices(int64_t epoch) const override;

 private:
  int64_t n_;
};

// torch.utils.data.RandomSampler. Without replacement: a fresh permutation each epoch
// (num_samples > n chains permutations, num_samples < n takes the first ones). With
// replacement: num_samples independent uniform draws. num_samples < 0 means n.
class RandomSampler : public Sampler {
 public:
  RandomSampler(int64_t n, uint64_t seed, bool replacement = false, int64_t num_samples = -1);
  int64_t size() const override { return num_samples_; }
  std::vector<int64_t> indices(int64_t epoch) const override;

 private:
  int64_t n_, num_samples_;
  uint64_t seed_;
  bool replacement_;
};

// torch.utils.data.WeightedRandomSampler: index i is drawn with probability proportional to
// weights[i] (e.g. 1 / frequency of its class, to balance classes). With replacement each draw
// is independent (inverse CDF by binary search); without replacement the num_samples indices
// with the smallest -log(u_i) / w_i are taken, in that order (Efraimidis-Spirakis), so
// num_samples may not exceed the number of positive weights. Weights must be finite, >= 0,
// with a positive sum.
class WeightedRandomSampler : public Sampler {
 public:
  WeightedRandomSampler(std::vector<double> weights, int64_t num_samples, uint64_t seed,
                        bool replacement = true);
  int64_t size() const override { return num_samples_; }
  std::vector<int64_t> indices(int64_t epoch) const override;

 private:
  std::vector<double> weights_, cumulative_;
  int64_t num_samples_;
  uint64_t seed_;
  bool replacement_;
};

// One rank's share of an epoch, with torch.utils.data.DistributedSampler's rule: the base
// order is padded by wrapping around to a multiple of world_size (drop_last = false: some
// examples are seen twice an epoch) or cut to one (drop_last = true: up to world_size - 1 are
// skipped), and rank r takes positions r, r + world_size, ... Every rank gets the same count,
// so data-parallel ranks step in lockstep, and the ranks' shares are disjoint apart from the
// padding and together cover the epoch.
std::vector<int64_t> shard_indices(const std::vector<int64_t>& order, int64_t rank, int64_t world_size,
                                   bool drop_last = false);

// Shards any sampler's epochs with shard_indices (a RandomSampler inside gives PyTorch's
// DistributedSampler with shuffle; a SequentialSampler, without).
class DistributedSampler : public Sampler {
 public:
  DistributedSampler(std::shared_ptr<const Sampler> base, int64_t rank, int64_t world_size,
                     bool drop_last = false);
  int64_t size() const override;
  std::vector<int64_t> indices(int64_t epoch) const override;

 private:
  std::shared_ptr<const Sampler> base_;
  int64_t rank_, world_size_;
  bool drop_last_;
};

// torch.utils.data.BatchSampler: a sampler's epoch cut into consecutive batches of
// batch_size indices; the last one is shorter, or dropped with drop_last.
class BatchSampler {
 public:
  BatchSampler(std::shared_ptr<const Sampler> sampler, int64_t batch_size, bool drop_last = false);
  int64_t size() const;  // batches per epoch
  std::vector<std::vector<int64_t>> batches(int64_t epoch) const;

 private:
  std::shared_ptr<const Sampler> sampler_;
  int64_t batch_size_;
  bool drop_last_;
};

}  // namespace fm::data
