#!/usr/bin/python3
"""Training-step time and peak memory of fermata's models (`fermata bench models --json`) and
of the same architectures in PyTorch 1.13 (bench/torch_models.py), side by side.

    /usr/bin/python3 bench/compare_torch_models.py <build>/apps/fermata [--steps 10] [--warmup 2]
        [--threads 2] [--model NAME] [--fermata-json saved.json]

A step is: gradients set to None, forward, cross-entropy against fixed labels, backward, Adam
(lr 1e-3). Shapes: music_cnn on 8 clips of 3 s at 22.05 kHz (log-mel front end inside the
model: n_fft 2048, hop 512, 128 mels); harmonic_cnn on 8 magnitude spectrograms 1x128x130.
Each model runs in its own process on both sides, so the peak resident memory (VmHWM) is that
model's alone (each includes its runtime: the Python interpreter and libtorch, or fermata).
Both sides inherit the environment: on a busy machine, OMP_WAIT_POLICY=passive (idle OpenMP
threads sleep instead of spinning) changes both a lot; docs/MODELS.md has figures with and
without it.
Times are the median of --steps steps after --warmup untimed ones, as wall-clock ms and as the
process's CPU ms (all threads: less sensitive to other load on a shared machine; a runtime that
spins idle threads pays for it here); ratio = fermata / PyTorch (below 1: fermata is faster or
smaller).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CASES = {"music_cnn": (8, 3 * 22050), "harmonic_cnn": (8, 1, 128, 130)}


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def torch_child(name, steps, warmup, threads):
    import warnings
    warnings.filterwarnings("ignore")
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_models import HarmonicCNN, MusicCNN
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = (MusicCNN if name == "music_cnn" else HarmonicCNN)(n_classes=10)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    shape = CASES[name]
    x = torch.rand(shape) * 2 - 1 if len(shape) == 2 else torch.rand(shape) + 1e-3
    target = torch.randint(0, 10, (shape[0],))
    ms, cpu = [], []
    for i in range(warmup + steps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        c1 = time.process_time()
        if i >= warmup:
            ms.append((t1 - t0) * 1e3)
            cpu.append((c1 - c0) * 1e3)
    print(json.dumps({"model": name, "median_ms": statistics.median(ms), "min_ms": min(ms),
                      "median_cpu_ms": statistics.median(cpu), "peak_rss_mib": peak_rss_mib(), "threads": threads,
                      "step_ms": ms, "step_cpu_ms": cpu}))


def run_torch(name, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-child", name, "--steps", str(args.steps),
           "--warmup", str(args.warmup), "--threads", str(args.threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"PyTorch child for {name} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", nargs="?", help="path to the fermata program")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", choices=sorted(CASES))
    ap.add_argument("--fermata-json", metavar="FILE", help="read fermata's results from this file")
    ap.add_argument("--torch-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_child:
        return torch_child(args.torch_child, args.steps, args.warmup, args.threads)
    if args.fermata_json:
        with open(args.fermata_json) as f:
            ours = json.load(f)
    else:
        if not args.binary:
            ap.error("give the fermata program or --fermata-json")
        cmd = [args.binary, "bench", "models", "--json", "--steps", str(args.steps), "--warmup", str(args.warmup)]
        if args.model:
            cmd += ["--model", args.model]
        print("running:", " ".join(cmd), file=sys.stderr)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
        if proc.returncode != 0:
            sys.exit(f"fermata failed:\n{proc.stderr}")
        ours = json.loads(proc.stdout)
    print(f"training step, median of {args.steps} after {args.warmup} warm-up, {args.threads} threads")
    print(f"{'model':<14} {'fermata ms':>11} {'torch ms':>10} {'ratio':>6}   {'fermata CPU':>11} {'torch CPU':>10} "
          f"{'ratio':>6}   {'fermata MiB':>11} {'torch MiB':>10} {'ratio':>6}")
    for r in ours:
        name = r["model"]
        if args.model and name != args.model:
            continue
        t = run_torch(name, args)
        print(f"{name:<14} {r['median_ms']:>11.1f} {t['median_ms']:>10.1f} {r['median_ms'] / t['median_ms']:>6.2f}   "
              f"{r['median_cpu_ms']:>11.1f} {t['median_cpu_ms']:>10.1f} {r['median_cpu_ms'] / t['median_cpu_ms']:>6.2f}   "
              f"{r['peak_rss_mib']:>11.1f} {t['peak_rss_mib']:>10.1f} {r['peak_rss_mib'] / t['peak_rss_mib']:>6.2f}")


if __name__ == "__main__":
    main()
