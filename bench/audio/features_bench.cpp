// Spectrogram (|STFT|^2), mel spectrogram and MFCC on a batch of 32 clips of 3 s at 22.05 kHz
// (n_fft 2048, hop 512, 128 mels, 40 MFCCs), float32, forward alone (no graph) and forward +
// backward (the gradient of the input for a given upstream gradient). Compare with torchaudio:
// /usr/bin/python3 bench/compare_torch_audio.py build/bench/fermata_bench (same work).
// GFLOP/s counts per frame 2.5 n log2 n for the real FFT (the usual split-radix estimate),
// 2 * 1025 * 128 for the mel projection and 2 * 128 * 40 for the DCT; forward + backward counts
// twice that (the backward is the adjoint FFT and GEMMs).
#include <algorithm>
#include <cmath>

#include "audio/cqt.h"
#include "audio/features.h"
#include "audio/mfcc.h"
#include "bench_util.h"

namespace fm::bench {
namespace {

constexpr int64_t kBatch = 32, kSampleRate = 22050, kSamples = 3 * kSampleRate, kNfft = 2048, kHop = 512;
constexpr int64_t kMels = 128, kMfcc = 40;
constexpr int64_t kFrames = kSamples / kHop + 1;

audio::MelOptions mel_options() {
  audio::MelOptions o;
  o.sample_rate = kSampleRate;
  o.n_fft = kNfft;
  o.hop_length = kHop;
  o.n_mels = kMels;
  return o;
}

audio::MFCCOptions mfcc_options() {
  audio::MFCCOptions o;
  o.n_mfcc = kMfcc;
  o.mel = mel_options();
  return o;
}

// 0: spectrogram, 1: mel, 2: mfcc
double flops(int kind) {
  const double frames = static_cast<double>(kBatch * kFrames);
  double f = 2.5 * kNfft * std::log2(static_cast<double>(kNfft));
  if (kind >= 1) f += 2.0 * (kNfft / 2 + 1) * kMels;
  if (kind >= 2) f += 2.0 * kMels * kMfcc;
  return f * frames;
}

std::unique_ptr<nn::UnaryModule> make(int kind) {
  if (kind == 0) return std::make_unique<audio::Spectrogram>(kNfft, std::nullopt, kHop);
  if (kind == 1) return std::make_unique<audio::MelSpectrogram>(mel_options());
  return std::make_unique<audio::MFCC>(mfcc_options());
}

void run_fwd(benchmark::State& state, int kind) {
  NoGradGuard ng;
  auto m = make(kind);
  const Tensor x = mul(random_input({kBatch, kSamples}, 1), 0.1);
  for (auto _ : state) {
    Tensor y = (*m)(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_flops(state, flops(kind));
  set_items(state, kBatch);
}

void run_fwd_bwd(benchmark::State& state, int kind) {
  auto m = make(kind);
  Tensor x = mul(random_input({kBatch, kSamples}, 1), 0.1).detach().requires_grad_(true);
  Tensor g;
  {
    NoGradGuard ng;
    g = random_input((*m)(x.detach()).sizes(), 2);
  }
  for (auto _ : state) {
    Tensor y = (*m)(x);
    auto grads = autograd::grad({y}, {x}, {g});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  set_flops(state, 2.0 * flops(kind));
  set_items(state, kBatch);
}

void BM_audio_spectrogram_fwd(benchmark::State& s) { run_fwd(s, 0); }
void BM_audio_mel_fwd(benchmark::State& s) { run_fwd(s, 1); }
void BM_audio_mfcc_fwd(benchmark::State& s) { run_fwd(s, 2); }
void BM_audio_spectrogram_fwd_bwd(benchmark::State& s) { run_fwd_bwd(s, 0); }
void BM_audio_mel_fwd_bwd(benchmark::State& s) { run_fwd_bwd(s, 1); }
void BM_audio_mfcc_fwd_bwd(benchmark::State& s) { run_fwd_bwd(s, 2); }

// The constant-Q transform at nnAudio's defaults (84 bins from C1, hop 512) on the same batch;
// nnAudio is not installed here, so there is no comparison. GFLOP/s counts the GEMMs it runs:
// per frame 2 * 24 columns (real, imaginary) * each octave's kernel support.
void BM_audio_cqt_fwd(benchmark::State& state) {
  NoGradGuard ng;
  audio::CQT m;
  const Tensor x = mul(random_input({kBatch, kSamples}, 1), 0.1);
  double per_frame = 0;
  for (int64_t b0 = 0; b0 < m.options.n_bins; b0 += m.options.bins_per_octave) {
    const int64_t b1 = std::min(m.options.n_bins, b0 + m.options.bins_per_octave);
    per_frame += 2.0 * 2.0 * static_cast<double>(b1 - b0) * static_cast<double>(m.kernels.lengths[b0] + 1);
  }
  for (auto _ : state) {
    Tensor y = m(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_flops(state, per_frame * kBatch * kFrames);
  set_items(state, kBatch);
}
BENCHMARK(BM_audio_cqt_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK(BM_audio_spectrogram_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_audio_mel_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_audio_mfcc_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_audio_spectrogram_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_audio_mel_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_audio_mfcc_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace fm::bench
