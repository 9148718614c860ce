// nn::LSTM and nn::GRU, float32, at the shapes of issue 3 (bench/compare_torch_rnn.py runs the
// same in PyTorch):
//   LSTM: 3 layers, bidirectional, input 128, hidden 256, 200 steps, batch 4
//   GRU:  2 layers, unidirectional, input 128, hidden 128, 256 steps, batch 8
// "fwd_bwd": forward, then backward of the output with a fixed upstream gradient (parameter
// gradients cleared each iteration, as set_to_none does); "fwd": inference under NoGradGuard.
// Arguments: input, hidden, layers, bidirectional, steps, batch.
#include "bench_util.h"

namespace fm::bench {
namespace {

template <class M>
void run_rnn(benchmark::State& state, bool backward) {
  const int64_t in = state.range(0), hid = state.range(1), layers = state.range(2), bi = state.range(3),
                steps = state.range(4), batch = state.range(5);
  M m(in, hid, {.num_layers = layers, .bidirectional = bi != 0});
  const Tensor x = random_input({steps, batch, in}, 1);
  const Tensor g = random_input({steps, batch, (bi ? 2 : 1) * hid}, 2);
  for (auto _ : state) {
    if (backward) {
      m.zero_grad();
      auto r = m(x);
      r.output.backward(g);
    } else {
      NoGradGuard ng;
      auto r = m(x);
      benchmark::DoNotOptimize(r.output.raw_data());
    }
  }
  // multiply-adds of the GEMMs: input projections + recurrent products (x3 with backward)
  const int64_t G = std::is_same_v<M, nn::LSTM> ? 4 : 3, D = bi ? 2 : 1;
  double flops = 0;
  for (int64_t l = 0; l < layers; ++l) {
    const int64_t li = l == 0 ? in : D * hid;
    flops += 2.0 * D * steps * batch * G * hid * (li + hid);
  }
  set_flops(state, backward ? 3 * flops : flops);
}

void BM_lstm_fwd_bwd(benchmark::State& s) { run_rnn<nn::LSTM>(s, true); }
void BM_lstm_fwd(benchmark::State& s) { run_rnn<nn::LSTM>(s, false); }
void BM_gru_fwd_bwd(benchmark::State& s) { run_rnn<nn::GRU>(s, true); }
void BM_gru_fwd(benchmark::State& s) { run_rnn<nn::GRU>(s, false); }

BENCHMARK(BM_lstm_fwd_bwd)->Args({128, 256, 3, 1, 200, 4})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_lstm_fwd)->Args({128, 256, 3, 1, 200, 4})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_gru_fwd_bwd)->Args({128, 128, 2, 0, 256, 8})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_gru_fwd)->Args({128, 128, 2, 0, 256, 8})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace fm::bench
