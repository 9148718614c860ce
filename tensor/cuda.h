#pragma once
// The CUDA runtime as the rest of fermata sees it, without CUDA headers: memory statistics and
// the cache, synchronisation, the TF32 switch and pinned host buffers. Every function works in
// a build without CUDA (statistics are zero, synchronise does nothing, pinned buffers are
// ordinary host memory), so callers need no #ifdef. Streams, events and cuBLAS handles are in
// tensor/cuda_runtime.h (CUDA builds only).
#include <cstddef>

#include "tensor/cuda_caching_allocator.h"

namespace fm {

// Statistics of the caching allocator of cuda:device (PyTorch's torch.cuda.memory_stats).
CudaMemoryStats cuda_memory_stats(int device = 0);
void cuda_reset_peak_memory_stats(int device = 0);
// Returns every cached, unused block of every device to the driver (torch.cuda.empty_cache).
void cuda_empty_cache();
// Testing aid: fill every block the CUDA allocator hands out with 0xFF bytes (NaN for float32
// and float64), so that an output element a kernel forgot to write shows up as NaN.
void cuda_poison_allocations(bool on);
bool cuda_poison_allocations();

// Waits for all work on cuda:device (device < 0: on every device).
void cuda_synchronize(int device = -1);

// Lets float32 matmuls on CUDA use TF32 tensor cores (torch.backends.cuda.matmul.allow_tf32;
// off by default: TF32 keeps 10 mantissa bits, about 3e-4 relative error).
void set_cuda_matmul_allow_tf32(bool allow);
bool cuda_matmul_allow_tf32();

// Page-locked host memory (cudaHostAlloc): copies from it to the device run at full PCIe
// speed and can be asynchronous (cuda_copy_async in tensor/cuda_runtime.h). Used by the data
// loader to stage batches. Without CUDA it is ordinary aligned host memory.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t nbytes);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& o) noexcept : data_(o.data_), size_(o.size_), pinned_(o.pinned_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }
  bool pinned() const { return pinned_; }  // false without CUDA

 private:
  void release();
  void* data_ = nullptr;
  size_t size_ = 0;
  bool pinned_ = false;
};

}  // namespace fm
