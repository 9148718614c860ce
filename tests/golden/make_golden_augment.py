#!/usr/bin/python3
"""Golden data for fermata's augmentation (torchaudio 0.13): the deterministic parts only -
phase_vocoder on given complex spectrograms, the stft -> phase_vocoder -> istft time stretch of
torchaudio's pitch_shift, SpecAugment masks at the positions torchaudio drew, and gain.
Writes tests/golden/data/augment.safetensors. Run with /usr/bin/python3."""
import math
import os
import sys

import torch
import torchaudio
import torchaudio.functional as AF

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import Family  # noqa: E402

SR = 8000


def signal(n, dtype=torch.float64):
    t = torch.arange(n, dtype=torch.float64) / SR
    x = 0.5 * torch.sin(2 * math.pi * 440 * t) + 0.2 * torch.sin(2 * math.pi * 1234 * t)
    return (x + 0.05 * torch.randn(n, dtype=torch.float64)).to(dtype)


def stretch(x, rate, n_fft, hop):
    """torchaudio.functional.functional._stretch_waveform with a rate, in float64."""
    w = torch.hann_window(n_fft, dtype=torch.float64)
    spec = torch.stft(x, n_fft, hop, window=w, center=True, pad_mode="reflect", return_complex=True)
    adv = torch.linspace(0, math.pi * hop, spec.shape[-2], dtype=torch.float64)[..., None]
    out = AF.phase_vocoder(spec, rate, adv)
    return torch.istft(out, n_fft, hop, window=w, length=int(round(x.shape[-1] / rate)))


def iid_bounds(shape, mask_param, size, dtype, seed):
    """The (start, width) torchaudio's mask_along_axis_iid draws after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    value = torch.rand(shape, dtype=dtype) * mask_param
    min_value = torch.rand(shape, dtype=dtype) * (size - value)
    return min_value.long(), value.long()


def shared_bounds(mask_param, size, seed):
    """The same for mask_along_axis (float32 draws, one mask)."""
    torch.manual_seed(seed)
    value = torch.rand(1) * mask_param
    min_value = torch.rand(1) * (size - value)
    return min_value.long().reshape(()), value.long().reshape(())


def augment():
    f = Family("augment", 4321)
    n_freq, frames = 17, 12
    spec = torch.view_as_real(torch.randn(2, n_freq, frames, dtype=torch.complex128))
    adv = torch.linspace(0, math.pi * 16, n_freq, dtype=torch.float64)[..., None]
    for rate, tag in [(1.3, "1_3"), (0.7, "0_7"), (2.0, "2_0")]:
        f.case(f"phase_vocoder_{tag}",
               lambda s, a, rate=rate: torch.view_as_real(AF.phase_vocoder(torch.view_as_complex(s), rate, a)),
               spec, adv, grad=False)
    x = signal(600)
    xb = torch.stack([signal(400), signal(400)])
    f.case("time_stretch_1_25_n256", lambda x: stretch(x, 1.25, 256, 64), x, grad=False)
    f.case("time_stretch_0_8_n128", lambda x: stretch(x, 0.8, 128, 32), xb, grad=False)

    specs = torch.rand(2, 3, 12, 16, dtype=torch.float64)
    starts, widths = iid_bounds((2, 3), 6, 16, torch.float64, 7)
    torch.manual_seed(7)
    want = AF.mask_along_axis_iid(specs, 6, 0.5, 3)
    f.case("mask_iid_time", lambda s, a, b: want, specs, starts, widths, grad=False)
    starts, widths = iid_bounds((2, 3), 5, 12, torch.float64, 11)
    torch.manual_seed(11)
    want_f = AF.mask_along_axis_iid(specs, 5, -1.0, 2)
    f.case("mask_iid_freq", lambda s, a, b: want_f, specs, starts, widths, grad=False)
    spec3 = torch.rand(3, 12, 16, dtype=torch.float64)
    start, width = shared_bounds(7, 12, 5)
    torch.manual_seed(5)
    want_s = AF.mask_along_axis(spec3, 7, 0.0, 1)
    f.case("mask_shared_freq", lambda s, a, b: want_s, spec3, start, width, grad=False)

    f.case("gain_minus_6db", lambda x: AF.gain(x, -6.0), xb)
    f.write()


if __name__ == "__main__":
    print("torchaudio", torchaudio.__version__)
    augment()
