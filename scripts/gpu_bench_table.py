#!/usr/bin/env python3
"""One table from fermata_bench's JSON for the CUDA benchmarks (BM_cuda_*).

Memory-bound kernels are measured against the roofline: their "bytes" counter over the
bandwidth that BM_cuda_memcpy_d2d measured in the same run (bytes read + written). GEMMs are
measured against a bare cuBLAS call on the same shape (BM_cuda_cublas_sgemm) and against the
peak, the best GFLOP/s any cuBLAS run reached with the same TF32 setting.
Usage: gpu_bench_table.py bench.json
"""
import json
import sys


def to_us(b):
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "ns")]
    return b["real_time"] * scale


def main(path):
    with open(path) as f:
        data = json.load(f)
    runs = {}
    for b in data["benchmarks"]:
        if not b["name"].startswith("BM_cuda_") or b.get("error_occurred"):
            continue
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"]).replace("/manual_time", "")
        runs[name] = b  # a median (aggregate) replaces the single run of the same name
    if not runs:
        print("no CUDA benchmark results (no GPU, or every run failed)")
        return 1

    def args(name):
        return name.split("/")[1:]

    bw = max((r["bytes"] / (to_us(r) * 1e-6) for n, r in runs.items() if n.startswith("BM_cuda_memcpy_d2d")),
             default=None)
    peak = {}
    for n, r in runs.items():
        if n.startswith("BM_cuda_cublas_sgemm"):
            tf32 = args(n)[-1]
            peak[tf32] = max(peak.get(tf32, 0), r["flops"] / (to_us(r) * 1e-6))
    print(f"host: {data['context'].get('host_name', '?')}, date {data['context'].get('date', '?')}")
    print(f"measured bandwidth (cudaMemcpy D2D, read + write): {bw / 1e9:.0f} GB/s" if bw else
          "measured bandwidth: none (BM_cuda_memcpy_d2d missing)")
    for tf32, p in sorted(peak.items()):
        print(f"measured cuBLAS peak ({'TF32' if tf32 == '1' else 'FP32'}): {p / 1e12:.1f} TFLOP/s")
    rows = []
    for n, r in sorted(runs.items()):
        if n.startswith(("BM_cuda_cublas_sgemm", "BM_cuda_memcpy_d2d", "BM_cuda_lib_")):
            continue
        kernel = n.split("/")[0][len("BM_cuda_"):]
        a = args(n)
        ours = to_us(r)
        if kernel == "mm":
            yard_run = runs.get(n.replace("BM_cuda_mm", "BM_cuda_cublas_sgemm"))
            yard = to_us(yard_run) if yard_run else None
            p = peak.get(a[-1])
            frac = r["flops"] / (ours * 1e-6) / p if p else None
            shape = "x".join(a[:3]) + (" tf32" if a[-1] == "1" else " fp32")
            variant = "cublas"
        elif "/".join(["BM_cuda_lib_" + kernel] + a[:-1]) in runs:
            # a library yardstick on the same shape (cuDNN, cuFFT): compute-bound kernels (a
            # "flops" counter) against the FP32 cuBLAS peak, the others against the bandwidth
            yard = to_us(runs["/".join(["BM_cuda_lib_" + kernel] + a[:-1])])
            if r.get("flops") and peak.get("0"):
                frac = r["flops"] / (ours * 1e-6) / peak["0"]
            else:
                frac = r["bytes"] / bw / (ours * 1e-6) if bw else None
            shape = "x".join(a[:-1])
            variant = "v" + a[-1]
        else:
            yard = r["bytes"] / bw * 1e6 if bw else None
            frac = yard / ours if yard else None
            shape = "x".join(a[:-1])
            variant = "v" + a[-1]
        rows.append((kernel, shape, variant, f"{ours:.1f}", f"{yard:.1f}" if yard else "-",
                     f"{ours / yard:.2f}" if yard else "-", f"{100 * frac:.0f}%" if frac else "-"))
    head = ("kernel", "shape", "variant", "ours (us)", "yardstick (us)", "ratio", "of roofline")
    widths = [max(len(str(x[i])) for x in rows + [head]) for i in range(len(head))]
    for row in [head] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print("yardstick: the library on the same shape where there is one (cuDNN for conv2d, cuFFT for rfft, a bare"
          " cublasSgemm for mm), else bytes / measured bandwidth; ratio = ours / yardstick; of roofline = achieved"
          " FLOP/s over the FP32 cuBLAS peak for kernels with a flop count, else bytes/s over the bandwidth")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
