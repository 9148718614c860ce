"""Timing of PyTorch calls for the bench/compare_torch*.py scripts: warm up, calibrate how many
calls fill about `target_s` seconds, then time `repetitions` runs of that many calls."""
import statistics
import time


def time_runs(fn, repetitions, target_s=0.2):
    """Per-call seconds of each run."""
    for _ in range(2):
        fn()
    calls, elapsed = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= target_s / 4 or calls >= 1 << 20:
            break
        calls *= 2
    calls = max(1, int(calls * target_s / max(elapsed, 1e-9)))
    runs = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        runs.append((time.perf_counter() - t0) / calls)
    return runs


def time_median(fn, repetitions, target_s=0.2):
    """Median per-call seconds over the runs."""
    return statistics.median(time_runs(fn, repetitions, target_s))


def fermata_json(binary, repetitions, bench_filter, saved=None):
    """fermata_bench's JSON for the benchmarks matching bench_filter (medians of `repetitions`
    runs), or the results saved earlier in the file `saved`."""
    import json
    import subprocess
    import sys
    if saved:
        with open(saved) as f:
            return json.load(f)
    cmd = [binary, "--benchmark_format=json", f"--benchmark_repetitions={repetitions}",
           "--benchmark_report_aggregates_only=true", f"--benchmark_filter={bench_filter}"]
    print("running:", " ".join(cmd), file=sys.stderr)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"fermata_bench failed:\n{proc.stderr}")
    return json.loads(proc.stdout)
