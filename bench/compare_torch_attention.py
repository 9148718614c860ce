#!/usr/bin/python3
"""MultiheadAttention, TransformerEncoderLayer and relative self-attention in fermata
(fermata_bench, bench/layers/attention_bench.cpp) and in PyTorch, side by side.

    /usr/bin/python3 bench/compare_torch_attention.py <build>/bench/fermata_bench [--repetitions 5]
        [--threads 2] [--fermata-json saved.json]

Shape (float32, time-major input [L, N, E], self-attention): d_model 512, 8 heads, sequence
256, batch 4.
  mha:               nn.MultiheadAttention, dropout 0, need_weights=False
  transformer_layer: nn.TransformerEncoderLayer, dim_feedforward 2048, relu, post-norm,
                     dropout 0.1 (training mode in fwd_bwd)
  relative_mha:      Music Transformer relative self-attention (causal, one E_r shared by the
                     heads, skewing), written below in PyTorch ops as fermata computes it
"fwd_bwd": forward, then output.backward(g) with a fixed upstream gradient, parameter gradients
cleared (set to None) every iteration; "fwd": inference under torch.no_grad() in eval mode.
PyTorch runs with torch.set_num_threads(--threads, default 2), fermata with its OpenMP default;
both report the median of --repetitions runs of wall-clock time.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_timing import fermata_json, time_median  # noqa: E402

CASES = {  # benchmark base name -> (kind, backward)
    "BM_mha_fwd_bwd": ("mha", True),
    "BM_mha_fwd": ("mha", False),
    "BM_transformer_layer_fwd_bwd": ("transformer_layer", True),
    "BM_transformer_layer_fwd": ("transformer_layer", False),
    "BM_relative_mha_fwd_bwd": ("relative_mha", True),
    "BM_relative_mha_fwd": ("relative_mha", False),
}


class RelativeMHA(nn.Module):
    """Causal relative self-attention with the skewing procedure (Huang et al. 2018)."""

    def __init__(self, E, H, max_len):
        super().__init__()
        self.E, self.H, self.hd, self.max_len = E, H, E // H, max_len
        self.in_proj = nn.Linear(E, 3 * E)
        self.out_proj = nn.Linear(E, E)
        self.relative_embedding = nn.Parameter(torch.randn(max_len, E // H))

    def forward(self, x):  # [L, N, E]
        L, N, E = x.shape
        q, k, v = self.in_proj(x).chunk(3, dim=-1)
        q, k, v = (t.reshape(L, N, self.H, self.hd).permute(1, 2, 0, 3) for t in (q, k, v))
        er = self.relative_embedding[self.max_len - L:]
        qe = q @ er.t()                                          # [N, H, L, L]
        s_rel = F.pad(qe, (1, 0)).reshape(N, self.H, L + 1, L)[:, :, 1:]
        mask = torch.triu(torch.ones(L, L, dtype=torch.bool), 1)
        logits = ((q @ k.transpose(-1, -2) + s_rel) / math.sqrt(self.hd)).masked_fill(mask, float("-inf"))
        o = torch.softmax(logits, -1) @ v
        return self.out_proj(o.permute(2, 0, 1, 3).reshape(L, N, E))


def torch_fn(kind, backward, E, H, L, N):
    torch.manual_seed(0)
    if kind == "mha":
        m = nn.MultiheadAttention(E, H)
        run = lambda x: m(x, x, x, need_weights=False)[0]
    elif kind == "transformer_layer":
        m = nn.TransformerEncoderLayer(E, H, dim_feedforward=4 * E, dropout=0.1)
        run = m
    else:
        m = RelativeMHA(E, H, L)
        run = m
    x = torch.rand(L, N, E) * 6 - 3
    g = torch.rand(L, N, E) * 6 - 3
    if backward:
        m.train()

        def fn():
            for p in m.parameters():
                p.grad = None
            run(x).backward(g)
    else:
        m.eval()

        def fn():
            with torch.no_grad():
                run(x)
    return fn


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", help="path to fermata_bench")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fermata-json", metavar="FILE", help="read fermata's results from this file")
    args = ap.parse_args()

    data = fermata_json(args.binary, args.repetitions, "BM_(mha|transformer_layer|relative_mha)_", args.fermata_json)

    torch.set_num_threads(args.threads)
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    print(f"torch {torch.__version__}, {args.threads} threads")
    print(f"{'benchmark':<28} {'shape':<22} {'fermata':>10} {'torch':>10} {'torch/fermata':>14}")
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"]).replace("/real_time", "")
        base, *rest = name.split("/")
        if base not in CASES:
            continue
        kind, backward = CASES[base]
        E, H, L, N = (int(a) for a in rest)
        ft = b["real_time"] * unit[b.get("time_unit", "ns")]
        tt = time_median(torch_fn(kind, backward, E, H, L, N), args.repetitions)
        shape = f"E{E} H{H} L{L} N{N}"
        print(f"{base[3:]:<28} {shape:<22} {ft * 1e3:>8.1f}ms {tt * 1e3:>8.1f}ms {tt / ft:>14.2f}")


if __name__ == "__main__":
    main()
