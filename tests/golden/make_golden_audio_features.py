#!/usr/bin/python3
"""Golden data for fermata's audio features beyond the mel spectrogram: MFCC from torchaudio 0.13,
and the constant-Q transform (nnAudio's CQT1992v2), chroma (librosa.feature.chroma_stft /
chroma_cqt) and onset strength (librosa.onset.onset_strength) from numpy ports of those
libraries' formulas below (librosa and nnAudio are not installed), applied with torch ops in
float64 so that the gradients come too. Writes tests/golden/data/audio_features.safetensors.
Run with /usr/bin/python3.

Where the libraries round to float32 (librosa's filter banks, nnAudio's kernels) the ports stay
in float64: the differences are ~1e-7 relative, far inside the issue's 1e-4."""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio
import torchaudio.functional as AF
import torchaudio.transforms as AT

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import Family  # noqa: E402


def tone_mix(n, sr, freqs, noise=0.05):
    t = torch.arange(n, dtype=torch.float64) / sr
    x = sum(0.5 * torch.sin(2 * math.pi * f * t) for f in freqs)
    return x + noise * torch.randn(n, dtype=torch.float64)


def hann(n):
    return torch.hann_window(n, periodic=True, dtype=torch.float64)


def power_stft(x, n_fft, hop, pad_mode):
    s = torch.view_as_real(torch.stft(x, n_fft, hop, window=hann(n_fft), center=True, pad_mode=pad_mode,
                                      return_complex=True))
    return s[..., 0] ** 2 + s[..., 1] ** 2


# ----- nnAudio create_cqt_kernels (CQT1992v2), scipy's periodic windows -----
def get_window(name, l):
    a = 2 * np.pi * np.arange(l) / l
    if l == 1:
        return np.ones(1)
    return {"hann": 0.5 - 0.5 * np.cos(a), "hamming": 0.54 - 0.46 * np.cos(a),
            "blackman": 0.42 - 0.5 * np.cos(a) + 0.08 * np.cos(2 * a)}[name]


def create_cqt_kernels(Q, fs, fmin, n_bins, bins_per_octave, norm, window):
    len_min = np.ceil(Q * fs / fmin)
    fftLen = 2 ** int(np.ceil(np.log2(len_min)))
    freqs = fmin * 2.0 ** (np.r_[0:n_bins] / float(bins_per_octave))
    assert np.max(freqs) <= fs / 2
    tempKernel = np.zeros((int(n_bins), int(fftLen)), dtype=np.complex128)
    lengths = np.ceil(Q * fs / freqs)
    for k in range(0, int(n_bins)):
        freq = freqs[k]
        l = np.ceil(Q * fs / freq)
        if l % 2 == 1:
            start = int(np.ceil(fftLen / 2.0 - l / 2.0)) - 1
        else:
            start = int(np.ceil(fftLen / 2.0 - l / 2.0))
        sig = get_window(window, int(l)) * np.exp(np.r_[-l // 2:l // 2] * 1j * 2 * np.pi * freq / fs) / l
        if norm:
            tempKernel[k, start:start + int(l)] = sig / np.linalg.norm(sig, norm)
        else:
            tempKernel[k, start:start + int(l)] = sig
    return tempKernel, fftLen, torch.tensor(lengths), freqs


def nnaudio_cqt(x, sr, hop, fmin, n_bins, bins_per_octave=12, filter_scale=1, norm=1, window="hann",
                pad_mode="reflect", output="magnitude"):
    Q = float(filter_scale) / (2 ** (1 / bins_per_octave) - 1)
    k, width, lengths, _ = create_cqt_kernels(Q, sr, fmin, n_bins, bins_per_octave, norm, window)
    kr = torch.tensor(k.real).unsqueeze(1)
    ki = torch.tensor(k.imag).unsqueeze(1)
    lead = x.shape[:-1]
    x = x.reshape(-1, 1, x.shape[-1])
    x = F.pad(x, (width // 2, width // 2), mode=pad_mode)
    re = F.conv1d(x, kr, stride=hop) * torch.sqrt(lengths.view(-1, 1))
    im = -F.conv1d(x, ki, stride=hop) * torch.sqrt(lengths.view(-1, 1))
    if output == "complex":
        out = torch.stack([re, im], -1)
    else:
        out = torch.sqrt(re ** 2 + im ** 2)
    return out.reshape(*lead, *out.shape[1:])


# ----- librosa.filters.chroma / cq_to_chroma / util.normalize / filters.mel -----
def librosa_normalize_np(S, norm, axis):
    mag = np.abs(S)
    if norm == np.inf:
        length = np.max(mag, axis=axis, keepdims=True)
    elif norm is None:
        return S
    else:
        length = np.sum(mag ** norm, axis=axis, keepdims=True) ** (1.0 / norm)
    length[length < np.finfo(S.dtype).tiny] = 1.0
    return S / length


def chroma_filters(sr, n_fft, n_chroma=12, tuning=0.0, ctroct=5.0, octwidth=2, norm=2, base_c=True):
    frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    A440 = 440.0 * 2.0 ** (tuning / n_chroma)
    frqbins = n_chroma * np.log2(frequencies / (A440 / 16))
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
    binwidthbins = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    D = np.subtract.outer(frqbins, np.arange(0, n_chroma, dtype="d")).T
    n_chroma2 = np.round(float(n_chroma) / 2)
    D = np.remainder(D + n_chroma2 + 10 * n_chroma, n_chroma) - n_chroma2
    wts = np.exp(-0.5 * (2 * D / np.tile(binwidthbins, (n_chroma, 1))) ** 2)
    wts = librosa_normalize_np(wts, norm, 0)
    if octwidth is not None:
        wts *= np.tile(np.exp(-0.5 * (((frqbins / n_chroma - ctroct) / octwidth) ** 2)), (n_chroma, 1))
    if base_c:
        wts = np.roll(wts, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(wts[:, : int(1 + n_fft / 2)])


def cq_to_chroma(n_input, bins_per_octave=12, n_chroma=12, fmin=32.70, base_c=True):
    n_merge = float(bins_per_octave) / n_chroma
    assert np.mod(n_merge, 1) == 0
    cq_to_ch = np.repeat(np.eye(n_chroma), int(n_merge), axis=1)
    cq_to_ch = np.roll(cq_to_ch, -int(n_merge // 2), axis=1)
    n_octaves = np.ceil(float(n_input) / bins_per_octave)
    cq_to_ch = np.tile(cq_to_ch, int(n_octaves))[:, :n_input]
    midi_0 = np.mod(12 * (np.log2(fmin) - np.log2(440.0)) + 69, 12)
    roll = midi_0 if base_c else midi_0 - 9
    roll = int(np.round(roll * (n_chroma / 12.0)))
    return np.roll(cq_to_ch, roll, axis=0)


def slaney_hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    mels = f / f_sp
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-300) / min_log_hz) / logstep, mels)


def slaney_mel_to_hz(m):
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def librosa_mel(sr, n_fft, n_mels, fmin=0.0, fmax=None):
    fmax = sr / 2 if fmax is None else fmax
    weights = np.zeros((n_mels, 1 + n_fft // 2))
    fftfreqs = np.linspace(0, float(sr) / 2, 1 + n_fft // 2)
    mel_f = slaney_mel_to_hz(np.linspace(slaney_hz_to_mel(fmin), slaney_hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    return weights


def normalize_t(S, norm=np.inf, dim=-2):
    length = S.abs().amax(dim, keepdim=True)
    return S / torch.where(length < torch.finfo(S.dtype).tiny, torch.ones_like(length), length)


def chroma_stft_ref(x, sr, n_fft, hop, **kw):
    fb = torch.tensor(chroma_filters(sr, n_fft, **kw))
    return normalize_t(fb @ power_stft(x, n_fft, hop, "constant"))


def chroma_cqt_ref(x, sr, hop, fmin, n_bins, bins_per_octave, n_chroma=12):
    C = nnaudio_cqt(x, sr, hop, fmin, n_bins, bins_per_octave)
    return normalize_t(torch.tensor(cq_to_chroma(n_bins, bins_per_octave, n_chroma, fmin)) @ C)


def onset_ref(y, sr, n_fft, hop, n_mels, lag=1, max_size=1, top_db=80.0):
    S = torch.tensor(librosa_mel(sr, n_fft, n_mels)) @ power_stft(y, n_fft, hop, "constant")
    S = 10.0 * torch.log10(torch.clamp(S, min=1e-10))
    if top_db is not None:  # per item (librosa takes the maximum of the whole array)
        S = torch.maximum(S, S.amax(dim=(-2, -1), keepdim=True) - top_db)
    if max_size == 1:
        ref = S
    else:  # scipy.ndimage.maximum_filter1d(S, max_size, axis=-2), mode "reflect"
        n = S.shape[-2]
        before = max_size // 2
        idx = []
        for j in range(max_size):
            i = np.arange(n) + j - before
            i = np.where(i < 0, -i - 1, np.where(i >= n, 2 * n - i - 1, i))
            idx.append(S[..., i, :])
        ref = torch.stack(idx, 0).amax(0)
    env = torch.relu(S[..., lag:] - ref[..., :-lag]).mean(-2)
    env = F.pad(env, (lag + n_fft // (2 * hop), 0))
    return env[..., :S.shape[-1]]


def features():
    f = Family("audio_features", 4321)
    torch.set_default_dtype(torch.float64)  # torchaudio builds its matrices in the default dtype
    x = tone_mix(320, 16000, [440.0, 1200.0])
    xb = torch.stack([tone_mix(256, 16000, [300.0]), tone_mix(256, 16000, [2000.0])])

    f.case("dct_ortho", lambda: AF.create_dct(13, 24, "ortho"))
    f.case("dct_none", lambda: AF.create_dct(8, 20, None))
    mf1 = AT.MFCC(16000, n_mfcc=20, melkwargs={"n_fft": 256, "n_mels": 40})
    f.case("mfcc_db_ortho", lambda x: mf1(x), x)
    mf2 = AT.MFCC(16000, n_mfcc=13, log_mels=True, melkwargs={"n_fft": 256, "n_mels": 40})
    f.case("mfcc_log_ortho", lambda x: mf2(x), xb)
    mf3 = AT.MFCC(16000, n_mfcc=10, norm=None, melkwargs={"n_fft": 128, "hop_length": 32, "n_mels": 24,
                                                          "mel_scale": "slaney", "norm": "slaney"})
    f.case("mfcc_db_nonorm_batch", lambda x: mf3(x), xb)
    mf4 = AT.MFCC(16000, n_mfcc=12, norm=None, log_mels=True, melkwargs={"n_fft": 128, "n_mels": 16})
    f.case("mfcc_log_nonorm", lambda x: mf4(x), x, grad=False)
    torch.set_default_dtype(torch.float32)
    # float32 (compared within 1e-4 relative by the test), stored beside the cases
    f.tensors["f32_mfcc.in0"] = x.float()
    f.tensors["f32_mfcc.out"] = AT.MFCC(16000, n_mfcc=20, melkwargs={"n_fft": 256, "n_mels": 40})(x.float())

    xc = tone_mix(800, 8000, [261.63, 440.0])
    xcb = torch.stack([tone_mix(600, 4000, [220.0]), tone_mix(600, 4000, [330.0, 500.0])])
    f.case("cqt_hann_l1", lambda x: nnaudio_cqt(x, 8000, 64, 200.0, 24, 12), xc)
    f.case("cqt_bpo24_l2_hamming_constant", lambda x: nnaudio_cqt(
        x, 4000, 100, 110.0, 40, 24, filter_scale=0.8, norm=2, window="hamming", pad_mode="constant"), xcb,
        grad=False)
    f.case("cqt_complex_nonorm_blackman", lambda x: nnaudio_cqt(
        x, 8000, 64, 200.0, 18, 12, norm=0, window="blackman", output="complex"), xc[:700], grad=False)

    f.case("chroma_fb_default", lambda: torch.tensor(chroma_filters(8000, 128)))
    f.case("chroma_fb_24_tuned_flat_a", lambda: torch.tensor(
        chroma_filters(8000, 64, n_chroma=24, tuning=0.3, octwidth=None, base_c=False)))
    f.case("chroma_fb_l1_ctroct4", lambda: torch.tensor(chroma_filters(16000, 64, ctroct=4.0, octwidth=1.5, norm=1)))
    f.case("cq_to_chroma_12", lambda: torch.tensor(cq_to_chroma(30, 12, 12, 32.70)))
    f.case("cq_to_chroma_36_a", lambda: torch.tensor(cq_to_chroma(40, 36, 12, 110.0, base_c=False)))
    f.case("cq_to_chroma_24_24", lambda: torch.tensor(cq_to_chroma(30, 24, 24, 100.0)))
    f.case("chroma_stft", lambda x: chroma_stft_ref(x, 8000, 256, 64), xc[:600])
    f.case("chroma_cqt", lambda x: chroma_cqt_ref(x, 8000, 64, 200.0, 24, 12), xc[:700], grad=False)

    xo = torch.cat([0.001 * torch.randn(250, dtype=torch.float64), tone_mix(250, 8000, [500.0]),
                    0.001 * torch.randn(150, dtype=torch.float64), tone_mix(150, 8000, [900.0])])
    f.case("onset_default", lambda x: onset_ref(x, 8000, 128, 32, 24), xo)
    f.case("onset_lag2_max3_batch", lambda x: onset_ref(x, 8000, 128, 32, 20, lag=2, max_size=3, top_db=None),
           torch.stack([xo[:400], xo[400:]]), grad=False)
    f.write()


if __name__ == "__main__":
    print("torchaudio", torchaudio.__version__)
    features()
