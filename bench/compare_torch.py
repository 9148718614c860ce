#!/usr/bin/python3
"""Runs fermata_bench and the same ops in PyTorch, and prints them side by side.

    /usr/bin/python3 bench/compare_torch.py build/bench/fermata_bench [--markdown out.md]
        [--repetitions 5] [--filter REGEX] [--fermata-json saved.json] [--save-json out.json]
        [--benchmark-arg=--benchmark_min_time=0.2]

fermata's figures come from `fermata_bench --benchmark_format=json` (median of
--benchmark_repetitions runs, wall-clock time). PyTorch runs the same op at the same size, with
torch.set_num_threads = fermata's OpenMP thread count, inputs allocated outside the timed loop,
under torch.no_grad(); each op is timed with time.perf_counter over enough calls to fill about
0.1 s, and the median of --repetitions such runs is reported. Note that a PyTorch call also pays
Python's dispatch overhead (about a microsecond or two), which dominates at 1e3 elements.

Columns: fermata time, torch time, torch/fermata (> 1: fermata is faster), fermata GB/s, and
that as a fraction of this machine's measured memory bandwidth (the best of BM_memcpy and
BM_memcpy_omp at 1e7 floats; meaningful for the large, memory-bound sizes only: small sizes run
from cache and can exceed 100%).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from torch_timing import time_median, time_runs  # noqa: E402

F32 = torch.float32


def rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=F32) * 6 - 3


# name in fermata_bench (without "/real_time") -> (label, size label, torch callable factory)
# A factory takes the benchmark's integer arguments and returns a zero-argument callable.
def torch_case(base, args):
    if base in ("BM_add", "BM_mul", "BM_gelu", "BM_exp"):
        n = args[0]
        a, b = rand(n, seed=1), rand(n, seed=2)
        fn = {"BM_add": lambda: torch.add(a, b), "BM_mul": lambda: torch.mul(a, b),
              "BM_gelu": lambda: F.gelu(a), "BM_exp": lambda: torch.exp(a)}[base]
        return fn, f"{n:.0e}"
    if base == "BM_add_bias":
        n = args[0]
        rows = max(1, n // 1024)
        a, b = rand(rows, 1024, seed=1), rand(1024, seed=2)
        return (lambda: a + b), f"[{rows},1024]+[1024]"
    if base == "BM_sum_all":
        x = rand(args[0], seed=4)
        return (lambda: x.sum()), f"{args[0]:.0e}"
    if base in ("BM_sum_lastdim", "BM_sum_firstdim", "BM_softmax", "BM_log_softmax"):
        r, c = args
        x = rand(r, c, seed=5)
        fn = {"BM_sum_lastdim": lambda: x.sum(-1), "BM_sum_firstdim": lambda: x.sum(0),
              "BM_softmax": lambda: torch.softmax(x, -1),
              "BM_log_softmax": lambda: torch.log_softmax(x, -1)}[base]
        return fn, f"[{r},{c}]"
    if base == "BM_matmul":
        s = args[0]
        a, b = rand(s, s, seed=9), rand(s, s, seed=10)
        return (lambda: torch.matmul(a, b)), f"{s}x{s}x{s}"
    if base == "BM_matmul_shape":
        m, k, n = args
        a, b = rand(m, k, seed=11), rand(k, n, seed=12)
        return (lambda: torch.matmul(a, b)), f"[{m}x{k}]@[{k}x{n}]"
    if base == "BM_bmm":
        bh, t, d = args
        q, k = rand(bh, t, d, seed=13), rand(bh, d, t, seed=14)
        return (lambda: torch.bmm(q, k)), f"{bh}x[{t}x{d}]@[{d}x{t}]"
    if base == "BM_clone":
        x = rand(args[0], seed=0)
        return (lambda: x.clone()), f"{args[0]:.0e}"
    if base == "BM_contiguous_t":
        s = args[0]
        x = rand(s, s, seed=0).t()
        return (lambda: x.contiguous()), f"[{s},{s}]^T"
    if base in ("BM_memcpy", "BM_memcpy_omp"):
        n = args[0]
        src, dst = rand(n), torch.empty(n, dtype=F32)
        return (lambda: dst.copy_(src)), f"{n:.0e}"
    return None, None


def run_fermata(binary, repetitions, filt, extra):
    cmd = [binary, "--benchmark_format=json", f"--benchmark_repetitions={repetitions}",
           "--benchmark_report_aggregates_only=true"] + list(extra)
    if filt:
        cmd.append(f"--benchmark_filter={filt}")
    print("running:", " ".join(cmd), file=sys.stderr)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        sys.exit(f"fermata_bench failed (exit {proc.returncode}); note that benchmark names end in "
                 f"'/real_time' when anchoring a filter with '$':\n{proc.stderr}")
    return json.loads(proc.stdout)


def unit_time(s):
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    return f"{s * 1e3:.2f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", help="path to fermata_bench")
    ap.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown to FILE")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--filter", default="", help="benchmark filter regex (fermata and torch)")
    ap.add_argument("--fermata-json", metavar="FILE",
                    help="read fermata's results from this JSON file instead of running the binary")
    ap.add_argument("--benchmark-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for fermata_bench, e.g. --benchmark-arg=--benchmark_min_time=0.2")
    ap.add_argument("--save-json", metavar="FILE", help="save fermata's JSON output to FILE")
    args = ap.parse_args()

    if args.fermata_json:
        with open(args.fermata_json) as f:
            data = json.load(f)
    else:
        data = run_fermata(args.binary, args.repetitions, args.filter, args.benchmark_arg)
    if args.save_json:
        with open(args.save_json, "w") as f:
            json.dump(data, f, indent=1)

    ctx = data.get("context", {})
    threads = int(ctx.get("fermata_threads", os.cpu_count() or 1))
    torch.set_num_threads(threads)

    # median aggregates, keyed by the run name without "/real_time"
    results = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"]).replace("/real_time", "")
        results[name] = b

    def seconds(b):
        mult = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
        return b["real_time"] * mult

    bw_candidates = [results[k]["GB/s"] for k in ("BM_memcpy/10000000", "BM_memcpy_omp/10000000")
                     if k in results]
    bandwidth = max(bw_candidates) if bw_candidates else None

    rows = []
    with torch.no_grad():
        for name, b in results.items():
            base, *rest = name.split("/")
            iargs = [int(a) for a in rest]
            fn, size = torch_case(base, iargs)
            if fn is None:
                continue
            tt = time_median(fn, args.repetitions)
            ft = seconds(b)
            gbs = b.get("GB/s")
            frac = gbs / bandwidth if (gbs is not None and bandwidth) else None
            rows.append({
                "op": base[3:], "size": size, "fermata": ft, "torch": tt, "ratio": tt / ft,
                "gbs": gbs, "frac": frac, "gflops": b.get("GFLOP/s"),
            })
            del fn

    hdr = ["op", "size", "fermata", "torch", "torch/fermata", "fermata GB/s", "% of bw", "GFLOP/s"]

    def cells(r):
        return [r["op"], r["size"], unit_time(r["fermata"]), unit_time(r["torch"]), f"{r['ratio']:.2f}",
                f"{r['gbs']:.1f}" if r["gbs"] is not None else "",
                f"{100 * r['frac']:.0f}%" if r["frac"] is not None else "",
                f"{r['gflops']:.1f}" if r["gflops"] is not None else ""]

    table = [hdr] + [cells(r) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(hdr))]
    load = os.getloadavg()
    print(f"fermata threads = torch threads = {threads}; torch {torch.__version__}; "
          f"measured bandwidth {bandwidth:.1f} GB/s; load average {load[0]:.2f}" if bandwidth else
          f"fermata threads = torch threads = {threads}; torch {torch.__version__}")
    for i, row in enumerate(table):
        print("  ".join(c.rjust(w) if j >= 2 else c.ljust(w) for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))

    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(f"threads: {threads} (fermata OpenMP = torch.set_num_threads); "
                    f"torch {torch.__version__}; measured bandwidth "
                    f"{bandwidth:.1f} GB/s\n\n" if bandwidth else "\n")
            f.write("| " + " | ".join(hdr) + " |\n")
            f.write("|" + "|".join(["---", "---"] + ["---:"] * (len(hdr) - 2)) + "|\n")
            for r in rows:
                f.write("| " + " | ".join(cells(r)) + " |\n")
        print(f"wrote {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
