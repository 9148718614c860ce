#!/usr/bin/python3
"""LSTM and GRU forward+backward in fermata (fermata_bench, bench/layers/rnn_bench.cpp) and in
PyTorch, side by side.

    /usr/bin/python3 bench/compare_torch_rnn.py <build>/bench/fermata_bench [--repetitions 5]
        [--threads 2] [--fermata-json saved.json]

Shapes (float32, time-major input, dropout off):
  LSTM: 3 layers, bidirectional, input 128, hidden 256, 200 steps, batch 4
  GRU:  2 layers, unidirectional, input 128, hidden 128, 256 steps, batch 8
"fwd_bwd": forward, then output.backward(g) with a fixed upstream gradient, parameter gradients
cleared (set to None) every iteration; "fwd": inference under torch.no_grad(). PyTorch runs with
torch.set_num_threads(--threads, default 2), fermata with its OpenMP default; both report the
median of --repetitions runs of wall-clock time.
"""
import argparse
import time

import torch

from torch_timing import fermata_json, time_median  # noqa: E402

CASES = {  # benchmark base name -> (module, backward)
    "BM_lstm_fwd_bwd": ("LSTM", True),
    "BM_lstm_fwd": ("LSTM", False),
    "BM_gru_fwd_bwd": ("GRU", True),
    "BM_gru_fwd": ("GRU", False),
}


def torch_fn(kind, backward, inp, hid, layers, bi, steps, batch):
    torch.manual_seed(0)
    cls = torch.nn.LSTM if kind == "LSTM" else torch.nn.GRU
    m = cls(inp, hid, num_layers=layers, bidirectional=bool(bi))
    x = torch.rand(steps, batch, inp) * 6 - 3
    g = torch.rand(steps, batch, (2 if bi else 1) * hid) * 6 - 3
    if backward:
        def fn():
            for p in m.parameters():
                p.grad = None
            y, _ = m(x)
            y.backward(g)
    else:
        def fn():
            with torch.no_grad():
                m(x)
    return fn


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", help="path to fermata_bench")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fermata-json", metavar="FILE", help="read fermata's results from this file")
    args = ap.parse_args()

    data = fermata_json(args.binary, args.repetitions, "BM_(lstm|gru)_", args.fermata_json)

    torch.set_num_threads(args.threads)
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    print(f"torch {torch.__version__}, {args.threads} threads")
    print(f"{'benchmark':<22} {'shape':<34} {'fermata':>10} {'torch':>10} {'torch/fermata':>14}")
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"]).replace("/real_time", "")
        base, *rest = name.split("/")
        if base not in CASES:
            continue
        kind, backward = CASES[base]
        inp, hid, layers, bi, steps, batch = (int(a) for a in rest)
        ft = b["real_time"] * unit[b.get("time_unit", "ns")]
        tt = time_median(torch_fn(kind, backward, inp, hid, layers, bi, steps, batch), args.repetitions)
        shape = f"L{layers}{' bi' if bi else ''} in{inp} H{hid} T{steps} N{batch}"
        print(f"{base[3:]:<22} {shape:<34} {ft * 1e3:>8.1f}ms {tt * 1e3:>8.1f}ms {tt / ft:>14.2f}")


if __name__ == "__main__":
    main()
