#!/usr/bin/python3
"""torchaudio.functional.resample at the sizes of bench/audio/resample_bench.cpp, beside
fermata's resample_polyphase (the same algorithm) and libsamplerate's sincs.

    /usr/bin/python3 bench/compare_torch_resample.py [build/bench/fermata_bench] [--threads 2]
        [--repetitions 5] [--rounds 2]

float32: 30 s of stereo 44.1 -> 22.05 kHz, and 32 clips of 3 s 22.05 -> 16 kHz (forward under
no_grad, and forward + torch.autograd.grad for the batch), torchaudio's defaults (Hann,
lowpass_filter_width 6, rolloff 0.99); and pitch_shift of the batch by 2 semitones (n_fft 512). Min (median) of the runs, fermata and torch alternating.
"""
import argparse
import statistics

import torch
import torchaudio.functional as AF

from compare_torch_conv import fermata_runs  # noqa: E402
from torch_timing import time_runs  # noqa: E402

WORK = {"stereo_44100_22050": (2, 30 * 44100, 44100, 22050), "batch_22050_16000": (32, 3 * 22050, 22050, 16000)}


def torch_runs(work, backward, reps):
    if work == "pitch_shift":
        x = (torch.rand(32, 3 * 22050, generator=torch.Generator().manual_seed(0)) * 6 - 3) * 0.1

        def shift():
            with torch.no_grad():
                return AF.pitch_shift(x, 22050, 2, n_fft=512)
        return time_runs(shift, reps)
    rows, n, orig, new = WORK[work]
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(rows, n, generator=g) * 6 - 3) * 0.1
    if not backward:
        def step():
            with torch.no_grad():
                return AF.resample(x, orig, new)
    else:
        x.requires_grad_(True)
        gy = torch.rand(rows, -(-n * new // orig), generator=g) * 6 - 3

        def step():
            return torch.autograd.grad(AF.resample(x, orig, new), [x], gy)
    return time_runs(step, reps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fermata_bench", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"min (median) over {a.rounds}x{a.repetitions} runs, ms")
    cases = [("stereo_44100_22050", False), ("batch_22050_16000", False), ("batch_22050_16000", True),
             ("pitch_shift", False)]
    fermata = {False: [("polyphase", "/0"), ("libsamplerate medium", "/1"), ("libsamplerate best", "/2")],
               True: [("polyphase", "")]}
    for work, backward in cases:
        tr = []
        fr = {label: [] for label, _ in fermata[backward]}
        for _ in range(a.rounds):
            if a.fermata_bench:
                for label, arg in fermata[backward]:
                    bench = (f"BM_audio_pitch_shift_batch_22050{arg}/real_time" if work == "pitch_shift" else
                             f"BM_audio_resample_{work}{'_fwd_bwd' if backward else ''}{arg}/real_time")
                    fr[label] += fermata_runs(a.fermata_bench, bench, a.repetitions)
            tr += torch_runs(work, backward, a.repetitions)
        tag = work + (" fwd+bwd" if backward else "")
        print(f"{tag:<28} torchaudio {min(tr) * 1e3:8.1f} ({statistics.median(tr) * 1e3:7.1f})", flush=True)
        for label, runs in fr.items():
            if runs:
                print(f"{'':<28} {label:<21} {min(runs) * 1e3:8.1f} ({statistics.median(runs) * 1e3:7.1f})"
                      f"  torch/fm {min(tr) / min(runs):6.2f}", flush=True)


if __name__ == "__main__":
    main()
