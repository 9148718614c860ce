// CUDA batch norm, layer norm, pooling, dropout and fused Adam, v1 and v2 (the last argument),
// float32, on the models' shapes: batch norm after MusicCNN's conv3 [8, 256, 64, 65] and
// HarmonicCNN's first convs [8, 32, 126, 128] (statistics + normalisation, and the training
// backward), layer norm over Transformer rows [4096, 512], MusicCNN's 2x2 max pool
// [8, 64, 128, 130], dropout of 16M elements, AdamW over 10M parameters. All are bound by
// memory: the "bytes" counter is what each must read and write once.
#ifdef FERMATA_WITH_CUDA
#include "cuda/cuda_bench_util.h"
#include "kernels/cuda/ops.h"
#include "kernels/dropout.h"
#include "kernels/norm.h"
#include "kernels/optim.h"
#include "kernels/pool.h"

namespace fm::bench {
namespace {

Shape bn_shape(int64_t which) { return which == 0 ? Shape{8, 256, 64, 65} : Shape{8, 32, 126, 128}; }

void BM_cuda_batch_norm(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const Shape shape = bn_shape(state.range(0));
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(1)));
  const Tensor x = cuda_input(shape, 11);
  const Tensor w = cuda_input({shape[1]}, 12), b = cuda_input({shape[1]}, 13);
  time_cuda(state, [&] {
    const auto [mean, var] = kernels::batch_norm_stats(x);
    benchmark::DoNotOptimize(kernels::batch_norm_apply(x, mean, var, w, b).raw_data());
  });
  kernels::cuda::set_kernel_variant(2);
  // the statistics read x once, the normalisation reads it again and writes y
  cuda_counters(state, 3.0 * x.numel() * sizeof(float));
}
BENCHMARK(BM_cuda_batch_norm)->ArgsProduct({{0, 1}, {1, 2}})->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_cuda_batch_norm_backward(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const Shape shape = bn_shape(state.range(0));
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(1)));
  const Tensor x = cuda_input(shape, 14), g = cuda_input(shape, 15), w = cuda_input({shape[1]}, 16);
  const auto [mean, var] = kernels::batch_norm_stats(x);
  time_cuda(state, [&] {
    const auto [gx, gw, gb] = kernels::batch_norm_backward(g, x, mean, var, w, true, true, true, true);
    benchmark::DoNotOptimize(gx.raw_data());
  });
  kernels::cuda::set_kernel_variant(2);
  // the sums read g and x, grad_x reads them again and writes
  cuda_counters(state, 5.0 * x.numel() * sizeof(float));
}
BENCHMARK(BM_cuda_batch_norm_backward)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_cuda_layer_norm(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t rows = state.range(0), cols = state.range(1);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(2)));
  const Tensor x = cuda_input({rows, cols}, 17), w = cuda_input({cols}, 18), b = cuda_input({cols}, 19);
  time_cuda(state, [&] { benchmark::DoNotOptimize(std::get<0>(kernels::layer_norm(x, 1, w, b, 1e-5)).raw_data()); });
  kernels::cuda::set_kernel_variant(2);
  cuda_counters(state, 2.0 * rows * cols * sizeof(float));
}
BENCHMARK(BM_cuda_layer_norm)->ArgsProduct({{4096}, {512}, {1, 2}})->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_cuda_layer_norm_backward(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t rows = state.range(0), cols = state.range(1);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(2)));
  const Tensor x = cuda_input({rows, cols}, 20), g = cuda_input({rows, cols}, 21), w = cuda_input({cols}, 22);
  const auto [y, mean, rstd] = kernels::layer_norm(x, 1, w, Tensor(), 1e-5);
  time_cuda(state, [&] {
    const auto [gx, gw, gb] = kernels::layer_norm_backward(g, x, mean, rstd, w, 1, true, true, true);
    benchmark::DoNotOptimize(gx.raw_data());
  });
  kernels::cuda::set_kernel_variant(2);
  // grad_x reads g and x and writes; the weight/bias sums read g and x again
  cuda_counters(state, 5.0 * rows * cols * sizeof(float));
}
BENCHMARK(BM_cuda_layer_norm_backward)
    ->ArgsProduct({{4096}, {512}, {1, 2}})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_cuda_max_pool2d(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(0)));
  const Tensor x = cuda_input({8, 64, 128, 130}, 23);
  const kernels::PoolAxis h = kernels::pool_axis(128, 64, 2, 2, 0, 1, true);
  const kernels::PoolAxis w = kernels::pool_axis(130, 65, 2, 2, 0, 1, true);
  time_cuda(state, [&] { benchmark::DoNotOptimize(kernels::max_pool2d(x, h, w).first.raw_data()); });
  kernels::cuda::set_kernel_variant(2);
  // reads x, writes the maxima (float) and their positions (int64)
  const double outs = 8.0 * 64 * 64 * 65;
  cuda_counters(state, x.numel() * sizeof(float) + outs * (sizeof(float) + sizeof(int64_t)));
}
BENCHMARK(BM_cuda_max_pool2d)->Arg(1)->Arg(2)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_cuda_dropout(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(0)));
  const Tensor x = cuda_input({int64_t{1} << 24}, 24);
  uint64_t base = 0;
  time_cuda(state, [&] {
    benchmark::DoNotOptimize(kernels::dropout(x, 0.1, 1234, base).first.raw_data());
    base += (x.numel() + 3) / 4;
  });
  kernels::cuda::set_kernel_variant(2);
  cuda_counters(state, 3.0 * x.numel() * sizeof(float));  // reads x, writes y and the mask
}
BENCHMARK(BM_cuda_dropout)->Arg(1)->Arg(2)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_cuda_adamw(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(0)));
  const int64_t n = 10'000'000;
  const Tensor p = cuda_input({n}, 25), g = cuda_input({n}, 26);
  const Tensor m = zeros({n}, {.device = Device::cuda()}), v = zeros({n}, {.device = Device::cuda()});
  int64_t step = 0;
  time_cuda(state, [&] {
    kernels::adam_step(p, g, m, v, Tensor(),
                       kernels::AdamHyper{.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                                          .weight_decay = 1e-2, .step = ++step, .amsgrad = false,
                                          .decoupled = true, .maximize = false});
  });
  kernels::cuda::set_kernel_variant(2);
  // reads param, grad and both moments; writes param and both moments
  cuda_counters(state, 7.0 * n * sizeof(float));
}
BENCHMARK(BM_cuda_adamw)->Arg(1)->Arg(2)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fm::bench
#endif
