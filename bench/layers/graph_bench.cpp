// GCNConv forward + backward (gradients of x, lin.weight and bias) on a random graph of 1024
// nodes with 8 incoming edges per node on average (8192 edges, + 1024 self-loops), 128 -> 128
// features, float32 — issue 3's "GCNConv on 1024 nodes". Compare with PyTorch:
// /usr/bin/python3 bench/compare_torch_graph.py <build>/bench/fermata_bench (same graph sizes,
// same work: gcn_norm + x @ W^T + sparse aggregation + bias, and their gradients).
// cached:0 normalises the graph and builds its CSR on every call (torch_geometric's default);
// cached:1 reuses them (GCNConv(cached=true)). BM_gcn_spmm is the aggregation alone.
// GFLOP/s counts the dense part (3 GEMMs of 2*N*in*out) plus 2*F per edge for the forward
// aggregation and again for its transpose in backward.
#include "bench_util.h"

namespace fm::bench {
namespace {

Tensor random_graph(int64_t n, int64_t edges, uint64_t seed) {
  Generator g(seed);
  return randint(0, n, {2, edges}, {.dtype = DType::Int64}, &g);
}

// args: N, deg, F, cached
void BM_gcnconv_fwd_bwd(benchmark::State& state) {
  const int64_t N = state.range(0), deg = state.range(1), F = state.range(2);
  const bool cached = state.range(3) != 0;
  const Tensor ei = random_graph(N, N * deg, 1);
  Tensor x = random_input({N, F}, 2).requires_grad_(true);
  const Tensor g = random_input({N, F}, 3);
  nn::GCNConv conv(F, F, {.cached = cached});
  Tensor w = conv.lin->weight, b = conv.bias;
  for (auto _ : state) {
    Tensor y = conv(x, ei);
    auto grads = autograd::grad({y}, {x, w, b}, {g});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  const double E = static_cast<double>(N * deg + N);
  set_flops(state, 3.0 * 2.0 * N * F * F + 2.0 * 2.0 * E * F);
}
BENCHMARK(BM_gcnconv_fwd_bwd)
    ->ArgNames({"N", "deg", "F", "cached"})
    ->Args({1024, 8, 128, 0})
    ->Args({1024, 8, 128, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// forward only, no graph
void BM_gcnconv_fwd(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t N = state.range(0), deg = state.range(1), F = state.range(2);
  const Tensor ei = random_graph(N, N * deg, 1);
  const Tensor x = random_input({N, F}, 2);
  nn::GCNConv conv(F, F, {.cached = state.range(3) != 0});
  for (auto _ : state) {
    Tensor y = conv(x, ei);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_flops(state, 2.0 * N * F * F + 2.0 * (N * deg + N) * F);
}
BENCHMARK(BM_gcnconv_fwd)
    ->ArgNames({"N", "deg", "F", "cached"})
    ->Args({1024, 8, 128, 0})
    ->Args({1024, 8, 128, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// the weighted aggregation alone: y = A_hat x on the normalised graph (CSR built outside)
void BM_gcn_spmm(benchmark::State& state) {
  NoGradGuard ng;
  const int64_t N = state.range(0), deg = state.range(1), F = state.range(2);
  const GcnNorm n = gcn_norm(random_graph(N, N * deg, 1), N);
  const CsrGraph gr = CsrGraph::from_edge_index(n.edge_index, N);
  const Tensor x = random_input({N, F}, 2);
  for (auto _ : state) {
    Tensor y = spmm(gr, x, n.edge_weight);
    benchmark::DoNotOptimize(y.raw_data());
  }
  const double E = static_cast<double>(gr.num_edges());
  set_flops(state, 2.0 * E * F);
  // bytes: x rows gathered once per edge (at least once), weights, indices, output
  set_bytes(state, 4.0 * N * F * 2 + E * (4 + 8 + 8));
}
BENCHMARK(BM_gcn_spmm)
    ->ArgNames({"N", "deg", "F"})
    ->Args({1024, 8, 128})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace fm::bench
