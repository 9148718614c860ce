#include "tensor/storage.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include <sys/mman.h>

#include "tensor/error.h"

namespace fm {
namespace {

// Large blocks (1 MiB and up) are kept for reuse when freed, up to a byte budget: a training
// step or a benchmark loop allocates the same activation sizes again and again, and a fresh
// block from the kernel (mmap) costs a page fault and a zeroed page per 4 KiB on first touch,
// which for a 40 MB tensor is more than the arithmetic on it. Fresh large blocks are 2 MiB
// aligned and advised as transparent huge pages (512x fewer faults where THP is in "madvise"
// mode). The budget is FERMATA_CPU_CACHE_MB (default 1024; 0 turns the cache off);
// release_cached_cpu_memory() returns everything held.
class CpuAllocator final : public Allocator {
 public:
  static constexpr size_t kCacheMin = size_t{1} << 20;
  static constexpr size_t kHuge = size_t{2} << 20;

  CpuAllocator() {
    if (const char* env = std::getenv("FERMATA_CPU_CACHE_MB")) {
      char* end = nullptr;
      const long long mb = std::strtoll(env, &end, 10);
      if (end != env && mb >= 0) budget_ = static_cast<size_t>(mb) << 20;
    }
  }

  static size_t rounded(size_t nbytes) {
    // 64-byte alignment: whole cache lines and aligned AVX-512 loads; large blocks in pages.
    return nbytes >= kCacheMin ? (nbytes + 4095) / 4096 * 4096 : (nbytes + 63) / 64 * 64;
  }

  void* allocate(size_t nbytes) override {
    if (nbytes == 0) return nullptr;
    const size_t r = rounded(nbytes);
    if (r >= kCacheMin) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(r);
      if (it != free_.end()) {
        void* p = it->second;
        free_.erase(it);
        held_ -= r;
        return p;
      }
    }
    void* p = std::aligned_alloc(r >= kHuge ? kHuge : 64, r >= kHuge ? (r + kHuge - 1) / kHuge * kHuge : r);
    if (p == nullptr && r >= kCacheMin) {  // memory held in the cache may be what is missing
      release();
      p = std::aligned_alloc(r >= kHuge ? kHuge : 64, r >= kHuge ? (r + kHuge - 1) / kHuge * kHuge : r);
    }
    FM_CHECK(p != nullptr, "cpu allocator: out of memory allocating ", nbytes, " bytes");
#ifdef MADV_HUGEPAGE
    if (r >= kHuge) madvise(p, (r + kHuge - 1) / kHuge * kHuge, MADV_HUGEPAGE);
#endif
    return p;
  }

  void deallocate(void* p, size_t nbytes) override {
    if (p == nullptr) return;
    const size_t r = rounded(nbytes);
    if (r >= kCacheMin) {
      std::lock_guard<std::mutex> lock(mu_);
      if (held_ + r <= budget_) {
        free_.emplace(r, p);
        held_ += r;
        return;
      }
    }
    std::free(p);
  }

  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [r, p] : free_) std::free(p);
    free_.clear();
    held_ = 0;
  }

 private:
  std::mutex mu_;
  std::unordered_multimap<size_t, void*> free_;  // rounded size -> free block
  size_t held_ = 0;
  size_t budget_ = size_t{1024} << 20;
};

// Never destroyed: tensors in static storage may be freed after main returns. The blocks it
// holds stay reachable, so leak checkers do not report them.
CpuAllocator& cpu_allocator() {
  static CpuAllocator* a = new CpuAllocator();
  return *a;
}

}  // namespace

// Defined in tensor/cuda_memory.cpp (real with CUDA, an error naming the device without).
Allocator& cuda_allocator(int device);
void cuda_copy_bytes(void* dst, Device dd, const void* src, Device sd, size_t n);

Allocator& allocator_for(Device d) {
  if (d.is_cpu()) return cpu_allocator();
  return cuda_allocator(d.index);
}

void release_cached_cpu_memory() { cpu_allocator().release(); }

void copy_bytes(void* dst, Device dd, const void* src, Device sd, size_t nbytes) {
  if (nbytes == 0) return;
  if (dd.is_cpu() && sd.is_cpu()) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  cuda_copy_bytes(dst, dd, src, sd, nbytes);
}

Storage::Storage(size_t n, Device d) : nbytes(n), device(d) { data = allocator_for(d).allocate(n); }

Storage::Storage(void* p, size_t n, Device d, std::function<void(void*)> release)
    : data(p), nbytes(n), device(d), release_(std::move(release)) {}

Storage::~Storage() {
  if (release_) {
    release_(data);
  } else if (data) {
    allocator_for(device).deallocate(data, nbytes);
  }
}

}  // namespace fm
