#include "data/dataloader.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "tensor/error.h"

namespace fm::data {
namespace detail {

// One pass over (the rest of) an epoch: the batches' indices, the workers and their queues.
// Self-contained (it holds the data set and the collate function), so it may outlive the loader.
class LoaderPass {
 public:
  LoaderPass(std::shared_ptr<const Dataset> dataset, CollateFn collate,
             std::vector<std::vector<int64_t>> batches, int64_t first_batch, int num_workers, int prefetch)
      : dataset_(std::move(dataset)),
        collate_(std::move(collate)),
        batches_(std::move(batches)),
        first_batch_(first_batch),
        prefetch_(static_cast<size_t>(prefetch)) {
    const int workers = static_cast<int>(std::min<size_t>(static_cast<size_t>(num_workers), batches_.size()));
    queues_.resize(static_cast<size_t>(workers));
    try {
      for (int w = 0; w < workers; ++w) threads_.emplace_back([this, w, workers] { work(w, workers); });
    } catch (...) {
      shut_down();
      throw;
    }
  }

  ~LoaderPass() { shut_down(); }

  LoaderPass(const LoaderPass&) = delete;
  LoaderPass& operator=(const LoaderPass&) = delete;

  // Makes the next batch current; false once the pass is over. Rethrows a load error.
  bool advance() {
    if (next_ == batches_.size()) {
      done_ = true;
      return false;
    }
    const size_t k = next_++;
    if (threads_.empty()) {
      try {
        current_ = load(k);
      } catch (...) {
        done_ = true;
        throw;
      }
      return true;
    }
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      std::deque<Item>& queue = queues_[k % threads_.size()];
      // Worker k mod n produces its batches in order, so the head of its queue is batch k.
      ready_.wait(lock, [&] { return !queue.empty(); });
      item = std::move(queue.front());
      queue.pop_front();
    }
    space_.notify_all();
    if (item.error) {
      done_ = true;
      std::rethrow_exception(item.error);
    }
    current_ = std::move(item.batch);
    return true;
  }

  Batch& current() { return current_; }
  bool done() const { return done_; }

 private:
  struct Item {
    Batch batch;
    std::exception_ptr error;
  };

  int64_t batch_number(size_t k) const { return first_batch_ + static_cast<int64_t>(k); }

  // Loads and collates batch k; an empty batch if the pass is stopping.
  Batch load(size_t k) const {
    const std::vector<int64_t>& indices = batches_[k];
    const int64_t n = dataset_->size();
    std::vector<Example> examples;
    examples.reserve(indices.size());
    for (const int64_t index : indices) {
      if (stop_.load(std::memory_order_relaxed)) return {};
      FM_CHECK(index >= 0 && index < n, "DataLoader: the sampler gave index ", index, " (batch ",
               batch_number(k), ") but the data set has ", n, " examples");
      try {
        examples.push_back(dataset_->get(index));
      } catch (const std::exception& e) {
        fail("DataLoader: loading example ", index, " (batch ", batch_number(k), ") failed: ", e.what());
      } catch (...) {
        fail("DataLoader: loading example ", index, " (batch ", batch_number(k),
             ") failed with an exception that is not a std::exception");
      }
    }
    try {
      return collate_ ? collate_(examples) : default_collate(examples);
    } catch (const std::exception& e) {
      fail("DataLoader: collating batch ", batch_number(k), " (examples ", describe(indices), ") failed: ",
           e.what());
    } catch (...) {
      fail("DataLoader: collating batch ", batch_number(k), " (examples ", describe(indices),
           ") failed with an exception that is not a std::exception");
    }
  }

  static std::string describe(const std::vector<int64_t>& indices) {
    std::ostringstream os;
    for (size_t i = 0; i < indices.size() && i < 8; ++i) os << (i ? ", " : "") << indices[i];
    if (indices.size() > 8) os << ", ... (" << indices.size() << " in all)";
    return os.str();
  }

  void work(int w, int workers) {
    omp_set_num_threads(1);
    for (size_t k = static_cast<size_t>(w); k < batches_.size(); k += static_cast<size_t>(workers)) {
      std::deque<Item>& queue = queues_[static_cast<size_t>(w)];
      {
        std::unique_lock<std::mutex> lock(mu_);
        space_.wait(lock, [&] { return stop_.load() || queue.size() < prefetch_; });
        if (stop_.load()) return;
      }
      Item item;
      try {
        item.batch = load(k);
      } catch (...) {
        item.error = std::current_exception();
      }
      if (stop_.load()) return;
      const bool failed = item.error != nullptr;
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue.push_back(std::move(item));
      }
      ready_.notify_all();
      if (failed) return;  // the consumer stops at this batch
    }
  }

  void shut_down() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true);
    }
    space_.notify_all();
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
  }

  std::shared_ptr<const Dataset> dataset_;
  CollateFn collate_;
  std::vector<std::vector<int64_t>> batches_;
  int64_t first_batch_;
  size_t prefetch_;

  std::mutex mu_;
  std::condition_variable space_, ready_;
  std::vector<std::deque<Item>> queues_;  // one per worker, guarded by mu_
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;

  // consumer side
  size_t next_ = 0;
  Batch current_;
  bool done_ = false;
};

}  // namespace detail

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  FM_CHECK(dataset_ != nullptr, "DataLoader: no data set");
  FM_CHECK(options_.batch_size >= 1, "DataLoader: batch_size must be >= 1, got ", options_.batch_size);
  FM_CHECK(options_.num_workers >= 0, "DataLoader: num_workers must be >= 0, got ", options_.num_workers);
  FM_CHECK(options_.prefetch >= 1, "DataLoader: prefetch must be >= 1, got ", options_.prefetch);
  FM_CHECK(options_.world_size >= 1, "DataLoader: world_size must be >= 1, got ", options_.world_size);
  FM_CHECK(options_.rank >= 0 && options_.rank < options_.world_size, "DataLoader: rank ", options_.rank,
           " is outside [0, world_size = ", options_.world_size, ")");
  FM_CHECK(!(options_.sampler && options_.shuffle), "DataLoader: shuffle is set and a sampler is given; "
           "the sampler decides the order, so leave shuffle false");
  std::shared_ptr<const Sampler> order = options_.sampler;
  if (!order && options_.shuffle) order = std::make_shared<RandomSampler>(dataset_->size(), options_.seed);
  if (!order) order = std::make_shared<SequentialSampler>(dataset_->size());
  if (options_.world_size > 1)
    order = std::make_shared<DistributedSampler>(order, options_.rank, options_.world_size);
  batches_ = std::make_shared<BatchSampler>(order, options_.batch_size, options_.drop_last);
}

void DataLoader::set_start_batch(int64_t batch) {
  FM_CHECK(batch >= 0 && batch <= size(), "DataLoader::set_start_batch: batch ", batch,
           " is outside [0, ", size(), "] (", size(), " batches per epoch)");
  start_batch_ = batch;
}

DataLoader::iterator DataLoader::begin() {
  std::vector<std::vector<int64_t>> batches = batches_->batches(epoch_);
  const int64_t start = start_batch_;
  start_batch_ = 0;
  batches.erase(batches.begin(), batches.begin() + static_cast<std::ptrdiff_t>(start));
  return iterator(std::make_shared<detail::LoaderPass>(dataset_, options_.collate, std::move(batches), start,
                                                       options_.num_workers, options_.prefetch));
}

DataLoader::iterator::iterator(std::shared_ptr<detail::LoaderPass> pass) : pass_(std::move(pass)) {
  pass_->advance();
}

bool DataLoader::iterator::at_end() const { return !pass_ || pass_->done(); }

Batch& DataLoader::iterator::operator*() const {
  FM_CHECK(!at_end(), "DataLoader::iterator: dereferencing the end of the pass");
  return pass_->current();
}

DataLoader::iterator& DataLoader::iterator::operator++() {
  FM_CHECK(!at_end(), "DataLoader::iterator: incrementing past the end of the pass");
  pass_->advance();
  return *this;
}

}  // namespace fm::data
