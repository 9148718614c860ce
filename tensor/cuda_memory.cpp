// Device memory for CUDA tensors. The caching allocator and streams arrive with the CUDA
// backend issue; this is the plain cudaMalloc/cudaMemcpy path that `to(Device::cuda())` needs.
#include <memory>
#include <string>
#include <vector>

#include "tensor/error.h"
#include "tensor/storage.h"

#ifdef FERMATA_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace fm {

#ifdef FERMATA_WITH_CUDA
namespace {

void check_cuda(cudaError_t e, const char* what, const char* file, int line) {
  if (e != cudaSuccess)
    fail(what, ": CUDA error ", cudaGetErrorName(e), " (", cudaGetErrorString(e), ") at ", file,
         ":", line);
}
#define FM_CUDA_CHECK(expr, what) check_cuda((expr), what, __FILE__, __LINE__)

class CudaAllocator final : public Allocator {
 public:
  explicit CudaAllocator(int device) : device_(device) {}
  void* allocate(size_t nbytes) override {
    if (nbytes == 0) return nullptr;
    FM_CUDA_CHECK(cudaSetDevice(device_), "cuda allocator: selecting the device");
    void* p = nullptr;
    FM_CUDA_CHECK(cudaMalloc(&p, nbytes), "cuda allocator: cudaMalloc");
    return p;
  }
  void deallocate(void* p, size_t) override {
    if (p) cudaFree(p);  // never throws from a destructor path
  }

 private:
  int device_;
};

}  // namespace

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

Allocator& cuda_allocator(int device) {
  const int n = cuda_device_count();
  FM_CHECK(device >= 0 && device < n, "cuda allocator: device cuda:", device,
           " is not available (this machine has ", n, " CUDA device(s))");
  static std::vector<std::unique_ptr<CudaAllocator>> allocators = [n] {
    std::vector<std::unique_ptr<CudaAllocator>> v;
    for (int i = 0; i < n; ++i) v.push_back(std::make_unique<CudaAllocator>(i));
    return v;
  }();
  return *allocators[device];
}

void cuda_copy_bytes(void* dst, Device dd, const void* src, Device sd, size_t n) {
  cudaMemcpyKind kind = cudaMemcpyDefault;  // unified addressing picks the direction
  if (dd.is_cuda()) FM_CUDA_CHECK(cudaSetDevice(dd.index), "copy_bytes: selecting the device");
  else FM_CUDA_CHECK(cudaSetDevice(sd.index), "copy_bytes: selecting the device");
  FM_CUDA_CHECK(cudaMemcpy(dst, src, n, kind), "copy_bytes: cudaMemcpy");
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

#endif

}  // namespace fm
