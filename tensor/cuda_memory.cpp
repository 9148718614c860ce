// Device memory for CUDA tensors: the caching allocator (tensor/cuda_caching_allocator.h) over
// cudaMalloc/cudaFree, one per device, and the byte copies behind `to(Device::cuda())`.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "tensor/cuda.h"
#include "tensor/error.h"
#include "tensor/storage.h"

#ifdef FERMATA_WITH_CUDA
#include "tensor/cuda_runtime.h"
#endif

namespace fm {

namespace {
std::atomic<bool> g_poison{false};
}  // namespace

void cuda_poison_allocations(bool on) { g_poison = on; }
bool cuda_poison_allocations() { return g_poison; }

#ifdef FERMATA_WITH_CUDA
namespace {

struct RawCuda {
  int device = 0;
  void* raw_malloc(size_t n) {
    CudaDeviceGuard g(device);
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, n);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // not sticky: clear it so the retry and later launches see success
      return nullptr;
    }
    FM_CUDA_CHECK(e, "cuda allocator: cudaMalloc");
    return p;
  }
  void raw_free(void* p) {
    CudaDeviceGuard g(device);
    cudaFree(p);  // errors here only happen at teardown; a free must not throw
  }
};

using DeviceCache = CachingAllocator<RawCuda, cudaStream_t>;

class CudaAllocator final : public Allocator {
 public:
  explicit CudaAllocator(int device) : device_(device), cache_(RawCuda{device}, "cuda:" + std::to_string(device)) {}
  void* allocate(size_t nbytes) override {
    const cudaStream_t s = cuda_current_stream(device_);
    void* p = cache_.allocate(nbytes, s);
    if (p && g_poison) {
      CudaDeviceGuard g(device_);
      FM_CUDA_CHECK(cudaMemsetAsync(p, 0xFF, nbytes, s), "cuda allocator: poisoning a block");
    }
    return p;
  }
  void deallocate(void* p, size_t) override { cache_.deallocate(p); }
  DeviceCache& cache() { return cache_; }

 private:
  int device_;
  DeviceCache cache_;
};

// Never destroyed: tensors in static storage are freed after main returns, when the CUDA
// context may already be gone.
std::vector<CudaAllocator*>& allocators() {
  static auto* v = [] {
    auto* a = new std::vector<CudaAllocator*>();
    for (int i = 0; i < cuda_device_count(); ++i) a->push_back(new CudaAllocator(i));
    return a;
  }();
  return *v;
}

CudaAllocator& device_allocator(int device) {
  const int n = cuda_device_count();
  FM_CHECK(device >= 0 && device < n, "cuda allocator: device cuda:", device,
           " is not available (this machine has ", n, " CUDA device(s))");
  return *allocators()[device];
}

}  // namespace

int cuda_device_count() {
  static const int n = [] {
    int k = 0;
    if (cudaGetDeviceCount(&k) != cudaSuccess) {
      cudaGetLastError();  // clear the "no device" error
      return 0;
    }
    return k;
  }();
  return n;
}

Allocator& cuda_allocator(int device) { return device_allocator(device); }

CudaMemoryStats cuda_memory_stats(int device) { return device_allocator(device).cache().stats(); }
void cuda_reset_peak_memory_stats(int device) { device_allocator(device).cache().reset_peak_stats(); }
void cuda_empty_cache() {
  for (CudaAllocator* a : allocators()) a->cache().empty_cache();
}

void cuda_copy_bytes(void* dst, Device dd, const void* src, Device sd, size_t n) {
  CudaDeviceGuard g(dd.is_cuda() ? dd.index : sd.index);
  // Synchronous and on the legacy default stream, which waits for work on every blocking
  // stream: a copy back to the host sees the results of all kernels launched before it.
  FM_CUDA_CHECK(cudaMemcpy(dst, src, n, cudaMemcpyDefault), "copy_bytes");
}

#else

int cuda_device_count() { return 0; }

Allocator& cuda_allocator(int device) {
  fail("cuda allocator: cuda:", device,
       " requested but this build of fermata has no CUDA backend (configure with "
       "-DFERMATA_CUDA=ON on a machine with nvcc)");
}

void cuda_copy_bytes(void*, Device dd, const void*, Device sd, size_t) {
  fail("copy_bytes: copy from ", sd, " to ", dd, " needs the CUDA backend, which this build lacks");
}

CudaMemoryStats cuda_memory_stats(int) { return {}; }
void cuda_reset_peak_memory_stats(int) {}
void cuda_empty_cache() {}

#endif

}  // namespace fm
