#!/usr/bin/python3
"""conv2d forward + backward in PyTorch at the shapes of bench/layers/conv_bench.cpp.

    /usr/bin/python3 bench/compare_torch_conv.py [build/bench/fermata_bench] [--threads 2]
        [--repetitions 5]

Batch 8, float32, stride 1: 1->64 3x3 pad 1 on 128x130; 64->128 12x1 and 64->128 1x7 on 64x65;
256->256 3x3 pad 1 on 64x65. Each step is y = conv2d(x, w, b) and torch.autograd.grad(y,
[x, w, b], g), the work BM_conv2d_fwd_bwd does; "fwd" is the forward alone under no_grad.
Each PyTorch run times enough calls to fill about 0.3 s (time.perf_counter, wall clock). With a
fermata_bench path, the matching BM_conv2d_* benchmark runs too, alternating with PyTorch case
by case (--rounds times, --repetitions runs each), so both see the same machine load; the
minimum and the median of the runs are printed (on a shared machine the minimum is the
figure least disturbed by other processes).
"""
import argparse
import json
import re
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F

from torch_timing import time_median, time_runs  # noqa: E402

SHAPES = [  # C, O, H, W, kh, kw, ph, pw
    (1, 64, 128, 130, 3, 3, 1, 1),
    (64, 128, 64, 65, 12, 1, 0, 0),
    (64, 128, 64, 65, 1, 7, 0, 0),
    (256, 256, 64, 65, 3, 3, 1, 1),
]
N = 8


def name(kind, s):
    c, o, h, w, kh, kw, ph, pw = s
    return f"BM_conv2d_{kind}/{c}/{o}/{h}/{w}/{kh}/{kw}/{ph}/{pw}/real_time"


def torch_runs(kind, s, reps):
    c, o, h, w, kh, kw, ph, pw = s
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(N, c, h, w, generator=g) * 6 - 3).requires_grad_(True)
    wt = ((torch.rand(o, c, kh, kw, generator=g) * 6 - 3) * 0.05).requires_grad_(True)
    b = ((torch.rand(o, generator=g) * 6 - 3) * 0.05).requires_grad_(True)
    ho, wo = h + 2 * ph - kh + 1, w + 2 * pw - kw + 1
    gy = torch.rand(N, o, ho, wo, generator=g) * 6 - 3

    def step():
        y = F.conv2d(x, wt, b, padding=(ph, pw))
        return torch.autograd.grad(y, [x, wt, b], gy)

    def fwd():
        with torch.no_grad():
            return F.conv2d(x, wt, b, padding=(ph, pw))

    flops = 2.0 * N * o * ho * wo * c * kh * kw * (3 if kind == "fwd_bwd" else 1)
    return time_runs(step if kind == "fwd_bwd" else fwd, reps), flops


def fermata_runs(exe, bench_name, reps):
    pattern = "^" + re.escape(bench_name) + "$"
    res = subprocess.run([exe, f"--benchmark_filter={pattern}", "--benchmark_format=json",
                          f"--benchmark_repetitions={reps}", "--benchmark_min_time=0.3"],
                         check=True, capture_output=True, text=True)
    runs = []
    for b in json.loads(res.stdout)["benchmarks"]:
        if b.get("run_type") == "iteration":
            unit = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
            runs.append(b["real_time"] * unit)
    return runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fermata_bench", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2, help="fermata/torch alternations per case")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"mkldnn {torch.backends.mkldnn.is_available()}; min (median) over "
          f"{a.rounds}x{a.repetitions} runs, fermata and torch alternating")
    print(f"{'case (C/O/H/W/kh/kw/ph/pw)':<46} {'torch ms':>17} {'GFLOP/s':>8} {'fermata ms':>17} "
          f"{'GFLOP/s':>8} {'torch/fm':>8}")
    for kind in ("fwd_bwd", "fwd"):
        for s in SHAPES:
            bench = name(kind, s)
            tr, fr = [], []
            for _ in range(a.rounds):
                if a.fermata_bench:
                    fr += fermata_runs(a.fermata_bench, bench, a.repetitions)
                t, flops = torch_runs(kind, s, a.repetitions)
                tr += t
            tmin, tmed = min(tr), statistics.median(tr)
            line = f"{bench.replace('/real_time', ''):<46} {tmin * 1e3:8.1f} ({tmed * 1e3:6.1f}) {flops / tmin / 1e9:8.1f}"
            if fr:
                fmin, fmed = min(fr), statistics.median(fr)
                line += f" {fmin * 1e3:8.1f} ({fmed * 1e3:6.1f}) {flops / fmin / 1e9:8.1f} {tmin / fmin:8.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
