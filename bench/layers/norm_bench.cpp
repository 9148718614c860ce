// batch_norm (training, [8, 64, 128, 130]: the first block of the blog's spectrogram CNN),
// layer_norm ([8, 256, 512]: a Transformer's activations) and cross_entropy ([256, 1000]),
// forward alone and forward + backward (gradients of every input via autograd::grad, so
// nothing accumulates between iterations). Compare with PyTorch:
//   /usr/bin/python3 bench/compare_torch_norm_loss.py <build>/bench/fermata_bench
// GB/s counts the minimal traffic: forward reads x and writes y (2 passes over the tensor);
// backward reads g and x and writes the input gradient (3 passes); parameters are negligible.
#include "bench_util.h"

namespace fm::bench {
namespace {

Tensor leaf(const Shape& s, uint64_t seed, double lo = -3, double hi = 3) {
  Tensor t = random_input(s, seed);
  {
    NoGradGuard ng;
    t = add(mul(t, (hi - lo) / 6.0), (hi + lo) / 2.0);
  }
  t = t.detach();
  t.requires_grad_(true);
  return t;
}

void BM_batch_norm2d_fwd(benchmark::State& state) {
  NoGradGuard ng;
  const Shape s = {8, 64, 128, 130};
  const Tensor x = random_input(s, 1), w = ones({64}), b = zeros({64});
  Tensor rm = zeros({64}), rv = ones({64});
  for (auto _ : state) {
    Tensor y = batch_norm(x, rm, rv, w, b, /*training=*/true, 0.1, 1e-5);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2.0 * shape_numel(s) * sizeof(float));
}
BENCHMARK(BM_batch_norm2d_fwd)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_batch_norm2d_fwd_bwd(benchmark::State& state) {
  const Shape s = {8, 64, 128, 130};
  const Tensor x = leaf(s, 1), w = leaf({64}, 2, 0.5, 1.5), b = leaf({64}, 3);
  const Tensor g = random_input(s, 4);
  Tensor rm = zeros({64}), rv = ones({64});
  for (auto _ : state) {
    Tensor y = batch_norm(x, rm, rv, w, b, /*training=*/true, 0.1, 1e-5);
    auto grads = autograd::grad({y}, {x, w, b}, {g});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  set_bytes(state, 5.0 * shape_numel(s) * sizeof(float));
}
BENCHMARK(BM_batch_norm2d_fwd_bwd)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_layer_norm_fwd(benchmark::State& state) {
  NoGradGuard ng;
  const Shape s = {8, 256, 512};
  const Tensor x = random_input(s, 5), w = ones({512}), b = zeros({512});
  for (auto _ : state) {
    Tensor y = layer_norm(x, {512}, w, b, 1e-5);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2.0 * shape_numel(s) * sizeof(float));
}
BENCHMARK(BM_layer_norm_fwd)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_layer_norm_fwd_bwd(benchmark::State& state) {
  const Shape s = {8, 256, 512};
  const Tensor x = leaf(s, 5), w = leaf({512}, 6, 0.5, 1.5), b = leaf({512}, 7);
  const Tensor g = random_input(s, 8);
  for (auto _ : state) {
    Tensor y = layer_norm(x, {512}, w, b, 1e-5);
    auto grads = autograd::grad({y}, {x, w, b}, {g});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  set_bytes(state, 5.0 * shape_numel(s) * sizeof(float));
}
BENCHMARK(BM_layer_norm_fwd_bwd)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_cross_entropy_fwd(benchmark::State& state) {
  NoGradGuard ng;
  const Tensor x = random_input({256, 1000}, 9);
  const Tensor t = randint(0, 1000, {256});
  for (auto _ : state) {
    Tensor l = nn::cross_entropy(x, t);
    benchmark::DoNotOptimize(l.raw_data());
  }
  set_bytes(state, 1.0 * 256 * 1000 * sizeof(float));
}
BENCHMARK(BM_cross_entropy_fwd)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_cross_entropy_fwd_bwd(benchmark::State& state) {
  const Tensor x = leaf({256, 1000}, 9);
  const Tensor t = randint(0, 1000, {256});
  for (auto _ : state) {
    Tensor l = nn::cross_entropy(x, t);
    auto grads = autograd::grad({l}, {x});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  // forward reads x; backward writes the gradient (from the saved log-probabilities)
  set_bytes(state, 2.0 * 256 * 1000 * sizeof(float));
}
BENCHMARK(BM_cross_entropy_fwd_bwd)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fm::bench
