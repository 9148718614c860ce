// Streams, events, the current stream, cuBLAS handles, pinned buffers and the CUDA error
// messages (tensor/cuda_runtime.h, tensor/cuda.h).
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "tensor/cuda.h"
#include "tensor/device.h"
#include "tensor/error.h"

#ifdef FERMATA_WITH_CUDA
#include "tensor/cuda_runtime.h"
#endif

namespace fm {

namespace {
std::atomic<bool> g_allow_tf32{false};
}  // namespace

void set_cuda_matmul_allow_tf32(bool allow) { g_allow_tf32 = allow; }
bool cuda_matmul_allow_tf32() { return g_allow_tf32; }

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_;
    size_ = o.size_;
    pinned_ = o.pinned_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

PinnedBuffer::~PinnedBuffer() { release(); }

#ifdef FERMATA_WITH_CUDA

void cuda_fail(cudaError_t e, const char* op, const char* expr, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so that the next call does not report it again
  fail(op, ": CUDA error ", cudaGetErrorName(e), " (", cudaGetErrorString(e), ") from ", expr, " at ",
       file, ":", line);
}

void cublas_fail(cublasStatus_t s, const char* op, const char* expr, const char* file, int line) {
  fail(op, ": cuBLAS error ", cublasGetStatusName(s), " (", cublasGetStatusString(s), ") from ", expr,
       " at ", file, ":", line);
}

CudaDeviceGuard::CudaDeviceGuard(int device) {
  FM_CUDA_CHECK(cudaGetDevice(&prev_), "cuda device guard");
  if (prev_ != device) {
    FM_CUDA_CHECK(cudaSetDevice(device), "cuda device guard");
    changed_ = true;
  }
}
CudaDeviceGuard::~CudaDeviceGuard() {
  if (changed_) cudaSetDevice(prev_);
}

CudaStream::CudaStream(int device) : device_(device) {
  CudaDeviceGuard g(device);
  FM_CUDA_CHECK(cudaStreamCreate(&s_), "CudaStream");
}
CudaStream::~CudaStream() {
  if (s_) cudaStreamDestroy(s_);
}
void CudaStream::synchronize() const { FM_CUDA_CHECK(cudaStreamSynchronize(s_), "CudaStream::synchronize"); }

CudaEvent::CudaEvent(bool timing) {
  FM_CUDA_CHECK(cudaEventCreateWithFlags(&e_, timing ? cudaEventDefault : cudaEventDisableTiming), "CudaEvent");
}
CudaEvent::~CudaEvent() {
  if (e_) cudaEventDestroy(e_);
}
void CudaEvent::record(cudaStream_t s) { FM_CUDA_CHECK(cudaEventRecord(e_, s), "CudaEvent::record"); }
void CudaEvent::synchronize() const { FM_CUDA_CHECK(cudaEventSynchronize(e_), "CudaEvent::synchronize"); }
bool CudaEvent::query() const {
  const cudaError_t e = cudaEventQuery(e_);
  if (e == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  FM_CUDA_CHECK(e, "CudaEvent::query");
  return true;
}
float CudaEvent::elapsed_ms(const CudaEvent& end) const {
  float ms = 0;
  FM_CUDA_CHECK(cudaEventElapsedTime(&ms, e_, end.e_), "CudaEvent::elapsed_ms");
  return ms;
}

namespace {
constexpr int kMaxDevices = 64;
thread_local cudaStream_t t_current[kMaxDevices] = {};

void check_device(int device, const char* op) {
  FM_CHECK(device >= 0 && device < cuda_device_count() && device < kMaxDevices, op, ": cuda:", device,
           " is not available (this machine has ", cuda_device_count(), " CUDA device(s))");
}
}  // namespace

cudaStream_t cuda_current_stream(int device) {
  check_device(device, "cuda_current_stream");
  return t_current[device];
}
void cuda_set_current_stream(int device, cudaStream_t s) {
  check_device(device, "cuda_set_current_stream");
  t_current[device] = s;
}

void cuda_copy_async(void* dst, const void* src, size_t nbytes, cudaStream_t s) {
  if (nbytes == 0) return;
  FM_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDefault, s), "cuda_copy_async");
}

void cuda_synchronize(int device) {
  const int n = cuda_device_count();
  for (int d = 0; d < n; ++d) {
    if (device >= 0 && d != device) continue;
    CudaDeviceGuard g(d);
    FM_CUDA_CHECK(cudaDeviceSynchronize(), "cuda_synchronize");
  }
}

cublasHandle_t cuda_cublas_handle(int device) {
  check_device(device, "cuda_cublas_handle");
  // Created on first use per thread and never destroyed: destroying a handle at thread exit can
  // run after the CUDA context is torn down.
  thread_local cublasHandle_t handles[kMaxDevices] = {};
  if (!handles[device]) {
    CudaDeviceGuard g(device);
    FM_CUBLAS_CHECK(cublasCreate(&handles[device]), "cuda_cublas_handle");
  }
  cublasHandle_t h = handles[device];
  FM_CUBLAS_CHECK(cublasSetStream(h, t_current[device]), "cuda_cublas_handle");
  FM_CUBLAS_CHECK(cublasSetMathMode(h, cuda_matmul_allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
                  "cuda_cublas_handle");
  return h;
}

const cudaDeviceProp& cuda_device_properties(int device) {
  check_device(device, "cuda_device_properties");
  static std::mutex mu;
  static std::vector<cudaDeviceProp>* props = new std::vector<cudaDeviceProp>();
  static std::vector<bool>* have = new std::vector<bool>();
  std::lock_guard<std::mutex> lock(mu);
  if (props->empty()) {
    props->resize(cuda_device_count());
    have->assign(cuda_device_count(), false);
  }
  if (!(*have)[device]) {
    FM_CUDA_CHECK(cudaGetDeviceProperties(&(*props)[device], device), "cuda_device_properties");
    (*have)[device] = true;
  }
  return (*props)[device];
}

PinnedBuffer::PinnedBuffer(size_t nbytes) : size_(nbytes) {
  if (nbytes == 0) return;
  if (cuda_device_count() > 0) {
    FM_CUDA_CHECK(cudaHostAlloc(&data_, nbytes, cudaHostAllocDefault), "PinnedBuffer");
    pinned_ = true;
  } else {
    data_ = std::aligned_alloc(64, (nbytes + 63) / 64 * 64);
    FM_CHECK(data_ != nullptr, "PinnedBuffer: out of host memory allocating ", nbytes, " bytes");
  }
}

void PinnedBuffer::release() {
  if (!data_) return;
  if (pinned_) cudaFreeHost(data_);
  else std::free(data_);
  data_ = nullptr;
  size_ = 0;
}

#else

void cuda_synchronize(int) {}

PinnedBuffer::PinnedBuffer(size_t nbytes) : size_(nbytes) {
  if (nbytes == 0) return;
  data_ = std::aligned_alloc(64, (nbytes + 63) / 64 * 64);
  FM_CHECK(data_ != nullptr, "PinnedBuffer: out of host memory allocating ", nbytes, " bytes");
}

void PinnedBuffer::release() {
  if (!data_) return;
  std::free(data_);
  data_ = nullptr;
  size_ = 0;
}

#endif

}  // namespace fm
