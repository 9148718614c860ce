// Samplers: permutations from (seed, epoch), with and without replacement, weighted draws,
// DistributedSampler's sharding and batching.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "data/sampler.h"
#include "support/test_support.h"
#include "tensor/philox.h"

namespace fm {
namespace {

using namespace fm::data;

bool is_permutation_of_n(std::vector<int64_t> p, int64_t n) {
  std::sort(p.begin(), p.end());
  std::vector<int64_t> expected(static_cast<size_t>(n));
  std::iota(expected.begin(), expected.end(), int64_t{0});
  return p == expected;
}

TEST(DataSampler, RandomPermutationIsAFunctionOfSeedAndEpoch) {
  const std::vector<int64_t> p = random_permutation(1000, 42, 3);
  EXPECT_TRUE(is_permutation_of_n(p, 1000));
  EXPECT_EQ(p, random_permutation(1000, 42, 3));
  EXPECT_NE(p, random_permutation(1000, 42, 4));
  EXPECT_NE(p, random_permutation(1000, 43, 3));
  EXPECT_TRUE(random_permutation(0, 1).empty());
  EXPECT_EQ(random_permutation(1, 1), std::vector<int64_t>{0});
  EXPECT_THROW_MSG(random_permutation(-1, 1), "n must be >= 0");
}

TEST(DataSampler, RandomPermutationFollowsTheDocumentedDraws) {
  // The first Fisher-Yates step (i = n-1) fixes the last position for good: it holds
  // j = floor(r * n / 2^64), r the first 64 bits of Philox block n-1 of (seed, epoch).
  for (uint64_t seed : {0ull, 7ull, 123456789ull}) {
    for (int64_t epoch : {0, 1, 5}) {
      const int64_t n = 37;
      const PhiloxBlock b = philox4x32_10(n - 1, static_cast<uint64_t>(epoch), seed);
      const uint64_t r = uint64_t{b.v[0]} << 32 | b.v[1];
      const auto j = static_cast<int64_t>((static_cast<unsigned __int128>(r) * n) >> 64);
      EXPECT_EQ(random_permutation(n, seed, epoch).back(), j) << "seed " << seed << " epoch " << epoch;
    }
  }
}

TEST(DataSampler, RandomPermutationIsUniform) {
  // All 24 orders of 4 elements over 4800 epochs: 200 expected each.
  std::map<std::vector<int64_t>, int> counts;
  for (int64_t epoch = 0; epoch < 4800; ++epoch) ++counts[random_permutation(4, 11, epoch)];
  EXPECT_EQ(counts.size(), 24u);
  for (const auto& entry : counts) {
    EXPECT_GT(entry.second, 140);
    EXPECT_LT(entry.second, 260);
  }
}

TEST(DataSampler, SequentialAndRandom) {
  EXPECT_EQ(SequentialSampler(4).indices(9), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_THROW_MSG(SequentialSampler(-2), "must be >= 0");

  RandomSampler plain(50, 5);
  EXPECT_EQ(plain.size(), 50);
  EXPECT_EQ(plain.indices(2), random_permutation(50, 5, 2));

  // num_samples beyond n chains fresh permutations.
  RandomSampler chained(10, 5, false, 25);
  const std::vector<int64_t> c = chained.indices(0);
  ASSERT_EQ(c.size(), 25u);
  EXPECT_TRUE(is_permutation_of_n({c.begin(), c.begin() + 10}, 10));
  EXPECT_TRUE(is_permutation_of_n({c.begin() + 10, c.begin() + 20}, 10));
  EXPECT_NE(std::vector<int64_t>(c.begin(), c.begin() + 10), std::vector<int64_t>(c.begin() + 10, c.begin() + 20));
  EXPECT_EQ(RandomSampler(10, 5, false, 4).indices(0), std::vector<int64_t>(c.begin(), c.begin() + 4));

  RandomSampler drawn(6, 9, true, 6000);
  const std::vector<int64_t> d = drawn.indices(1);
  ASSERT_EQ(d.size(), 6000u);
  std::vector<int> counts(6, 0);
  for (const int64_t i : d) {
    ASSERT_GE(i, 0);
    ASSERT_LT(i, 6);
    ++counts[static_cast<size_t>(i)];
  }
  for (const int count : counts) EXPECT_NEAR(count, 1000, 120);
  EXPECT_EQ(d, drawn.indices(1));
  EXPECT_NE(d, drawn.indices(2));
  EXPECT_THROW_MSG(RandomSampler(0, 1, true, 3), "empty data set");
}

TEST(DataSampler, WeightedWithReplacementFollowsTheWeights) {
  WeightedRandomSampler sampler({0.0, 1.0, 3.0, 0.0}, 40000, 3);
  const std::vector<int64_t> d = sampler.indices(0);
  ASSERT_EQ(d.size(), 40000u);
  std::vector<int> counts(4, 0);
  for (const int64_t i : d) ++counts[static_cast<size_t>(i)];
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[3], 0);
  EXPECT_NEAR(counts[1], 10000, 400);
  EXPECT_NEAR(counts[2], 30000, 400);
  EXPECT_EQ(d, sampler.indices(0));
  EXPECT_NE(d, sampler.indices(1));
}

TEST(DataSampler, WeightedWithoutReplacement) {
  const std::vector<double> w = {5, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  WeightedRandomSampler sampler(w, 9, 4, false);
  const std::vector<int64_t> d = sampler.indices(0);
  ASSERT_EQ(d.size(), 9u);
  EXPECT_EQ(std::set<int64_t>(d.begin(), d.end()).size(), 9u);
  EXPECT_EQ(std::count(d.begin(), d.end(), 1), 0);
  // Drawn first with probability weight / total weight: 5/13 for the heavy index.
  int heavy_first = 0;
  for (int64_t epoch = 0; epoch < 1000; ++epoch) heavy_first += WeightedRandomSampler(w, 1, 4, false).indices(epoch)[0] == 0;
  EXPECT_NEAR(heavy_first, 5000 / 13, 60);
  EXPECT_THROW_MSG(WeightedRandomSampler(w, 10, 4, false), "from 9 indices of positive weight");
}

TEST(DataSampler, WeightedRejectsBadWeights) {
  EXPECT_THROW_MSG(WeightedRandomSampler({1, -1}, 3, 0), "weights[1] = -1");
  EXPECT_THROW_MSG(WeightedRandomSampler({1, std::nan("")}, 3, 0), "must be finite");
  EXPECT_THROW_MSG(WeightedRandomSampler({0, 0}, 3, 0), "sum to 0");
  EXPECT_THROW_MSG(WeightedRandomSampler({1}, -1, 0), "num_samples must be >= 0");
}

TEST(DataSampler, ShardsAreDisjointAndCoverTheEpoch) {
  const std::vector<int64_t> order = random_permutation(12, 8, 0);
  std::vector<int64_t> all;
  for (int64_t rank = 0; rank < 4; ++rank) {
    const std::vector<int64_t> s = shard_indices(order, rank, 4);
    EXPECT_EQ(s.size(), 3u);
    all.insert(all.end(), s.begin(), s.end());
  }
  EXPECT_TRUE(is_permutation_of_n(all, 12));
}

TEST(DataSampler, ShardsPadByWrappingOrDrop) {
  // 10 examples over 3 ranks: 4 each, the first 2 of the order seen twice.
  const std::vector<int64_t> order = random_permutation(10, 2, 1);
  std::map<int64_t, int> seen;
  for (int64_t rank = 0; rank < 3; ++rank) {
    const std::vector<int64_t> s = shard_indices(order, rank, 3);
    EXPECT_EQ(s.size(), 4u);
    for (const int64_t i : s) ++seen[i];
  }
  EXPECT_EQ(seen.size(), 10u);
  for (const auto& entry : seen) {
    const bool padded = entry.first == order[0] || entry.first == order[1];
    EXPECT_EQ(entry.second, padded ? 2 : 1) << "index " << entry.first;
  }
  // drop_last: 3 each, disjoint, the last of the order skipped.
  std::set<int64_t> kept;
  for (int64_t rank = 0; rank < 3; ++rank) {
    const std::vector<int64_t> s = shard_indices(order, rank, 3, true);
    EXPECT_EQ(s.size(), 3u);
    kept.insert(s.begin(), s.end());
  }
  EXPECT_EQ(kept.size(), 9u);
  EXPECT_EQ(kept.count(order[9]), 0u);
  // Fewer examples than ranks: wrapping repeats them.
  EXPECT_EQ(shard_indices({5, 6}, 4, 5), std::vector<int64_t>{5});
  EXPECT_THROW_MSG(shard_indices(order, 3, 3), "rank 3 is outside [0, 3)");
  EXPECT_THROW_MSG(shard_indices(order, 0, 0), "world_size must be >= 1");
}

TEST(DataSampler, DistributedSamplerShardsItsBase) {
  auto base = std::make_shared<RandomSampler>(10, 6);
  for (int64_t rank = 0; rank < 3; ++rank) {
    DistributedSampler sampler(base, rank, 3);
    EXPECT_EQ(sampler.size(), 4);
    EXPECT_EQ(sampler.indices(5), shard_indices(base->indices(5), rank, 3));
    EXPECT_EQ(DistributedSampler(base, rank, 3, true).size(), 3);
  }
  EXPECT_THROW_MSG(DistributedSampler(nullptr, 0, 1), "no base sampler");
}

TEST(DataSampler, BatchSampler) {
  auto base = std::make_shared<SequentialSampler>(7);
  BatchSampler keep(base, 3);
  EXPECT_EQ(keep.size(), 3);
  EXPECT_EQ(keep.batches(0), (std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4, 5}, {6}}));
  BatchSampler drop(base, 3, true);
  EXPECT_EQ(drop.size(), 2);
  EXPECT_EQ(drop.batches(0), (std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4, 5}}));
  EXPECT_EQ(BatchSampler(std::make_shared<SequentialSampler>(0), 2).batches(0).size(), 0u);
  EXPECT_THROW_MSG(BatchSampler(base, 0), "batch_size must be >= 1");
}

}  // namespace
}  // namespace fm
