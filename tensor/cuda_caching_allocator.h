#pragma once
// The bookkeeping of the CUDA caching allocator, kept free of CUDA so that it is tested on the
// CPU with a fake raw allocator (tests/tensor/cuda_caching_allocator_test.cpp). The real one
// (tensor/cuda_runtime.cpp) plugs cudaMalloc/cudaFree in as `Raw`.
//
// Why cache: cudaMalloc and cudaFree synchronise the device and cost tens of microseconds, and
// a training step allocates the same activation sizes every step. Freed blocks go back to a
// free list keyed by the stream they were allocated on; a later request on that stream reuses
// one without a cudaMalloc. Reuse on the same stream is safe without events because work on a
// stream runs in order: the kernels that used the block before it was freed finish before the
// kernels of its next owner start. (A tensor used on another stream than the one it was
// allocated on needs a record-stream mechanism, which this allocator does not have yet.)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "tensor/error.h"

namespace fm {

struct CudaMemoryStats {
  size_t allocated = 0;        // bytes in blocks handed out (rounded sizes)
  size_t reserved = 0;         // bytes obtained from the raw allocator (in use + cached)
  size_t peak_allocated = 0;
  size_t peak_reserved = 0;
  int64_t raw_allocs = 0;      // cudaMalloc calls
  int64_t raw_frees = 0;       // cudaFree calls
  int64_t cache_hits = 0;      // requests served from a free list
  int64_t oom_retries = 0;     // raw allocations retried after emptying the cache
  size_t cached() const { return reserved - allocated; }
};

std::string format_memory_stats(const CudaMemoryStats& s);

// Raw: `void* raw_malloc(size_t)` (nullptr when out of memory) and `void raw_free(void*)`.
// Stream: an opaque handle (cudaStream_t in the real allocator).
template <class Raw, class Stream = void*>
class CachingAllocator {
 public:
  // Requests under 1 MiB are rounded to 512 B and reused only at exactly their rounded size
  // (small sizes repeat exactly from step to step); larger ones are rounded to 2 MiB and may
  // reuse a free block up to 1/8 larger (at least one 2 MiB step), which bounds the waste of
  // not splitting blocks.
  static constexpr size_t kSmallRound = 512;
  static constexpr size_t kLargeThreshold = size_t{1} << 20;
  static constexpr size_t kLargeRound = size_t{2} << 20;

  explicit CachingAllocator(Raw raw = Raw{}, std::string name = "cuda") : raw_(std::move(raw)), name_(std::move(name)) {}
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;
  ~CachingAllocator() = default;  // the owner calls empty_cache() when the device is still alive

  static size_t round_size(size_t nbytes) {
    if (nbytes < kLargeThreshold) return std::max<size_t>(kSmallRound, (nbytes + kSmallRound - 1) / kSmallRound * kSmallRound);
    return (nbytes + kLargeRound - 1) / kLargeRound * kLargeRound;
  }
  // The largest cached block a request of rounded size r may take.
  static size_t max_reuse_size(size_t r) {
    if (r < kLargeThreshold) return r;
    return r + std::max(kLargeRound, (r / 8) / kLargeRound * kLargeRound);
  }

  void* allocate(size_t nbytes, Stream stream) {
    if (nbytes == 0) return nullptr;
    const size_t r = round_size(nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    auto& fl = free_[stream];
    auto it = fl.lower_bound(r);
    if (it != fl.end() && it->first <= max_reuse_size(r)) {
      void* p = it->second;
      const size_t size = it->first;
      fl.erase(it);
      live_.emplace(p, Block{size, stream});
      ++stats_.cache_hits;
      note_allocated(size);
      return p;
    }
    void* p = raw_.raw_malloc(r);
    if (p == nullptr) {
      // Memory parked in free lists (of any stream) may be what is missing.
      ++stats_.oom_retries;
      release_cached_locked();
      p = raw_.raw_malloc(r);
    }
    if (p == nullptr)
      fail(name_, " allocator: out of memory allocating ", nbytes, " bytes (", r,
           " rounded) after freeing the cache; ", format_memory_stats(stats_));
    ++stats_.raw_allocs;
    stats_.reserved += r;
    stats_.peak_reserved = std::max(stats_.peak_reserved, stats_.reserved);
    live_.emplace(p, Block{r, stream});
    note_allocated(r);
    return p;
  }

  // Returns the block to its stream's free list. Unknown pointers are an error (a double free
  // or memory from elsewhere); it never reaches the raw allocator.
  void deallocate(void* p) {
    if (p == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    FM_CHECK(it != live_.end(), name_, " allocator: freeing a pointer it did not allocate (or freed twice)");
    const Block b = it->second;
    live_.erase(it);
    stats_.allocated -= b.size;
    free_[b.stream].emplace(b.size, p);
  }

  // Frees every cached (unused) block through the raw allocator; live blocks stay.
  void empty_cache() {
    std::lock_guard<std::mutex> lock(mu_);
    release_cached_locked();
  }

  CudaMemoryStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  void reset_peak_stats() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak_allocated = stats_.allocated;
    stats_.peak_reserved = stats_.reserved;
  }
  size_t live_blocks() const {
    std::lock_guard<std::mutex> lock(mu_);
    return live_.size();
  }
  Raw& raw() { return raw_; }

 private:
  struct Block {
    size_t size;
    Stream stream;
  };

  void note_allocated(size_t size) {
    stats_.allocated += size;
    stats_.peak_allocated = std::max(stats_.peak_allocated, stats_.allocated);
  }

  void release_cached_locked() {
    for (auto& [stream, fl] : free_) {
      for (auto& [size, p] : fl) {
        raw_.raw_free(p);
        ++stats_.raw_frees;
        stats_.reserved -= size;
      }
      fl.clear();
    }
  }

  Raw raw_;
  std::string name_;
  mutable std::mutex mu_;
  std::map<Stream, std::multimap<size_t, void*>> free_;  // stream -> size -> free block
  std::unordered_map<void*, Block> live_;
  CudaMemoryStats stats_;
};

inline std::string format_memory_stats(const CudaMemoryStats& s) {
  auto mib = [](size_t b) { return std::to_string(b / (1 << 20)) + "." + std::to_string((b % (1 << 20)) * 10 / (1 << 20)) + " MiB"; };
  return "allocated " + mib(s.allocated) + ", reserved " + mib(s.reserved) + " (cached " + mib(s.cached()) +
         "), peak allocated " + mib(s.peak_allocated) + ", peak reserved " + mib(s.peak_reserved) +
         ", cudaMalloc calls " + std::to_string(s.raw_allocs) + ", cudaFree calls " + std::to_string(s.raw_frees);
}

}  // namespace fm
