#!/usr/bin/python3
"""Spectrogram, mel spectrogram and MFCC in torchaudio at the sizes of
bench/audio/features_bench.cpp, beside fermata's.

    /usr/bin/python3 bench/compare_torch_audio.py [build/bench/fermata_bench] [--threads 2]
        [--repetitions 5] [--rounds 2]

A batch of 32 clips of 3 s at 22.05 kHz, float32; n_fft 2048, hop 512, periodic Hann, center
with reflect padding, power 2; 128 HTK mel bands; 40 MFCCs (DCT-II ortho of the dB mel
spectrogram, top_db 80). "fwd" runs under no_grad; "fwd_bwd" is y = f(x) and
torch.autograd.grad(y, x, g), the work BM_audio_*_fwd_bwd does. With a fermata_bench path the
matching benchmark runs too, alternating with torchaudio case by case, so both see the same
machine load; the minimum and the median of the runs are printed (on a shared machine the
minimum is the figure least disturbed by other processes).
"""
import argparse
import statistics

import torch
import torchaudio.transforms as AT

from compare_torch_conv import fermata_runs  # noqa: E402
from torch_timing import time_runs  # noqa: E402

B, SR, N_FFT, HOP, N_MELS, N_MFCC = 32, 22050, 2048, 512, 128, 40
T = 3 * SR


def module(kind):
    if kind == "spectrogram":
        return AT.Spectrogram(n_fft=N_FFT, hop_length=HOP, power=2.0)
    mel = {"n_fft": N_FFT, "hop_length": HOP, "n_mels": N_MELS}
    if kind == "mel":
        return AT.MelSpectrogram(sample_rate=SR, **mel)
    return AT.MFCC(sample_rate=SR, n_mfcc=N_MFCC, melkwargs=mel)


def torch_runs(kind, mode, reps):
    m = module(kind)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(B, T, generator=g) * 6 - 3) * 0.1
    if mode == "fwd":
        def step():
            with torch.no_grad():
                return m(x)
    else:
        x.requires_grad_(True)
        with torch.no_grad():
            gy = torch.rand(m(x).shape, generator=g) * 6 - 3

        def step():
            return torch.autograd.grad(m(x), [x], gy)
    return time_runs(step, reps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fermata_bench", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2, help="fermata/torch alternations per case")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch {B} x {T} samples; "
          f"min (median) over {a.rounds}x{a.repetitions} runs, fermata and torch alternating")
    print(f"{'case':<34} {'torch ms':>17} {'fermata ms':>17} {'torch/fm':>8}")
    for mode in ("fwd", "fwd_bwd"):
        for kind in ("spectrogram", "mel", "mfcc"):
            bench = f"BM_audio_{kind}_{mode}/real_time"
            tr, fr = [], []
            for _ in range(a.rounds):
                if a.fermata_bench:
                    fr += fermata_runs(a.fermata_bench, bench, a.repetitions)
                tr += torch_runs(kind, mode, a.repetitions)
            tmin, tmed = min(tr), statistics.median(tr)
            line = f"{bench.replace('/real_time', ''):<34} {tmin * 1e3:8.1f} ({tmed * 1e3:6.1f})"
            if fr:
                fmin, fmed = min(fr), statistics.median(fr)
                line += f" {fmin * 1e3:8.1f} ({fmed * 1e3:6.1f}) {tmin / fmin:8.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
