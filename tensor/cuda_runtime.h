#pragma once
// The CUDA runtime for code that includes CUDA headers (the kernels, tests and benchmarks of a
// CUDA build): error checks, RAII streams and events, the current stream, asynchronous copies
// and cuBLAS handles. Everything else uses tensor/cuda.h.
#ifndef FERMATA_WITH_CUDA
#error "tensor/cuda_runtime.h is for CUDA builds (FERMATA_WITH_CUDA); use tensor/cuda.h"
#endif
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "tensor/cuda.h"
#include "tensor/error.h"

namespace fm {

[[noreturn]] void cuda_fail(cudaError_t e, const char* op, const char* expr, const char* file, int line);
[[noreturn]] void cublas_fail(cublasStatus_t s, const char* op, const char* expr, const char* file, int line);

}  // namespace fm

// FM_CUDA_CHECK(cudaMemcpy(...), "copy_"): throws fm::Error naming the op, the call, the
// CUDA error, the file and the line.
#define FM_CUDA_CHECK(expr, op)                                                     \
  do {                                                                              \
    const cudaError_t fm_e_ = (expr);                                               \
    if (fm_e_ != cudaSuccess) ::fm::cuda_fail(fm_e_, op, #expr, __FILE__, __LINE__); \
  } while (0)
#define FM_CUBLAS_CHECK(expr, op)                                                              \
  do {                                                                                         \
    const cublasStatus_t fm_s_ = (expr);                                                       \
    if (fm_s_ != CUBLAS_STATUS_SUCCESS) ::fm::cublas_fail(fm_s_, op, #expr, __FILE__, __LINE__); \
  } while (0)
// After a kernel launch: a bad configuration or a fault from earlier work shows up here.
#define FM_CUDA_CHECK_LAUNCH(op) FM_CUDA_CHECK(cudaGetLastError(), op)

namespace fm {

// An owned stream (non-blocking with respect to nothing: it orders with the legacy default
// stream, which the synchronous copies of tensor/ use).
class CudaStream {
 public:
  explicit CudaStream(int device = 0);
  ~CudaStream();
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  cudaStream_t get() const { return s_; }
  int device() const { return device_; }
  void synchronize() const;

 private:
  cudaStream_t s_ = nullptr;
  int device_ = 0;
};

class CudaEvent {
 public:
  explicit CudaEvent(bool timing = true);
  ~CudaEvent();
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  cudaEvent_t get() const { return e_; }
  void record(cudaStream_t s);
  void synchronize() const;
  bool query() const;  // true once the recorded work has finished
  // Milliseconds between two recorded, completed events.
  float elapsed_ms(const CudaEvent& end) const;

 private:
  cudaEvent_t e_ = nullptr;
};

// The stream that kernels of this thread launch on for `device` (initially the legacy default
// stream, 0). The caching allocator files freed blocks under it too.
cudaStream_t cuda_current_stream(int device = 0);
void cuda_set_current_stream(int device, cudaStream_t s);

// Makes `s` the current stream of `device` for a scope.
class CudaStreamGuard {
 public:
  CudaStreamGuard(int device, cudaStream_t s) : device_(device), prev_(cuda_current_stream(device)) {
    cuda_set_current_stream(device, s);
  }
  explicit CudaStreamGuard(const CudaStream& s) : CudaStreamGuard(s.device(), s.get()) {}
  ~CudaStreamGuard() { cuda_set_current_stream(device_, prev_); }
  CudaStreamGuard(const CudaStreamGuard&) = delete;
  CudaStreamGuard& operator=(const CudaStreamGuard&) = delete;

 private:
  int device_;
  cudaStream_t prev_;
};

// Makes `device` current for a scope (kernels launch on the current device).
class CudaDeviceGuard {
 public:
  explicit CudaDeviceGuard(int device);
  ~CudaDeviceGuard();
  CudaDeviceGuard(const CudaDeviceGuard&) = delete;
  CudaDeviceGuard& operator=(const CudaDeviceGuard&) = delete;

 private:
  int prev_ = 0;
  bool changed_ = false;
};

// Asynchronous copy on `s` (host memory should be a PinnedBuffer for it to be truly async).
void cuda_copy_async(void* dst, const void* src, size_t nbytes, cudaStream_t s);

// The cuBLAS handle of this thread for `device`, bound to the current stream and set to the
// TF32 mode of cuda_matmul_allow_tf32(). One per device and thread: a handle is not safe to
// share between threads that set different streams.
cublasHandle_t cuda_cublas_handle(int device = 0);

// Device properties read once per device (multiprocessors, shared memory, ...).
const cudaDeviceProp& cuda_device_properties(int device = 0);

}  // namespace fm
