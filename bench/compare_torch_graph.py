#!/usr/bin/python3
"""GCNConv forward + backward in PyTorch at the sizes of bench/layers/graph_bench.cpp.

    /usr/bin/python3 bench/compare_torch_graph.py [build/bench/fermata_bench] [--threads 2]
        [--repetitions 5]

A random graph of N = 1024 nodes with 8 edges per node (8192 edges; the same sizes as fermata's,
not the same edges), 128 -> 128 features, float32. torch_geometric is not installed, so GCNConv
is written with plain torch ops the way torch_geometric 2.x computes it: gcn_norm
(add_remaining_self_loops, target-side degrees, D^-1/2 (A + I) D^-1/2), h = x @ W^T, the sparse
aggregation, + bias. Each step is y = gcn(x) and torch.autograd.grad(y, [x, W, b], g), the work
BM_gcnconv_fwd_bwd does. The aggregation is done three ways:
  * sparse_coo: torch.sparse.mm(A, h) with A a COO tensor [target, source] (coalesced);
  * sparse_csr: the same with A.to_sparse_csr() (if this torch supports its backward);
  * gather_scatter: h.index_select(0, source) * w, index_add_ into the targets — what
    torch_geometric's propagate does on the CPU for an edge_index tensor.
cached:0 normalises and builds A on every step (torch_geometric's default); cached:1 builds it
once (GCNConv(cached=True)). "fwd" is the forward alone under no_grad. Times are the median of
--repetitions runs of enough calls to fill about 0.2 s (time.perf_counter, wall clock). With a
fermata_bench path, fermata's BM_gcnconv_* figures are run too and printed beside the best
PyTorch variant.
"""
import argparse
import json
import subprocess
import time

import torch

from torch_timing import time_median, time_runs  # noqa: E402

N, DEG, F = 1024, 8, 128


def fm_name(kind, cached):
    return f"BM_gcnconv_{kind}/N:{N}/deg:{DEG}/F:{F}/cached:{cached}/real_time"


def gcn_norm(ei, n):
    """torch_geometric 2.x gcn_norm with add_remaining_self_loops, no edge weights."""
    mask = ei[0] != ei[1]
    loop = torch.arange(n)
    ei = torch.cat([ei[:, mask], torch.stack([loop, loop])], dim=1)
    w = torch.ones(ei.shape[1])
    deg = torch.zeros(n).scatter_add_(0, ei[1], w)
    dinv = deg.pow(-0.5)
    dinv.masked_fill_(dinv == float("inf"), 0)
    return ei, dinv[ei[0]] * w * dinv[ei[1]]


def adjacency(ei, n, layout):
    ei, w = gcn_norm(ei, n)
    if layout == "gather_scatter":
        return ei, w
    a = torch.sparse_coo_tensor(torch.stack([ei[1], ei[0]]), w, (n, n)).coalesce()
    return a.to_sparse_csr() if layout == "sparse_csr" else a


def propagate(a, h, layout):
    if layout == "gather_scatter":
        ei, w = a
        msg = h.index_select(0, ei[0]) * w.unsqueeze(1)
        return torch.zeros_like(h).index_add_(0, ei[1], msg)
    return torch.sparse.mm(a, h)


def torch_times(reps):
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, N, (2, N * DEG), generator=g)
    x = (torch.rand(N, F, generator=g) * 6 - 3).requires_grad_(True)
    bound = (6.0 / (F + F)) ** 0.5
    w = ((torch.rand(F, F, generator=g) * 2 - 1) * bound).requires_grad_(True)
    b = torch.zeros(F, requires_grad=True)
    gy = torch.rand(N, F, generator=g) * 6 - 3
    out = {}
    for layout in ("sparse_coo", "sparse_csr", "gather_scatter"):
        for cached in (0, 1):
            fixed = adjacency(ei, N, layout) if cached else None

            def forward():
                a = fixed if cached else adjacency(ei, N, layout)
                return propagate(a, x @ w.t(), layout) + b

            def step():
                return torch.autograd.grad(forward(), [x, w, b], gy)

            def fwd():
                with torch.no_grad():
                    return forward()

            try:
                step()
            except (RuntimeError, NotImplementedError) as e:
                print(f"  {layout}: backward not supported here ({str(e).splitlines()[0][:90]})")
                break
            out[(layout, "fwd_bwd", cached)] = time_median(step, reps)
            out[(layout, "fwd", cached)] = time_median(fwd, reps)
    return out


def fermata_times(exe, reps):
    res = subprocess.run([exe, "--benchmark_filter=BM_gcn", "--benchmark_format=json",
                          f"--benchmark_repetitions={reps}", "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True)
    out = {}
    for b in json.loads(res.stdout)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            unit = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
            out[b["run_name"]] = b["real_time"] * unit
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fermata_bench", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; GCNConv N={N} "
          f"edges={N * DEG} (+{N} self-loops) F={F}->{F}, float32")
    th = torch_times(a.repetitions)
    fm = fermata_times(a.fermata_bench, a.repetitions) if a.fermata_bench else {}
    print(f"{'case':<30} {'coo ms':>8} {'csr ms':>8} {'gather ms':>9} {'fermata ms':>10} {'best torch/fm':>13}")
    for kind in ("fwd_bwd", "fwd"):
        for cached in (0, 1):
            ts = [th.get((lay, kind, cached)) for lay in ("sparse_coo", "sparse_csr", "gather_scatter")]
            cells = " ".join(f"{t * 1e3:8.3f}" if t else f"{'-':>8}" for t in ts[:2]) + \
                (f" {ts[2] * 1e3:9.3f}" if ts[2] else f" {'-':>9}")
            f = fm.get(fm_name(kind, cached))
            best = min(t for t in ts if t)
            fs = f"{f * 1e3:10.3f} {best / f:13.2f}" if f else ""
            print(f"{kind + ' cached:' + str(cached):<30} {cells} {fs}")


if __name__ == "__main__":
    main()
