// The caching allocator's bookkeeping (size classes, per-stream free lists, statistics, the
// out-of-memory retry) against a fake raw allocator, so that it is tested without a GPU.
#include <set>

#include "support/test_support.h"
#include "tensor/cuda_caching_allocator.h"

using namespace fm;

namespace {

// Hands out distinct fake addresses and fails once more than `capacity` bytes are out.
struct FakeRaw {
  size_t capacity = size_t{1} << 40;
  size_t out = 0;
  uintptr_t next = 0x10000;
  std::map<void*, size_t>* blocks = nullptr;  // shared with the test for inspection
  void* raw_malloc(size_t n) {
    if (out + n > capacity) return nullptr;
    void* p = reinterpret_cast<void*>(next);
    next += n + 4096;
    out += n;
    (*blocks)[p] = n;
    return p;
  }
  void raw_free(void* p) {
    auto it = blocks->find(p);
    ASSERT_NE(it, blocks->end()) << "raw_free of a pointer raw_malloc did not return";
    out -= it->second;
    blocks->erase(it);
  }
};

using Alloc = CachingAllocator<FakeRaw, int>;

struct Fixture {
  std::map<void*, size_t> blocks;
  Alloc a;
  explicit Fixture(size_t capacity = size_t{1} << 40) : a(FakeRaw{capacity, 0, 0x10000, &blocks}) {}
};

constexpr size_t MiB = size_t{1} << 20;

}  // namespace

TEST(CudaCachingAllocator, SizeClasses) {
  EXPECT_EQ(Alloc::round_size(1), 512u);
  EXPECT_EQ(Alloc::round_size(512), 512u);
  EXPECT_EQ(Alloc::round_size(513), 1024u);
  EXPECT_EQ(Alloc::round_size(MiB - 1), MiB);
  EXPECT_EQ(Alloc::round_size(MiB), 2 * MiB);
  EXPECT_EQ(Alloc::round_size(2 * MiB + 1), 4 * MiB);
  EXPECT_EQ(Alloc::max_reuse_size(1024), 1024u);
  EXPECT_EQ(Alloc::max_reuse_size(4 * MiB), 6 * MiB);
  EXPECT_EQ(Alloc::max_reuse_size(64 * MiB), 72 * MiB);
}

TEST(CudaCachingAllocator, ReusesFreedBlocksWithoutRawCalls) {
  Fixture f;
  // a "training step": the same sizes every step
  const std::vector<size_t> sizes = {100, 4000, 3 * MiB, 700, 10 * MiB + 5};
  for (int step = 0; step < 5; ++step) {
    std::vector<void*> ps;
    std::set<void*> distinct;
    for (size_t n : sizes) {
      ps.push_back(f.a.allocate(n, 0));
      distinct.insert(ps.back());
    }
    EXPECT_EQ(distinct.size(), sizes.size()) << "live blocks must not alias";
    for (void* p : ps) f.a.deallocate(p);
  }
  const CudaMemoryStats s = f.a.stats();
  EXPECT_EQ(s.raw_allocs, 5);  // only the first step reaches cudaMalloc
  EXPECT_EQ(s.cache_hits, 20);
  EXPECT_EQ(s.allocated, 0u);
  EXPECT_EQ(s.reserved, 512u + 4096u + 4 * MiB + 1024u + 12 * MiB);
  EXPECT_EQ(s.peak_allocated, s.reserved);
  EXPECT_EQ(f.blocks.size(), 5u);
}

TEST(CudaCachingAllocator, FreeListsArePerStream) {
  Fixture f;
  void* p = f.a.allocate(1000, /*stream=*/1);
  f.a.deallocate(p);
  void* q = f.a.allocate(1000, 2);  // another stream must not get stream 1's block
  EXPECT_NE(p, q);
  void* r = f.a.allocate(1000, 1);
  EXPECT_EQ(p, r);
  EXPECT_EQ(f.a.stats().raw_allocs, 2);
}

TEST(CudaCachingAllocator, SmallBlocksReuseOnlyTheirSizeLargeOnesWithinAnEighth) {
  Fixture f;
  void* small = f.a.allocate(4096, 0);
  f.a.deallocate(small);
  void* other = f.a.allocate(1024, 0);  // a 4 KiB block is not handed out for 1 KiB
  EXPECT_NE(other, small);
  void* big = f.a.allocate(16 * MiB, 0);
  f.a.deallocate(big);
  void* slightly_smaller = f.a.allocate(15 * MiB, 0);  // 16 MiB <= 16 + 2
  EXPECT_EQ(slightly_smaller, big);
  f.a.deallocate(slightly_smaller);
  void* much_smaller = f.a.allocate(2 * MiB, 0);  // 16 MiB is too wasteful for 2 MiB
  EXPECT_NE(much_smaller, big);
  EXPECT_EQ(f.a.stats().allocated, 1024u + 2 * MiB);
}

TEST(CudaCachingAllocator, EmptyCacheReturnsOnlyFreeBlocks) {
  Fixture f;
  void* keep = f.a.allocate(3 * MiB, 0);
  void* drop = f.a.allocate(5000, 0);
  f.a.deallocate(drop);
  f.a.empty_cache();
  const CudaMemoryStats s = f.a.stats();
  EXPECT_EQ(s.raw_frees, 1);
  EXPECT_EQ(s.reserved, 4 * MiB);
  EXPECT_EQ(s.allocated, 4 * MiB);
  EXPECT_EQ(f.blocks.size(), 1u);
  EXPECT_EQ(f.blocks.count(keep), 1u);
  f.a.deallocate(keep);
  f.a.empty_cache();
  EXPECT_TRUE(f.blocks.empty());
  EXPECT_EQ(f.a.stats().reserved, 0u);
  EXPECT_EQ(f.a.stats().peak_reserved, 4 * MiB + 5120);
}

TEST(CudaCachingAllocator, OutOfMemoryFreesTheCacheAndRetries) {
  Fixture f(/*capacity=*/10 * MiB);
  void* a = f.a.allocate(6 * MiB, 0);
  f.a.deallocate(a);  // cached: 6 MiB reserved, nothing in use
  void* b = f.a.allocate(8 * MiB, 0);  // does not fit beside the cached block: retry after freeing
  ASSERT_NE(b, nullptr);
  const CudaMemoryStats s = f.a.stats();
  EXPECT_EQ(s.oom_retries, 1);
  EXPECT_EQ(s.raw_frees, 1);
  EXPECT_EQ(s.reserved, 8 * MiB);
}

TEST(CudaCachingAllocator, OutOfMemoryErrorNamesTheSizeAndTheStatistics) {
  Fixture f(/*capacity=*/10 * MiB);
  void* a = f.a.allocate(8 * MiB, 0);
  EXPECT_THROW_MSG(f.a.allocate(4 * MiB, 0), "out of memory allocating 4194304 bytes");
  EXPECT_THROW_MSG(f.a.allocate(4 * MiB, 0), "allocated 8.0 MiB, reserved 8.0 MiB");
  EXPECT_THROW_MSG(f.a.allocate(4 * MiB, 0), "cudaMalloc calls 1");
  f.a.deallocate(a);
}

TEST(CudaCachingAllocator, RejectsForeignAndDoubleFrees) {
  Fixture f;
  void* p = f.a.allocate(10, 0);
  f.a.deallocate(p);
  EXPECT_THROW_MSG(f.a.deallocate(p), "freed twice");
  int x = 0;
  EXPECT_THROW_MSG(f.a.deallocate(&x), "did not allocate");
  EXPECT_EQ(f.a.allocate(0, 0), nullptr);
}

TEST(CudaCachingAllocator, PeakStatsReset) {
  Fixture f;
  void* p = f.a.allocate(3 * MiB, 0);
  f.a.deallocate(p);
  EXPECT_EQ(f.a.stats().peak_allocated, 4 * MiB);
  f.a.reset_peak_stats();
  EXPECT_EQ(f.a.stats().peak_allocated, 0u);
  EXPECT_EQ(f.a.stats().peak_reserved, 4 * MiB);
}
