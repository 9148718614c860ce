// The device's memory bandwidth as a device-to-device cudaMemcpy measures it (bytes read plus
// bytes written): the roofline that gpu_bench_table.py divides the memory-bound kernels by.
#ifdef FERMATA_WITH_CUDA
#include "cuda/cuda_bench_util.h"

namespace fm::bench {
namespace {

void BM_cuda_memcpy_d2d(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t n = state.range(0);
  const Tensor a = cuda_input({n}, 1);
  const Tensor b = empty({n}, {.device = Device::cuda()});
  time_cuda(state, [&] {
    FM_CUDA_CHECK(cudaMemcpyAsync(b.raw_data(), a.raw_data(), n * sizeof(float), cudaMemcpyDeviceToDevice,
                                  cuda_current_stream()),
                  "memcpy bench");
  });
  cuda_counters(state, 2.0 * n * sizeof(float));
}
BENCHMARK(BM_cuda_memcpy_d2d)->Arg(1 << 24)->Arg(1 << 26)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fm::bench
#endif
