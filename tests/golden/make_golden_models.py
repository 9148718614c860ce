#!/usr/bin/python3
"""Golden data for fermata's models (models/music_cnn.h, models/harmonic_cnn.h) from the same
architectures in PyTorch 1.13 (bench/torch_models.py), at small sizes.
Writes tests/golden/data/models.safetensors. Run with /usr/bin/python3.

For each model `m` (float32): m.state.<key> (the whole state_dict, weights and BatchNorm
statistics drawn at random so nothing is at its initial value), m.input, m.target, then, in
training mode: m.logits, m.loss (cross-entropy), m.grad.<parameter> of every parameter, and
m.after.<buffer> (the BatchNorm statistics after that forward); then m.eval_logits in eval mode.
The metadata "cases" lists the models and "<m>.config" their constructor arguments."""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from make_golden import write_safetensors  # noqa: E402
from torch_models import HarmonicCNN, MusicCNN  # noqa: E402

MUSIC_CNN = dict(n_classes=3, sample_rate=8000, n_fft=256, hop_length=128, n_mels=16, conv1_channels=4,
                 branch_channels=4, conv3_channels=8, dropout=0.0)
HARMONIC_CNN = dict(n_classes=3, sample_rate=8000, n_fft=62, hop_length=32, n_harmonics=3, n_bands=8,
                    f_min=65.40639132514966, conv_channels=4, combine_channels=8)


def randomise(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("harmonic_filters.f0"):
                p.mul_(1 + 0.02 * torch.randn_like(p))  # stay near the MIDI grid, off bin centres
            elif name.endswith("bw_Q"):
                p.fill_(0.8)
            elif p.dim() == 1 and name.endswith("weight"):  # BatchNorm scale
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn_like(b))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand_like(b))
            elif name.endswith("num_batches_tracked"):
                b.fill_(3)


def record(out, name, model, x, target):
    randomise(model)
    for k, v in model.state_dict().items():
        out[f"{name}.state.{k}"] = v.clone()
    out[f"{name}.input"] = x
    out[f"{name}.target"] = target
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    out[f"{name}.logits"] = logits.detach()
    out[f"{name}.loss"] = loss.detach()
    for k, p in model.named_parameters():
        assert p.grad is not None, k
        out[f"{name}.grad.{k}"] = p.grad.clone()
    for k, b in model.named_buffers():
        if "running" in k or "num_batches" in k:
            out[f"{name}.after.{k}"] = b.clone()
    model.eval()
    with torch.no_grad():
        out[f"{name}.eval_logits"] = model(x)


def main():
    torch.manual_seed(20260)
    out = {}
    n = 15 * MUSIC_CNN["hop_length"]  # 16 frames
    t = torch.arange(n, dtype=torch.float64) / MUSIC_CNN["sample_rate"]
    audio = torch.stack([0.5 * torch.sin(2 * math.pi * 440 * t), 0.3 * torch.sin(2 * math.pi * 1250 * t)])
    audio = (audio + 0.05 * torch.randn(2, n, dtype=torch.float64)).float()
    record(out, "music_cnn", MusicCNN(**MUSIC_CNN), audio, torch.tensor([2, 0]))

    n_freqs = HARMONIC_CNN["n_fft"] // 2 + 1
    spec = (torch.rand(2, 1, n_freqs, 12) * 2 + 0.01).float()
    record(out, "harmonic_cnn", HarmonicCNN(**HARMONIC_CNN), spec, torch.tensor([1, 2]))

    meta = {"cases": "music_cnn,harmonic_cnn", "music_cnn.config": json.dumps(MUSIC_CNN),
            "harmonic_cnn.config": json.dumps(HARMONIC_CNN)}
    path = os.path.join(HERE, "data", "models.safetensors")
    write_safetensors(path, out, meta)
    print(f"wrote {path}: {len(out)} tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
