"""Trains bench/torch_models.py's MusicCNN or HarmonicCNN in PyTorch 1.13 on a corpus rendered by
`fermata data render` (the same clips, read from the same manifest.json), with the recipe of
fermata's train/recipe.cpp, then reports held-out accuracy of the best-by-validation weights:
the PyTorch half of issue 7's comparison (docs/MODELS.md records both).

The recipe, as fermata's `recipe_for(model)`:
  cross-entropy; AdamW (lr, weight decay 1e-2, betas 0.9/0.999, eps 1e-8); gradients clipped at
  total norm 5; a cosine schedule stepped per epoch down to 0 at the last epoch, after
  `warmup` epochs of linear warm-up from 0.1x (HarmonicCNN: 1); one random gain drawn uniformly
  in [-6, 6] dB per training batch; validation after each epoch, the best accuracy kept
  (strictly better replaces), then its test accuracy and macro-F1.
What cannot be the same: the random numbers (initialisation, shuffling, gains, dropout come
from torch's generator, not Philox), so runs are compared over seeds, not step by step.

  /usr/bin/python3 bench/torch_train_classifier.py music_cnn runs/demo/genres --epochs 30 \
      --batch-size 16 --lr 3e-3 --set n_mels=64 --set conv1_channels=16 ... --seeds 0 1 2
"""
import argparse
import json
import math
import os
import sys
import time

import soundfile
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402


def load_split(root, manifest, split):
    xs, ys = [], []
    for it in manifest["items"]:
        if it["split"] != split:
            continue
        samples, rate = soundfile.read(os.path.join(root, it["file"]), dtype="float32", always_2d=True)
        if rate != manifest["sample_rate"]:
            sys.exit(f"{it['file']}: {rate} Hz, the manifest says {manifest['sample_rate']}")
        xs.append(torch.from_numpy(samples.mean(axis=1)))
        ys.append(it["label_index"])
    if not xs:
        return torch.zeros(0, 0), torch.zeros(0, dtype=torch.long)
    length = max(x.numel() for x in xs)  # fermata's collate pads to the longest clip with zeros
    batch = torch.zeros(len(xs), length)
    for i, x in enumerate(xs):
        batch[i, :x.numel()] = x
    return batch, torch.tensor(ys, dtype=torch.long)


def make_model(name, n_classes, sample_rate, settings):
    kwargs = dict(n_classes=n_classes, sample_rate=sample_rate)
    for key, value in settings.items():
        kwargs[key] = int(value) if float(value).is_integer() and key != "dropout" else float(value)
    cls = {"music_cnn": torch_models.MusicCNN, "harmonic_cnn": torch_models.HarmonicCNN}[name]
    return cls(**kwargs)


def lr_factor(epoch, epochs, warmup):
    """fermata's SequentialLR(LinearLR(0.1 -> 1 over warmup), CosineAnnealingLR(epochs - warmup))."""
    warm = min(warmup, epochs - 1)
    if epoch < warm:
        return 0.1 + 0.9 * epoch / warm
    span = max(1, epochs - warm)
    return 0.5 * (1 + math.cos(math.pi * (epoch - warm) / span))


def evaluate(model, x, y, batch_size, n_classes):
    model.eval()
    confusion = torch.zeros(n_classes, n_classes, dtype=torch.long)
    loss_sum = 0.0
    with torch.no_grad():
        for i in range(0, len(y), batch_size):
            out = model(x[i:i + batch_size])
            loss_sum += F.cross_entropy(out, y[i:i + batch_size], reduction="sum").item()
            for t, p in zip(y[i:i + batch_size].tolist(), out.argmax(1).tolist()):
                confusion[t, p] += 1
    model.train()
    accuracy = confusion.diag().sum().item() / max(1, len(y))
    f1_sum = 0.0  # fermata's train/metrics.cpp: every class counts, an empty one as 0
    for c in range(n_classes):
        tp = confusion[c, c].item()
        fp = confusion[:, c].sum().item() - tp
        fn = confusion[c, :].sum().item() - tp
        f1_sum += 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
    return loss_sum / max(1, len(y)), accuracy, f1_sum / n_classes


def train_one(args, seed, data, manifest):
    (xtr, ytr), (xva, yva), (xte, yte) = data
    n_classes = len(manifest["classes"])
    torch.manual_seed(seed)
    model = make_model(args.model, n_classes, manifest["sample_rate"], args.settings)
    warmup = 1 if args.model == "harmonic_cnn" else 0
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    best_acc, best_epoch, best_state = -1.0, -1, None
    for epoch in range(args.epochs):
        for group in opt.param_groups:
            group["lr"] = args.lr * lr_factor(epoch, args.epochs, warmup)
        start = time.time()
        order = torch.randperm(len(ytr))
        loss_sum = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            gain_db = torch.empty(()).uniform_(-6.0, 6.0).item()
            out = model(xtr[idx] * 10.0 ** (gain_db / 20.0))
            loss = F.cross_entropy(out, ytr[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            loss_sum += loss.item() * len(idx)
        val_loss, val_acc, val_f1 = evaluate(model, xva, yva, args.batch_size, n_classes)
        best = val_acc > best_acc
        if best:
            best_acc, best_epoch = val_acc, epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        print(f"seed {seed} epoch {epoch + 1}/{args.epochs} train loss {loss_sum / len(ytr):.4f} "
              f"val loss {val_loss:.4f} accuracy {100 * val_acc:.2f}% macro-F1 {val_f1:.4f} "
              f"{time.time() - start:.1f}s{'  (best)' if best else ''}", flush=True)
    model.load_state_dict(best_state)
    _, test_acc, test_f1 = evaluate(model, xte, yte, args.batch_size, n_classes)
    return {"seed": seed, "best_epoch": best_epoch + 1, "valid_accuracy": best_acc, "test_accuracy": test_acc,
            "test_macro_f1": test_f1}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", choices=["music_cnn", "harmonic_cnn"])
    p.add_argument("data", help="a corpus rendered by fermata data render (holds manifest.json)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, help="default: the recipe's, 1e-3 (music_cnn) or 1e-2 (harmonic_cnn)")
    p.add_argument("--set", action="append", default=[], help="model setting NAME=VALUE, as fermata's --set")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args()
    args.settings = dict(s.split("=", 1) for s in args.set)
    if args.lr is None:
        args.lr = 1e-2 if args.model == "harmonic_cnn" else 1e-3
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.data, "manifest.json")) as f:
        manifest = json.load(f)
    data = [load_split(args.data, manifest, s) for s in ("train", "valid", "test")]
    print(f"{manifest['corpus']} ({manifest['size']}): " +
          ", ".join(f"{s} {len(d[1])}" for s, d in zip(("train", "valid", "test"), data)), flush=True)
    results = [train_one(args, seed, data, manifest) for seed in args.seeds]
    for r in results:
        print(f"seed {r['seed']}: best epoch {r['best_epoch']}, valid {100 * r['valid_accuracy']:.1f}%, "
              f"test {100 * r['test_accuracy']:.1f}%, test macro-F1 {r['test_macro_f1']:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "data": args.data, "settings": args.settings, "epochs": args.epochs,
                       "batch_size": args.batch_size, "lr": args.lr, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
