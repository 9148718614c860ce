#!/usr/bin/python3
"""Golden data for fermata's resample_polyphase (torchaudio 0.13's functional.resample) and for
pitch_shift, which resamples through it by default. Short signals, several rate pairs, Hann and
Kaiser windows, filter widths and rolloffs, float32 and float64, with gradients.
Writes tests/golden/data/resample.safetensors. Run with /usr/bin/python3."""
import math
import os
import sys

import torch
import torchaudio.functional as AF

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import Family  # noqa: E402

# torchaudio 0.13 spells the windows "sinc_interpolation" / "kaiser_window"; fermata takes the
# newer "sinc_interp_hann" / "sinc_interp_kaiser" (and the old names).
METHOD = {"hann": "sinc_interpolation", "kaiser": "kaiser_window"}


def signal(shape, rate, dtype):
    """Two tones plus noise, drawn in float64 so both dtypes see the same values."""
    n = shape[-1]
    t = torch.arange(n, dtype=torch.float64) / rate
    x = 0.5 * torch.sin(2 * math.pi * 440 * t) + 0.2 * torch.sin(2 * math.pi * 0.3 * rate * t)
    return (x + 0.1 * torch.randn(shape, dtype=torch.float64)).to(dtype)


def pitch_shift64(x, steps, sr=8000, n_fft=256):
    """torchaudio's pitch_shift (0.13) with its window and phase advance in float64."""
    hop = n_fft // 4
    rate = 2.0 ** (-float(steps) / 12)
    w = torch.hann_window(n_fft, dtype=torch.float64)
    spec = torch.stft(x, n_fft, hop, window=w, center=True, pad_mode="reflect", return_complex=True)
    adv = torch.linspace(0, math.pi * hop, spec.shape[-2], dtype=torch.float64)[..., None]
    stretched = torch.istft(AF.phase_vocoder(spec, rate, adv), n_fft, hop, window=w,
                            length=int(round(x.shape[-1] / rate)))
    shifted = AF.resample(stretched, int(sr / rate), sr)
    n = x.shape[-1]
    return shifted[..., :n] if shifted.shape[-1] >= n else torch.nn.functional.pad(shifted, (0, n - shifted.shape[-1]))


def resample():
    f = Family("resample", 2024)
    cases = [
        # name, orig, new, shape, width, rolloff, window, beta
        ("down_44100_22050", 44100, 22050, (2, 160), 6, 0.99, "hann", None),
        ("down_22050_16000", 22050, 16000, (220,), 6, 0.99, "hann", None),
        ("up_16000_22050", 16000, 22050, (2, 1, 80), 6, 0.99, "hann", None),
        ("up_8000_48000", 8000, 48000, (50,), 6, 0.99, "hann", None),
        ("down_48000_8000_kaiser", 48000, 8000, (2, 120), 6, 0.99, "kaiser", None),
        ("up_22050_44100_kaiser_beta8", 22050, 44100, (90,), 6, 0.99, "kaiser", 8.0),
        ("down_22050_16000_kaiser_w16", 22050, 16000, (200,), 16, 0.945, "kaiser", None),
        ("up_3_5_w3", 3, 5, (2, 37), 3, 0.9, "hann", None),
        ("down_5_3_w1", 5, 3, (41,), 1, 0.99, "hann", None),
        ("short_than_filter", 44100, 16000, (5,), 6, 0.99, "hann", None),
    ]
    for dtype, tag in [(torch.float64, ""), (torch.float32, "_f32")]:
        for name, orig, new, shape, width, rolloff, window, beta in cases:
            x = signal(shape, orig, dtype)
            f.case(name + tag,
                   lambda x, orig=orig, new=new, width=width, rolloff=rolloff, window=window, beta=beta:
                   AF.resample(x, orig, new, width, rolloff, METHOD[window], beta),
                   x)
    # pitch_shift = time stretch + resample (SincHann) + crop: no gradient in fermata (an
    # augmentation), so forward only. float64, with a float64 window and phase advance
    # (torchaudio makes both float32 whatever the waveform's dtype, which fermata does not). In
    # float32, fermata's time stretch differs from torchaudio's by up to ~6e-6 (the phase
    # accumulation in float32), above the float32 tolerance, so no float32 case here.
    for steps, shape, tag in [(3, (1, 400), "3"), (-2.5, (1, 400), "minus_2_5"), (4, (2, 300), "4_stereo")]:
        x = signal(shape, 8000, torch.float64)
        f.case(f"pitch_shift_{tag}", lambda x, steps=steps: pitch_shift64(x, steps), x, grad=False)
    f.write()


if __name__ == "__main__":
    resample()
