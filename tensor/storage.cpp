#include "tensor/storage.h"

#include <cstdlib>
#include <cstring>

#include "tensor/error.h"

namespace fm {
namespace {

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    if (nbytes == 0) return nullptr;
    // 64-byte alignment: whole cache lines and aligned AVX-512 loads.
    const size_t rounded = (nbytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    FM_CHECK(p != nullptr, "cpu allocator: out of memory allocating ", nbytes, " bytes");
    return p;
  }
  void deallocate(void* p, size_t) override { std::free(p); }
};

}  // namespace

// Defined in tensor/cuda_memory.cpp (real with CUDA, an error naming the device without).
Allocator& cuda_allocator(int device);
void cuda_copy_bytes(void* dst, Device dd, const void* src, Device sd, size_t n);

Allocator& allocator_for(Device d) {
  static CpuAllocator cpu;
  if (d.is_cpu()) return cpu;
  return cuda_allocator(d.index);
}

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
