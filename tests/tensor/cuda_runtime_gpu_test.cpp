// The CUDA runtime on a real device: caching allocator statistics and reuse, streams and
// events, pinned buffers with asynchronous copies, the copy kernel behind to()/contiguous()
// (label gpu; skipped without a GPU).
#include <cstring>

#include "support/test_support.h"
#include "tensor/cuda.h"
#ifdef FERMATA_WITH_CUDA
#include "tensor/cuda_runtime.h"
#endif

using namespace fm;

TEST(CudaRuntime, AllocatorReusesBlocksAcrossSteps) {
  FM_SKIP_WITHOUT_GPU();
  cuda_synchronize();
  const CudaMemoryStats before = cuda_memory_stats();
  for (int step = 0; step < 5; ++step) {
    Tensor a = empty({1000, 1000}, {.device = Device::cuda()});
    Tensor b = empty({7}, {.device = Device::cuda()});
  }
  const CudaMemoryStats after = cuda_memory_stats();
  EXPECT_LE(after.raw_allocs - before.raw_allocs, 2);
  EXPECT_GE(after.cache_hits - before.cache_hits, 8);
  EXPECT_EQ(after.allocated, before.allocated);
  EXPECT_GE(after.peak_allocated, size_t{4000000});
  cuda_empty_cache();
  EXPECT_EQ(cuda_memory_stats().reserved, cuda_memory_stats().allocated);
}

TEST(CudaRuntime, OutOfMemoryNamesTheSize) {
  FM_SKIP_WITHOUT_GPU();
  EXPECT_THROW_MSG(empty({int64_t{1} << 45}, {.dtype = kFloat64, .device = Device::cuda()}), "out of memory allocating");
  Tensor ok = to(ones({3}), Device::cuda());  // the device still works afterwards
  EXPECT_EQ(ok.item<float>(), 1.0f);
}

TEST(CudaRuntime, StridedAndConvertingCopiesOnTheDevice) {
  FM_SKIP_WITHOUT_GPU();
  const Tensor x = rand({37, 53});
  const Tensor d = to(x, Device::cuda());
  const Tensor dt = contiguous(t(d));  // the copy kernel, on the device
  EXPECT_EQ(dt.device(), Device::cuda());
  EXPECT_TRUE(equal(to(dt, Device::cpu()), contiguous(t(x))));
  const Tensor d64 = to(slice(d, 1, 1, 53, 3), kFloat64);  // strided + converting
  EXPECT_TRUE(equal(to(d64, Device::cpu()), to(slice(x, 1, 1, 53, 3), kFloat64)));
  const Tensor b = to(to(x, kBool), Device::cuda());
  EXPECT_TRUE(equal(to(to(d, kBool), Device::cpu()), to(b, Device::cpu())));
}

#ifdef FERMATA_WITH_CUDA
TEST(CudaRuntime, StreamsEventsAndPinnedAsyncCopies) {
  FM_SKIP_WITHOUT_GPU();
  const size_t n = 1 << 20;
  PinnedBuffer src(n * sizeof(float)), dst(n * sizeof(float));
  EXPECT_TRUE(src.pinned());
  float* s = static_cast<float*>(src.data());
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<float>(i % 977) * 0.5f;
  CudaStream stream;
  Tensor dev;
  {
    CudaStreamGuard guard(stream);
    EXPECT_EQ(cuda_current_stream(), stream.get());
    dev = empty({static_cast<int64_t>(n)}, {.device = Device::cuda()});
    CudaEvent start, stop;
    start.record(stream.get());
    cuda_copy_async(dev.raw_data(), src.data(), n * sizeof(float), stream.get());
    cuda_copy_async(dst.data(), dev.raw_data(), n * sizeof(float), stream.get());
    stop.record(stream.get());
    stop.synchronize();
    EXPECT_TRUE(stop.query());
    EXPECT_GE(start.elapsed_ms(stop), 0.0f);
  }
  EXPECT_EQ(cuda_current_stream(), nullptr);
  EXPECT_EQ(std::memcmp(src.data(), dst.data(), n * sizeof(float)), 0);
  EXPECT_NE(cuda_cublas_handle(), nullptr);
}

TEST(CudaRuntime, ErrorsNameTheOpFileAndLine) {
  FM_SKIP_WITHOUT_GPU();
  try {
    FM_CUDA_CHECK(cudaSetDevice(cuda_device_count() + 7), "my_op");  // a non-sticky error
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("my_op: CUDA error"), std::string::npos) << m;
    EXPECT_NE(m.find("cuda_runtime_gpu_test.cpp:"), std::string::npos) << m;
  }
  cuda_synchronize();  // the device is usable afterwards
}
#endif
