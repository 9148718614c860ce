// DataLoader: batching, deterministic order for any number of workers, bounded prefetch, clean
// shutdown, error propagation, sharding, resuming; and the data sets of tensor_dataset.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "data/dataloader.h"
#include "data/tensor_dataset.h"
#include "support/test_support.h"

namespace fm {
namespace {

using namespace fm::data;
using namespace std::chrono_literals;

// Example i: "index" = i (int64 scalar), "seq" = i % 3 + 1 rows of [i, i]. get() sleeps a little,
// differently per index, so that workers finish out of order; it counts its calls and can be
// told to fail at one index.
class ProbeDataset : public Dataset {
 public:
  explicit ProbeDataset(int64_t n, int64_t fail_at = -1, bool sleep = true) : n_(n), fail_at_(fail_at), sleep_(sleep) {}
  int64_t size() const override { return n_; }
  Example get(int64_t i) const override {
    calls.fetch_add(1);
    if (sleep_) std::this_thread::sleep_for(std::chrono::microseconds(100 * ((i * 7) % 5)));
    FM_CHECK(i != fail_at_, "probe: example ", i, " is broken");
    return {{"index", scalar_tensor(static_cast<double>(i), {.dtype = kInt64})},
            {"seq", full({i % 3 + 1, 2}, static_cast<double>(i))}};
  }
  mutable std::atomic<int64_t> calls{0};

 private:
  int64_t n_, fail_at_;
  bool sleep_;
};

std::vector<std::vector<int64_t>> drain(DataLoader& loader) {
  std::vector<std::vector<int64_t>> out;
  for (Batch& batch : loader) out.push_back(batch.at("index").to_vector<int64_t>());
  return out;
}

int64_t thread_count() {
  int64_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// A joined thread may stay listed for a moment after join() returns.
bool threads_return_to(int64_t baseline) {
  for (int i = 0; i < 200 && thread_count() > baseline; ++i) std::this_thread::sleep_for(5ms);
  return thread_count() == baseline;
}

TEST(DataLoader, BatchesInOrderWithShorterLastOrDropLast) {
  auto ds = std::make_shared<ProbeDataset>(10, -1, false);
  DataLoader loader(ds, {.batch_size = 4});
  EXPECT_EQ(loader.size(), 3);
  EXPECT_EQ(drain(loader), (std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}));
  DataLoader dropping(ds, {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(dropping.size(), 2);
  EXPECT_EQ(drain(dropping).size(), 2u);

  // The variable-length "seq" is padded, with its mask and lengths.
  Batch first = *loader.begin();
  EXPECT_EQ(first.at("seq").sizes(), (Shape{4, 3, 2}));
  EXPECT_EQ(first.at("seq_lengths").to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3, 1}));
  EXPECT_EQ(first.at("seq_mask").sizes(), (Shape{4, 3}));

  DataLoader empty_loader(std::make_shared<ProbeDataset>(0), {.batch_size = 4, .num_workers = 2});
  EXPECT_EQ(empty_loader.size(), 0);
  EXPECT_TRUE(empty_loader.begin() == empty_loader.end());
}

TEST(DataLoader, ShuffleIsAFunctionOfSeedAndEpoch) {
  auto ds = std::make_shared<ProbeDataset>(23, -1, false);
  DataLoader a(ds, {.batch_size = 5, .shuffle = true, .seed = 17});
  DataLoader b(ds, {.batch_size = 5, .shuffle = true, .seed = 17});
  a.set_epoch(3);
  b.set_epoch(3);
  const auto order = drain(a);
  EXPECT_EQ(order, drain(b));
  EXPECT_EQ(order, drain(a));  // a second pass over the same epoch repeats it
  std::vector<int64_t> flat;
  for (const auto& batch : order) flat.insert(flat.end(), batch.begin(), batch.end());
  EXPECT_EQ(flat, random_permutation(23, 17, 3));
  b.set_epoch(4);
  EXPECT_NE(order, drain(b));
  DataLoader c(ds, {.batch_size = 5, .shuffle = true, .seed = 18});
  c.set_epoch(3);
  EXPECT_NE(order, drain(c));
}

TEST(DataLoader, OrderDoesNotDependOnTheNumberOfWorkers) {
  auto ds = std::make_shared<ProbeDataset>(41);
  DataLoader serial(ds, {.batch_size = 3, .shuffle = true, .seed = 5});
  serial.set_epoch(1);
  const auto expected = drain(serial);
  for (int workers : {1, 2, 3, 7}) {
    for (int prefetch : {1, 3}) {
      DataLoader loader(ds, {.batch_size = 3, .shuffle = true, .seed = 5, .num_workers = workers, .prefetch = prefetch});
      loader.set_epoch(1);
      EXPECT_EQ(drain(loader), expected) << workers << " workers, prefetch " << prefetch;
    }
  }
}

TEST(DataLoader, PrefetchIsBounded) {
  auto ds = std::make_shared<ProbeDataset>(400, -1, false);
  const int workers = 3, prefetch = 2;
  const int64_t batch_size = 4;
  DataLoader loader(ds, {.batch_size = batch_size, .num_workers = workers, .prefetch = prefetch});
  auto it = loader.begin();
  std::this_thread::sleep_for(100ms);  // let the workers fill their queues
  // A worker waits for room in its queue before loading, so what was loaded is what the
  // consumer took (1 batch) plus at most `prefetch` batches per worker.
  const int64_t bound = (1 + workers * prefetch) * batch_size;
  EXPECT_LE(ds->calls.load(), bound);
  EXPECT_GE(ds->calls.load(), batch_size);
  ++it;
  std::this_thread::sleep_for(50ms);
  EXPECT_LE(ds->calls.load(), bound + batch_size);
}

TEST(DataLoader, BreakingOutEarlyJoinsTheWorkers) {
  auto ds = std::make_shared<ProbeDataset>(2000);
  const int64_t baseline = thread_count();
  {
    DataLoader loader(ds, {.batch_size = 2, .num_workers = 4, .prefetch = 2});
    int taken = 0;
    for (Batch& batch : loader) {
      EXPECT_EQ(batch.at("index").sizes(), (Shape{2}));
      if (++taken == 3) break;
    }
    EXPECT_TRUE(threads_return_to(baseline)) << thread_count() << " threads, " << baseline << " before";
    // The loader is still usable after an early exit.
    EXPECT_EQ((*loader.begin()).at("index").to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
  }
  EXPECT_TRUE(threads_return_to(baseline));
  // Far fewer examples were loaded than the epoch holds.
  EXPECT_LT(ds->calls.load(), 200);
}

TEST(DataLoader, DestroyingTheLoaderMidEpoch) {
  auto ds = std::make_shared<ProbeDataset>(60);
  const int64_t baseline = thread_count();
  {
    // The pass owns its workers: destroying the loader leaves the iterator working.
    auto loader = std::make_unique<DataLoader>(ds, DataLoaderOptions{.batch_size = 4, .num_workers = 3});
    auto it = loader->begin();
    auto end = loader->end();
    ++it;
    loader.reset();
    int64_t batches = 0;  // from batch 1 on
    for (; it != end; ++it) ++batches;
    EXPECT_EQ(batches, 14);
  }
  EXPECT_TRUE(threads_return_to(baseline));
  {
    // A loader and its pass destroyed while the workers are blocked on full queues.
    auto loader = std::make_unique<DataLoader>(ds, DataLoaderOptions{.batch_size = 4, .num_workers = 3, .prefetch = 1});
    auto it = std::make_unique<DataLoader::iterator>(loader->begin());
    std::this_thread::sleep_for(20ms);
    loader.reset();
    it.reset();
  }
  EXPECT_TRUE(threads_return_to(baseline));
}

TEST(DataLoader, ErrorsInGetReachTheConsumerWithTheIndex) {
  const int64_t baseline = thread_count();
  for (int workers : {0, 1, 3}) {
    auto ds = std::make_shared<ProbeDataset>(30, 13);
    DataLoader loader(ds, {.batch_size = 4, .num_workers = workers});
    std::vector<std::vector<int64_t>> delivered;
    try {
      for (Batch& batch : loader) delivered.push_back(batch.at("index").to_vector<int64_t>());
      ADD_FAILURE() << "no error with " << workers << " workers";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("loading example 13 (batch 3) failed: probe: example 13 is broken"), std::string::npos) << what;
    }
    // The batches before the broken one arrived, in order.
    EXPECT_EQ(delivered.size(), 3u) << workers << " workers";
    EXPECT_TRUE(threads_return_to(baseline));
  }
}

TEST(DataLoader, ErrorsInCollateNameTheBatch) {
  auto ds = std::make_shared<ProbeDataset>(8, -1, false);
  DataLoaderOptions options{.batch_size = 2, .num_workers = 2};
  options.collate = [](const std::vector<Example>& examples) -> Batch {
    FM_CHECK(examples[0].at("index").item<int64_t>() != 6, "my_collate: refuses example 6");
    return default_collate(examples);
  };
  DataLoader loader(ds, options);
  auto it = loader.begin();
  ++it;
  ++it;
  EXPECT_THROW_MSG(++it, "collating batch 3 (examples 6, 7) failed: my_collate: refuses example 6");
  EXPECT_TRUE(it == loader.end());
}

TEST(DataLoader, ShardsAreDisjointEqualSizedAndCoverTheEpoch) {
  auto ds = std::make_shared<ProbeDataset>(22, -1, false);
  const int64_t world = 4;
  std::map<int64_t, int> seen;
  std::vector<int64_t> sizes;
  for (int64_t rank = 0; rank < world; ++rank) {
    DataLoader loader(ds, {.batch_size = 2, .shuffle = true, .seed = 9, .num_workers = 2, .rank = rank, .world_size = world});
    loader.set_epoch(2);
    sizes.push_back(loader.size());
    int64_t batches = 0;
    for (const auto& batch : drain(loader)) {
      ++batches;
      for (const int64_t i : batch) ++seen[i];
    }
    EXPECT_EQ(batches, loader.size());
  }
  // 22 over 4 ranks: 6 each (3 batches), the first 2 of the epoch's order seen twice.
  EXPECT_EQ(sizes, std::vector<int64_t>(4, 3));
  const std::vector<int64_t> order = random_permutation(22, 9, 2);
  EXPECT_EQ(seen.size(), 22u);
  for (const auto& entry : seen)
    EXPECT_EQ(entry.second, entry.first == order[0] || entry.first == order[1] ? 2 : 1) << entry.first;
}

TEST(DataLoader, ResumesMidEpoch) {
  auto ds = std::make_shared<ProbeDataset>(30);
  DataLoader loader(ds, {.batch_size = 4, .shuffle = true, .seed = 2, .num_workers = 2});
  loader.set_epoch(6);
  const auto full = drain(loader);
  loader.set_start_batch(3);
  const auto resumed = drain(loader);
  EXPECT_EQ(resumed, std::vector<std::vector<int64_t>>(full.begin() + 3, full.end()));
  EXPECT_EQ(drain(loader), full);  // the start batch applies to one pass
  loader.set_start_batch(loader.size());
  EXPECT_TRUE(loader.begin() == loader.end());
  EXPECT_THROW_MSG(loader.set_start_batch(9), "batch 9 is outside [0, 8]");
}

TEST(DataLoader, CustomSamplerBalancesClasses) {
  // 90 examples of class 0, 10 of class 1: weights 1/count give each class half the draws.
  std::vector<int64_t> labels(100, 0);
  std::fill(labels.begin() + 90, labels.end(), 1);
  auto ds = std::make_shared<TensorDataset>(std::map<std::string, Tensor>{{"label", from_vector(labels, {100})}});
  std::vector<double> weights;
  for (const int64_t l : labels) weights.push_back(l == 0 ? 1.0 / 90 : 1.0 / 10);
  DataLoaderOptions options{.batch_size = 50, .num_workers = 2};
  options.sampler = std::make_shared<WeightedRandomSampler>(weights, 2000, 1);
  DataLoader loader(ds, options);
  EXPECT_EQ(loader.size(), 40);
  int64_t ones = 0;
  for (Batch& batch : loader) ones += sum(batch.at("label")).item<int64_t>();
  EXPECT_NEAR(ones, 1000, 100);

  options.shuffle = true;
  EXPECT_THROW_MSG(DataLoader(ds, options), "shuffle is set and a sampler is given");
  DataLoaderOptions outside{};
  outside.sampler = std::make_shared<SequentialSampler>(101);
  DataLoader bad(ds, outside);
  EXPECT_THROW_MSG(for ([[maybe_unused]] Batch& batch : bad) {}, "the sampler gave index 100 (batch 100) but the data set has 100 examples");
}

TEST(DataLoader, RejectsBadOptions) {
  auto ds = std::make_shared<ProbeDataset>(4);
  EXPECT_THROW_MSG(DataLoader(nullptr, {}), "no data set");
  EXPECT_THROW_MSG(DataLoader(ds, {.batch_size = 0}), "batch_size must be >= 1");
  EXPECT_THROW_MSG(DataLoader(ds, {.num_workers = -1}), "num_workers must be >= 0");
  EXPECT_THROW_MSG(DataLoader(ds, {.prefetch = 0}), "prefetch must be >= 1");
  EXPECT_THROW_MSG(DataLoader(ds, {.rank = 2, .world_size = 2}), "rank 2 is outside [0, world_size = 2)");
}

TEST(DataTensorDataset, IndexesAlongDimZero) {
  Tensor x = reshape(arange(0, 24, 1, {.dtype = kFloat32}), {6, 2, 2});
  Tensor y = arange(6);
  auto ds = std::make_shared<TensorDataset>(std::map<std::string, Tensor>{{"x", x}, {"y", y}});
  EXPECT_EQ(ds->size(), 6);
  const Example e = ds->get(4);
  EXPECT_CLOSE(e.at("x"), select(x, 0, 4), 0, 0);
  EXPECT_EQ(e.at("y").dim(), 0);
  EXPECT_EQ(e.at("y").item<int64_t>(), 4);
  // A non-contiguous tensor indexes the same way.
  Tensor xt = transpose(x, 0, 2);  // [2, 2, 6]
  TensorDataset transposed({{"x", xt}});
  EXPECT_CLOSE(transposed.get(1).at("x"), select(xt, 0, 1), 0, 0);

  EXPECT_THROW_MSG(ds->get(6), "index 6 is outside [0, 6)");
  EXPECT_THROW_MSG(TensorDataset({{"x", x}, {"y", arange(5)}}), "tensor 'y' has 5 examples");
  EXPECT_THROW_MSG(TensorDataset({{"s", scalar_tensor(1)}}), "needs a dim 0");

  DataLoader loader(ds, {.batch_size = 4});
  const Batch batch = *loader.begin();
  EXPECT_CLOSE(batch.at("x"), narrow(x, 0, 0, 4), 0, 0);
}

TEST(DataTensorDataset, SubsetConcatAndRandomSplit) {
  auto ds = std::make_shared<TensorDataset>(std::map<std::string, Tensor>{{"i", arange(10)}});
  auto index_of = [](const Dataset& d, int64_t k) { return d.get(k).at("i").item<int64_t>(); };

  Subset subset(ds, {7, 2, 2});
  EXPECT_EQ(subset.size(), 3);
  EXPECT_EQ(index_of(subset, 0), 7);
  EXPECT_EQ(index_of(subset, 2), 2);
  EXPECT_THROW_MSG(Subset(ds, {3, 10}), "indices[1] = 10 is outside the data set's [0, 10)");

  auto tail = std::make_shared<TensorDataset>(std::map<std::string, Tensor>{{"i", arange(100, 103, 1)}});
  auto nothing = std::make_shared<Subset>(ds, std::vector<int64_t>{});
  ConcatDataset concat({ds, nothing, tail});
  EXPECT_EQ(concat.size(), 13);
  EXPECT_EQ(index_of(concat, 9), 9);
  EXPECT_EQ(index_of(concat, 10), 100);
  EXPECT_EQ(index_of(concat, 12), 102);
  EXPECT_THROW_MSG(concat.get(13), "index 13 is outside [0, 13)");

  const auto parts = random_split(ds, {7, 3}, 4);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0]->size(), 7);
  EXPECT_EQ(parts[1]->size(), 3);
  std::vector<int64_t> all = parts[0]->indices();
  all.insert(all.end(), parts[1]->indices().begin(), parts[1]->indices().end());
  EXPECT_EQ(all, random_permutation(10, 4));
  EXPECT_EQ(random_split(ds, {7, 3}, 4)[1]->indices(), parts[1]->indices());
  EXPECT_NE(random_split(ds, {7, 3}, 5)[1]->indices(), parts[1]->indices());
  EXPECT_THROW_MSG(random_split(ds, {7, 4}, 4), "the lengths sum to 11 but the data set has 10 examples");

  EXPECT_EQ(split_lengths(10, {0.8, 0.1, 0.1}), (std::vector<int64_t>{8, 1, 1}));
  EXPECT_EQ(split_lengths(11, {0.5, 0.5}), (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(split_lengths(7, {0.34, 0.33, 0.33}), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_THROW_MSG(split_lengths(10, {0.5, 0.6}), "sum to 1.1");
}

}  // namespace
}  // namespace fm
