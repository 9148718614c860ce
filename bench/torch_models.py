"""The corrected MusicCNN and HarmonicCNN in PyTorch 1.13 / torchaudio 0.13: the same
architectures as fermata's models/music_cnn.h and models/harmonic_cnn.h, with the same module
names, so a state_dict moves between them by key. Used by tests/golden/make_golden_models.py
(golden values) and bench/compare_torch_models.py (training-step timing). docs/MODELS.md says
what differs from the blog and why."""
import math

import torch
import torch.nn as nn
import torchaudio

ERB_ALPHA = 0.1079
ERB_BETA = 24.7


class MusicCNN(nn.Module):
    def __init__(self, n_classes=10, sample_rate=22050, n_fft=2048, hop_length=512, n_mels=128,
                 f_min=0.0, f_max=0.0, conv1_channels=64, branch_channels=128, conv3_channels=256,
                 harmonic_kernel=12, temporal_kernel=7, dropout=0.5):
        super().__init__()
        self.melspec = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, f_min=f_min,
            f_max=f_max if f_max > 0 else sample_rate // 2)

        def block(cin, cout, kernel, padding, pool):
            layers = [nn.Conv2d(cin, cout, kernel_size=kernel, padding=padding), nn.BatchNorm2d(cout), nn.ReLU()]
            if pool:
                layers.append(nn.MaxPool2d(kernel_size=(2, 2)))
            return nn.Sequential(*layers)

        self.conv1 = block(1, conv1_channels, (3, 3), 1, True)
        # The blog's padding=(6, 0) makes this branch one row taller than the temporal one.
        self.conv2_harmonic = block(conv1_channels, branch_channels, (harmonic_kernel, 1), "same", False)
        self.conv2_temporal = block(conv1_channels, branch_channels, (1, temporal_kernel), "same", False)
        self.conv3 = block(2 * branch_channels, conv3_channels, (3, 3), 1, True)
        self.global_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(conv3_channels, n_classes)

    def forward(self, x):
        x = self.conv1(torch.log(self.melspec(x) + 1e-9).unsqueeze(1))
        x = torch.cat([self.conv2_harmonic(x), self.conv2_temporal(x)], dim=1)
        x = self.conv3(x)
        x = self.global_pool(x).flatten(1)
        return self.fc(self.dropout(x))


def initial_fundamentals(f_min, sample_rate, n_harmonics, n_bands):
    def hz_to_midi(hz):
        return 12.0 * math.log2(hz / 440.0) + 69.0

    lo, hi = hz_to_midi(f_min), hz_to_midi(sample_rate / (2.0 * n_harmonics))
    return torch.tensor([440.0 * 2.0 ** ((lo + (hi - lo) * b / n_bands - 69.0) / 12.0) for b in range(n_bands)],
                        dtype=torch.float32)


class HarmonicFilterbank(nn.Module):
    """Won et al. 2020's harmonic filters: triangles at h * f0 (h = 1..n_harmonics) of width
    (0.1079 fc + 24.7) / Q, floored at two STFT bins; f0 and Q are learned."""

    def __init__(self, n_freqs, sample_rate, n_harmonics, n_bands, f_min, bw_Q):
        super().__init__()
        self.n_freqs, self.sample_rate, self.n_harmonics = n_freqs, sample_rate, n_harmonics
        self.min_bandwidth = 2.0 * (sample_rate / 2.0) / (n_freqs - 1)
        self.f0 = nn.Parameter(initial_fundamentals(f_min, sample_rate, n_harmonics, n_bands))
        self.bw_Q = nn.Parameter(torch.tensor([float(bw_Q)]))

    def filterbank(self):
        o = dict(dtype=self.f0.dtype, device=self.f0.device)
        harmonics = torch.arange(1, self.n_harmonics + 1, **o)
        fc = torch.outer(harmonics, self.f0).reshape(-1, 1)
        erb = (fc * ERB_ALPHA + ERB_BETA) / self.bw_Q.reshape(1, 1)
        bw = torch.maximum(erb, torch.full((1, 1), self.min_bandwidth, **o))
        freqs = torch.linspace(0, self.sample_rate / 2, self.n_freqs, **o).reshape(1, -1)
        return torch.relu(1 - (freqs - fc).abs() * 2.0 / bw)

    def forward(self, spec):  # [N, F, T] -> [N, H, B, T]
        y = torch.matmul(self.filterbank(), spec)
        return y.reshape(spec.shape[0], self.n_harmonics, -1, spec.shape[2])


class HarmonicCNN(nn.Module):
    def __init__(self, n_classes=10, sample_rate=22050, n_fft=254, hop_length=512, n_harmonics=6, n_bands=128,
                 f_min=32.703195662574829, bw_Q=1.0, conv_channels=32, combine_channels=128, dropout=0.0):
        super().__init__()
        self.n_harmonics = n_harmonics
        self.spectrogram = torchaudio.transforms.Spectrogram(n_fft=n_fft, hop_length=hop_length, power=1.0)
        self.harmonic_filters = HarmonicFilterbank(n_fft // 2 + 1, sample_rate, n_harmonics, n_bands, f_min, bw_Q)
        self.to_db = torchaudio.transforms.AmplitudeToDB("magnitude")
        self.input_bn = nn.BatchNorm2d(n_harmonics)
        self.harmonic_conv = nn.ModuleList([
            nn.Sequential(nn.Conv2d(1, conv_channels, kernel_size=(3, 3)), nn.BatchNorm2d(conv_channels), nn.ReLU(),
                          nn.MaxPool2d(2))
            for _ in range(n_harmonics)])
        self.combine = nn.Sequential(nn.Conv2d(conv_channels * n_harmonics, combine_channels, kernel_size=(1, 1)),
                                     nn.BatchNorm2d(combine_channels), nn.ReLU())
        head = [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten()]
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        head.append(nn.Linear(combine_channels, n_classes))
        self.classifier = nn.Sequential(*head)

    def harmonic_spectrogram(self, x):
        if x.dim() == 2:
            spec = self.spectrogram(x)
        elif x.dim() == 4:
            spec = x.squeeze(1)
        else:
            spec = x
        return self.to_db(self.harmonic_filters(spec))

    def forward(self, x):
        h = self.input_bn(self.harmonic_spectrogram(x))
        y = torch.cat([conv(h[:, i:i + 1]) for i, conv in enumerate(self.harmonic_conv)], dim=1)
        return self.classifier(self.combine(y))
