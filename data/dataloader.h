#pragma once
// DataLoader: batches of a Dataset, in an order fixed by (seed, epoch), loaded by worker
// threads ahead of the consumer, as torch.utils.data.DataLoader.
//
//   DataLoader loader(dataset, {.batch_size = 32, .shuffle = true, .seed = 1, .num_workers = 4});
//   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//     loader.set_epoch(epoch);
//     for (Batch& batch : loader) step(batch);
//   }
//
// Order. An epoch's index order comes from the sampler (options.sampler, else a RandomSampler
// with the seed when shuffling, else a SequentialSampler), evaluated at the epoch, so it is a
// function of (seed, epoch) only. With world_size > 1 each rank takes its share with
// shard_indices (data/sampler.h): the order is padded by wrapping around to a multiple of
// world_size, so every rank has the same number of batches and the shares are disjoint apart
// from the padding. The rank's indices are then cut into batches (the last one shorter, or
// dropped with drop_last).
//
// Workers. With num_workers = n > 0, batch k of the epoch is loaded and collated by worker
// k mod n, which runs ahead by at most `prefetch` batches; the consumer takes the batches in
// order, so the batches do not depend on n, and at most n * prefetch finished batches wait in
// memory. Workers run OpenMP regions on one thread (as PyTorch's workers do
// torch.set_num_threads(1)): the parallelism is across workers. Each begin() starts its own
// workers; they stop and are joined when the last iterator of that pass is destroyed (leaving
// the loop early included), whether or not the loader still exists.
//
// Errors. An exception from Dataset::get (or a sampler index outside the data set) becomes an
// fm::Error naming the example's index and the batch and quoting the original message; one
// from the collate function names the batch. It is thrown by the iterator step (begin() or
// ++) that reaches that batch, in the consumer's thread; the batches before it are delivered.
//
// A DataLoader itself is used from one thread (set_epoch, begin, ... are not synchronised).
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "data/collate.h"
#include "data/dataset.h"
#include "data/sampler.h"

namespace fm::data {

struct DataLoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;
  int num_workers = 0;   // 0: load in the calling thread; n: n worker threads
  int prefetch = 2;      // batches ready ahead per worker (bounded queue)
  int64_t rank = 0, world_size = 1;  // sharding for data parallelism (see above)
  CollateFn collate;     // empty = default_collate
  // Replaces the sequential/shuffled order (shuffle and seed are then unused), e.g. a
  // WeightedRandomSampler to balance classes; its indices must lie in the data set.
  std::shared_ptr<const Sampler> sampler;
};

namespace detail {
class LoaderPass;
}

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options);

  // The shuffle order is a function of (seed, epoch) only.
  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  int64_t epoch() const { return epoch_; }
  // Resume mid-epoch: the next begin() starts at this batch of the epoch's order (the batches
  // are the ones an uninterrupted epoch would give from there). Consumed by that begin(); later
  // passes start at 0 again.
  void set_start_batch(int64_t batch);
  // Batches per epoch for this rank (a pass started with set_start_batch(b) yields size() - b).
  int64_t size() const { return batches_->size(); }
  const DataLoaderOptions& options() const { return options_; }

  // An input iterator over one pass; it owns the pass (and its worker threads), shared by its
  // copies. The default-constructed iterator is the end.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = Batch*;
    using reference = Batch&;

    iterator() = default;
    Batch& operator*() const;
    Batch* operator->() const { return &**this; }
    iterator& operator++();
    // A copy would share the pass (and so see the next batch), so postfix returns nothing.
    void operator++(int) { ++*this; }
    bool operator==(const iterator& other) const { return at_end() == other.at_end(); }

   private:
    friend class DataLoader;
    explicit iterator(std::shared_ptr<detail::LoaderPass> pass);
    bool at_end() const;
    std::shared_ptr<detail::LoaderPass> pass_;
  };

  iterator begin();
  iterator end() { return iterator(); }

 private:
  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  std::shared_ptr<const BatchSampler> batches_;
  int64_t epoch_ = 0;
  int64_t start_batch_ = 0;
};

}  // namespace fm::data
