// nn::MultiheadAttention, nn::TransformerEncoderLayer and nn::RelativeMultiheadAttention,
// float32, at issue 3's shape (bench/compare_torch_attention.py runs the same in PyTorch):
//   d_model 512, 8 heads, sequence 256, batch 4, time-major input [L, N, E], self-attention.
// MultiheadAttention: dropout 0, need_weights = false. TransformerEncoderLayer: dim_feedforward
// 2048, relu, post-norm, dropout 0.1 in training mode (as a training step runs it).
// Relative attention: causal, one table shared by the heads, max_len = sequence length.
// "fwd_bwd": forward, then backward of the output with a fixed upstream gradient (parameter
// gradients cleared each iteration, as set_to_none does); "fwd": inference under NoGradGuard
// in eval mode. Arguments: d_model, heads, sequence, batch.
#include "bench_util.h"

namespace fm::bench {
namespace {

// multiply-adds of the GEMMs of one attention block: projections + Q K^T + weights V
double attention_flops(int64_t E, int64_t L, int64_t N) {
  const double T = static_cast<double>(L * N);
  return 2.0 * T * E * 3 * E + 2.0 * T * E * E + 2.0 * 2.0 * N * L * L * E;
}

template <class Run>
void run_layer(benchmark::State& state, nn::Module& m, Run&& run, bool backward, double flops) {
  const int64_t E = state.range(0), L = state.range(2), N = state.range(3);
  const Tensor x = random_input({L, N, E}, 1);
  const Tensor g = random_input({L, N, E}, 2);
  if (!backward) m.eval();
  for (auto _ : state) {
    if (backward) {
      m.zero_grad();
      Tensor y = run(x);
      y.backward(g);
    } else {
      NoGradGuard ng;
      Tensor y = run(x);
      benchmark::DoNotOptimize(y.raw_data());
    }
  }
  set_flops(state, backward ? 3 * flops : flops);
}

void mha(benchmark::State& s, bool backward) {
  nn::MultiheadAttention m(s.range(0), s.range(1));
  run_layer(s, m, [&](const Tensor& x) { return m(x, x, x, {.need_weights = false}).output; }, backward,
            attention_flops(s.range(0), s.range(2), s.range(3)));
}

void encoder_layer(benchmark::State& s, bool backward) {
  const int64_t E = s.range(0), ff = 4 * E;
  nn::TransformerEncoderLayer m(E, s.range(1), {.dim_feedforward = ff, .dropout = 0.1});
  const double T = static_cast<double>(s.range(2) * s.range(3));
  run_layer(s, m, [&](const Tensor& x) { return m(x); }, backward,
            attention_flops(E, s.range(2), s.range(3)) + 2 * 2.0 * T * E * ff);
}

void relative(benchmark::State& s, bool backward) {
  nn::RelativeMultiheadAttention m(s.range(0), s.range(1), s.range(2));
  const int64_t E = s.range(0), L = s.range(2), N = s.range(3);
  run_layer(s, m, [&](const Tensor& x) { return m(x).output; }, backward,
            attention_flops(E, L, N) + 2.0 * N * L * L * E);  // + Q E_r^T
}

void BM_mha_fwd_bwd(benchmark::State& s) { mha(s, true); }
void BM_mha_fwd(benchmark::State& s) { mha(s, false); }
void BM_transformer_layer_fwd_bwd(benchmark::State& s) { encoder_layer(s, true); }
void BM_transformer_layer_fwd(benchmark::State& s) { encoder_layer(s, false); }
void BM_relative_mha_fwd_bwd(benchmark::State& s) { relative(s, true); }
void BM_relative_mha_fwd(benchmark::State& s) { relative(s, false); }

#define FM_ATTN_BENCH(fn) BENCHMARK(fn)->Args({512, 8, 256, 4})->Unit(benchmark::kMillisecond)->UseRealTime()
FM_ATTN_BENCH(BM_mha_fwd_bwd);
FM_ATTN_BENCH(BM_mha_fwd);
FM_ATTN_BENCH(BM_transformer_layer_fwd_bwd);
FM_ATTN_BENCH(BM_transformer_layer_fwd);
FM_ATTN_BENCH(BM_relative_mha_fwd_bwd);
FM_ATTN_BENCH(BM_relative_mha_fwd);
#undef FM_ATTN_BENCH

}  // namespace
}  // namespace fm::bench
