#!/usr/bin/python3
"""batch_norm / layer_norm / cross_entropy: fermata (bench/layers/norm_bench.cpp) beside PyTorch.

    /usr/bin/python3 bench/compare_torch_norm_loss.py [<build>/bench/fermata_bench] [--repetitions 5]

PyTorch runs the same shapes with torch.set_num_threads(2) (fermata's OpenMP thread count is set
to the same through OMP_NUM_THREADS; --threads changes both), float32, inputs allocated outside the timed loop; forward-only cases under
torch.no_grad(), forward + backward cases through torch.autograd.grad of every input, as the C++
benchmark does. Each op is timed over enough calls to fill about 0.2 s; the median of
--repetitions runs is printed. Without a fermata binary only the PyTorch column is printed.
"""
import argparse
import json
import os
import subprocess

import torch
import torch.nn.functional as F

from torch_timing import time_median, time_runs  # noqa: E402


def rand(*shape, seed=0, lo=-3.0, hi=3.0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g) * (hi - lo) + lo


def leaf(*shape, seed=0, lo=-3.0, hi=3.0):
    return rand(*shape, seed=seed, lo=lo, hi=hi).requires_grad_(True)


def cases():
    s = (8, 64, 128, 130)
    x, w, b = rand(*s, seed=1), torch.ones(64), torch.zeros(64)
    rm, rv = torch.zeros(64), torch.ones(64)

    def bn_fwd():
        with torch.no_grad():
            return F.batch_norm(x, rm, rv, w, b, True, 0.1, 1e-5)

    xl, wl, bl, g = leaf(*s, seed=1), leaf(64, seed=2, lo=0.5, hi=1.5), leaf(64, seed=3), rand(*s, seed=4)

    def bn_fwd_bwd():
        y = F.batch_norm(xl, rm, rv, wl, bl, True, 0.1, 1e-5)
        return torch.autograd.grad(y, (xl, wl, bl), g)

    ls = (8, 256, 512)
    lx, lw, lb = rand(*ls, seed=5), torch.ones(512), torch.zeros(512)

    def ln_fwd():
        with torch.no_grad():
            return F.layer_norm(lx, (512,), lw, lb, 1e-5)

    lxl, lwl, lbl, lg = leaf(*ls, seed=5), leaf(512, seed=6, lo=0.5, hi=1.5), leaf(512, seed=7), rand(*ls, seed=8)

    def ln_fwd_bwd():
        y = F.layer_norm(lxl, (512,), lwl, lbl, 1e-5)
        return torch.autograd.grad(y, (lxl, lwl, lbl), lg)

    cx, ct = rand(256, 1000, seed=9), torch.randint(0, 1000, (256,))
    cxl = leaf(256, 1000, seed=9)

    def ce_fwd():
        with torch.no_grad():
            return F.cross_entropy(cx, ct)

    def ce_fwd_bwd():
        return torch.autograd.grad(F.cross_entropy(cxl, ct), cxl)

    return {
        "BM_batch_norm2d_fwd": ("batch_norm2d fwd [8,64,128,130]", bn_fwd),
        "BM_batch_norm2d_fwd_bwd": ("batch_norm2d fwd+bwd [8,64,128,130]", bn_fwd_bwd),
        "BM_layer_norm_fwd": ("layer_norm fwd [8,256,512]", ln_fwd),
        "BM_layer_norm_fwd_bwd": ("layer_norm fwd+bwd [8,256,512]", ln_fwd_bwd),
        "BM_cross_entropy_fwd": ("cross_entropy fwd [256,1000]", ce_fwd),
        "BM_cross_entropy_fwd_bwd": ("cross_entropy fwd+bwd [256,1000]", ce_fwd_bwd),
    }


def run_fermata(binary, reps):
    out = subprocess.run([binary, "--benchmark_filter=BM_(batch_norm|layer_norm|cross_entropy)",
                          "--benchmark_format=json", f"--benchmark_repetitions={reps}",
                          "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True).stdout
    res = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].split("/")[0]
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        res[name] = (b["real_time"] * scale, b.get("GB/s"))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads and OMP_NUM_THREADS")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    fer = run_fermata(a.binary, a.repetitions) if a.binary else {}
    print(f"{'case':40s} {'fermata':>10s} {'torch':>10s} {'torch/fermata':>14s} {'fermata GB/s':>13s}")
    for name, (label, fn) in cases().items():
        tt = time_median(fn, a.repetitions)
        if name in fer:
            ft, gbs = fer[name]
            print(f"{label:40s} {ft * 1e3:8.3f}ms {tt * 1e3:8.3f}ms {tt / ft:14.2f} {gbs or 0:13.2f}")
        else:
            print(f"{label:40s} {'-':>10s} {tt * 1e3:8.3f}ms")


if __name__ == "__main__":
    main()
