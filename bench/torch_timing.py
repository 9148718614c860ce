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
