// Resampling, float32, forward alone: 30 s of stereo 44.1 -> 22.05 kHz (loading a CD-rate
// file for a 22.05 kHz model) and a batch of 32 clips of 3 s 22.05 -> 16 kHz, by
// resample_polyphase (torchaudio's algorithm, ResampleQuality::SincHann) and by libsamplerate's
// Medium and Best sincs; forward + backward of resample_polyphase on the batch; and pitch_shift
// by 2 semitones of 32 clips of 3 s at 22.05 kHz (n_fft 512) through each resampler. Compare
// with torchaudio: /usr/bin/python3 bench/compare_torch_resample.py build/bench/fermata_bench.
#include "audio/phase_vocoder.h"
#include "audio/polyphase_resample.h"
#include "audio/resample.h"
#include "bench_util.h"

namespace fm::bench {
namespace {

struct Work {
  int64_t rows, samples, orig, next;
};
constexpr Work kStereo{2, 30 * 44100, 44100, 22050};
constexpr Work kBatch{32, 3 * 22050, 22050, 16000};

// arg: 0 resample_polyphase, 1 libsamplerate Medium, 2 libsamplerate Best
void run_fwd(benchmark::State& state, const Work& w) {
  NoGradGuard ng;
  const Tensor x = mul(random_input({w.rows, w.samples}, 1), 0.1);
  const int q = int(state.range(0));
  for (auto _ : state) {
    Tensor y = q == 0 ? audio::resample_polyphase(x, w.orig, w.next)
                      : audio::resample(x, w.orig, w.next,
                                        q == 1 ? audio::ResampleQuality::Medium : audio::ResampleQuality::Best);
    benchmark::DoNotOptimize(y.raw_data());
  }
  state.SetLabel(q == 0 ? "polyphase" : q == 1 ? "libsamplerate medium" : "libsamplerate best");
  set_items(state, w.rows);
}

void BM_audio_resample_stereo_44100_22050(benchmark::State& s) { run_fwd(s, kStereo); }
void BM_audio_resample_batch_22050_16000(benchmark::State& s) { run_fwd(s, kBatch); }

void BM_audio_resample_batch_22050_16000_fwd_bwd(benchmark::State& state) {
  Tensor x = mul(random_input({kBatch.rows, kBatch.samples}, 1), 0.1).detach().requires_grad_(true);
  const Tensor g = random_input({kBatch.rows, audio::resampled_length(kBatch.samples, kBatch.orig, kBatch.next)}, 2);
  for (auto _ : state) {
    Tensor y = audio::resample_polyphase(x, kBatch.orig, kBatch.next);
    auto grads = autograd::grad({y}, {x}, {g});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  set_items(state, kBatch.rows);
}

// pitch_shift resamples 24750 -> 22050 Hz (55 -> 49 after the gcd) after its time stretch.
void BM_audio_pitch_shift_batch_22050(benchmark::State& state) {
  NoGradGuard ng;
  const Tensor x = mul(random_input({kBatch.rows, kBatch.samples}, 1), 0.1);
  const int q = int(state.range(0));
  const auto quality = q == 0 ? audio::ResampleQuality::SincHann
                       : q == 1 ? audio::ResampleQuality::Medium
                                : audio::ResampleQuality::Best;
  for (auto _ : state) {
    Tensor y = audio::pitch_shift(x, 22050, 2.0, 12, 512, std::nullopt, std::nullopt, Tensor(), quality);
    benchmark::DoNotOptimize(y.raw_data());
  }
  state.SetLabel(q == 0 ? "polyphase" : q == 1 ? "libsamplerate medium" : "libsamplerate best");
  set_items(state, kBatch.rows);
}

BENCHMARK(BM_audio_pitch_shift_batch_22050)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_audio_resample_stereo_44100_22050)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_audio_resample_batch_22050_16000)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_audio_resample_batch_22050_16000_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace fm::bench
