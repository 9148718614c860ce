"""Evaluates a checkpoint written by `fermata train` with the PyTorch class of the same
architecture (bench/torch_models.py) on a split of a rendered corpus: the fermata weights load
into PyTorch by their state_dict keys, and the accuracy and macro-F1 printed should equal
`fermata eval --split test` on the same checkpoint. A check that the two forward passes agree
on real music, not only on the golden tests' small inputs.

  /usr/bin/python3 bench/torch_eval_checkpoint.py harmonic_cnn runs/instruments \
      runs/cmp/hcnn_instr/fermata_s0/best.safetensors --set n_fft=1024
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_train_classifier as trainer  # noqa: E402

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


def read_safetensors(path):
    """The tensors of a safetensors file (the few dtypes fermata's checkpoints hold)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in DTYPES:
            sys.exit(f"{path}: {name} has dtype {info['dtype']}, which this reader does not know")
        start, end = info["data_offsets"]
        data = np.frombuffer(blob[base + start:base + end], dtype=DTYPES[info["dtype"]])
        out[name] = torch.from_numpy(data.reshape(info["shape"]).copy())
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", choices=["music_cnn", "harmonic_cnn"])
    p.add_argument("data")
    p.add_argument("checkpoint", help="a fermata checkpoint's .safetensors (e.g. OUT/best.safetensors)")
    p.add_argument("--split", default="test")
    p.add_argument("--set", action="append", default=[], help="model setting NAME=VALUE, as at training")
    args = p.parse_args()
    with open(os.path.join(args.data, "manifest.json")) as f:
        manifest = json.load(f)
    x, y = trainer.load_split(args.data, manifest, args.split)
    settings = dict(s.split("=", 1) for s in args.set)
    model = trainer.make_model(args.model, len(manifest["classes"]), manifest["sample_rate"], settings)
    model.load_state_dict(read_safetensors(args.checkpoint), strict=True)
    _, accuracy, macro_f1 = trainer.evaluate(model, x, y, 16, len(manifest["classes"]))
    print(f"PyTorch forward with the fermata weights, split {args.split}: accuracy {100 * accuracy:.2f} %, "
          f"macro-F1 {macro_f1:.4f}")


if __name__ == "__main__":
    main()
