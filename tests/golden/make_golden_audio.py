#!/usr/bin/python3
"""Golden data for fermata's audio front end (torch.stft, torchaudio 0.13).
Writes tests/golden/data/audio.safetensors. Run with /usr/bin/python3."""
import math
import os
import sys

import torch
import torchaudio
import torchaudio.functional as AF
import torchaudio.transforms as AT

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import Family  # noqa: E402

SR = 16000


def signal(n=480, dtype=torch.float64):
    t = torch.arange(n, dtype=torch.float64) / SR
    x = 0.5 * torch.sin(2 * math.pi * 440 * t) + 0.1 * torch.randn(n, dtype=torch.float64)
    return x.to(dtype)


def hann_fn(n):
    return torch.hann_window(n, dtype=torch.float64)


def audio():
    f = Family("audio", 1234)
    x = signal()
    xb = torch.stack([signal(256), signal(256)])
    hann = lambda n, dt=torch.float64: torch.hann_window(n, periodic=True, dtype=dt)
    f.case("stft_n256_h64", lambda x: torch.view_as_real(
        torch.stft(x, 256, 64, window=hann(256), center=True, pad_mode="reflect", return_complex=True)), x)
    f.case("stft_n128_win100_const_norm", lambda x: torch.view_as_real(
        torch.stft(x, 128, 32, 100, window=hann(100), center=True, pad_mode="constant", normalized=True,
                   return_complex=True)), xb)
    f.case("stft_n64_nocenter_hamming", lambda x: torch.view_as_real(
        torch.stft(x, 64, 16, window=torch.hamming_window(64, dtype=torch.float64), center=False,
                   return_complex=True)), xb)
    f.case("stft_n63_twosided_blackman", lambda x: torch.view_as_real(
        torch.stft(x, 63, 20, window=torch.blackman_window(63, dtype=torch.float64), onesided=False,
                   return_complex=True)), xb)
    f.case("spectrogram_power2", lambda x: AT.Spectrogram(n_fft=256, window_fn=hann_fn).double()(x), x)
    f.case("spectrogram_power1_norm", lambda x: AT.Spectrogram(n_fft=128, hop_length=40, power=1.0, window_fn=hann_fn,
                                                               normalized=True).double()(x), xb)
    for scale in ["htk", "slaney"]:
        for norm in [None, "slaney"]:
            name = f"fbank_{scale}_{norm or 'none'}"
            torch.set_default_dtype(torch.float64)
            fb = AF.melscale_fbanks(129, 30.0, 7000.0, 40, SR, norm, scale)
            torch.set_default_dtype(torch.float32)
            f.case(name, lambda: fb)
    mel = AT.MelSpectrogram(sample_rate=SR, n_fft=256, n_mels=40).double()
    torch.set_default_dtype(torch.float64)
    mel_sl = AT.MelSpectrogram(sample_rate=SR, n_fft=128, hop_length=32, f_min=50.0, f_max=6000.0, n_mels=24,
                               norm="slaney", mel_scale="slaney").double()
    mel = AT.MelSpectrogram(sample_rate=SR, n_fft=256, n_mels=40).double()
    torch.set_default_dtype(torch.float32)
    f.case("mel_htk", lambda x: mel(x), x)
    f.case("mel_slaney", lambda x: mel_sl(x), xb)
    spec = AT.Spectrogram(n_fft=256).double()(x).detach()
    f.case("db_power_top80", lambda s: AT.AmplitudeToDB("power", top_db=80.0)(s), spec)
    f.case("db_magnitude", lambda s: AT.AmplitudeToDB("magnitude")(s), spec.sqrt())
    specb = AT.Spectrogram(n_fft=128).double()(torch.stack([xb, 0.01 * xb])).detach()  # [2, 2, F, T]
    f.case("db_batch_top40", lambda s: AT.AmplitudeToDB("power", top_db=40.0)(s), specb)
    # float32: compared within 1e-4 relative by the test
    x32 = x.float()
    # (stored beside the cases, not as cases: the golden family compares float32 within 1e-5)
    f.tensors["f32_stft.in0"] = x32
    f.tensors["f32_stft.out"] = torch.view_as_real(
        torch.stft(x32, 256, 64, window=hann(256, torch.float32), return_complex=True))
    f.tensors["f32_mel.in0"] = x32
    f.tensors["f32_mel.out"] = AT.MelSpectrogram(sample_rate=SR, n_fft=256, n_mels=40)(x32)
    f.write()


if __name__ == "__main__":
    print("torchaudio", torchaudio.__version__)
    audio()
