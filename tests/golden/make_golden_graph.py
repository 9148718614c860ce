#!/usr/bin/python3
"""Golden data for tests/golden/graph_golden_test.cpp: GCNConv and graph pooling, PyTorch 1.13.

Run with `/usr/bin/python3 tests/golden/make_golden_graph.py` (Debian's python3-torch); it
rewrites tests/golden/data/graph.safetensors deterministically.

torch_geometric is not installed, so everything is computed by hand with plain torch ops, from
the definitions in torch_geometric 2.x:
  * GCNConv: out = A_hat (x @ W^T) + b with A_hat = D^-1/2 (A + I) D^-1/2, the dense matrix
    A[t, s] = sum of the weights of the edges s -> t (edge_index row 0 = source, row 1 = target;
    duplicate edges add up). Self-loops follow add_remaining_self_loops: existing loops are
    replaced by one loop per node whose weight is the existing loop's weight, else the fill value
    (1, or 2 with improved). deg[t] = sum_s A_hat_unnormalised[t, s] (target side), deg^-1/2 = 0
    where deg = 0.
  * global_{add,mean,max}_pool: per graph, sum / mean / amax over its nodes; an empty graph
    gives zeros.
  * attention pooling (GlobalAttention / AttentionalAggregation): softmax of the gate over the
    nodes of each graph, then the gate-weighted sum of h = nn(x) (or x).
Same layout as make_golden.py: per case `c` the inputs `c.in0, c.in1, ...` (float inputs are
differentiated; int64 ones are edge_index / batch), `c.out`, `c.grad_out` and `c.grad<i>`.
The graph: 12 nodes in 3 graphs (nodes 0-4, 5-8, 9-11), 18 edges including a duplicate edge
(0 -> 1 twice), two existing self-loops (3 -> 3, 10 -> 10), a node with no incoming edge but
its loop (9 has one from 10) and an isolated node (11). F = 5 input features, 4 outputs.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import OUT_DIR, Family  # noqa: E402

F64 = torch.float64
N = 12
EDGES = [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 4), (4, 0), (0, 1), (3, 3),
         (5, 6), (6, 7), (7, 8), (8, 5), (6, 5), (7, 5),
         (10, 9), (9, 10), (10, 10)]
EDGE_INDEX = torch.tensor(EDGES, dtype=torch.int64).t().contiguous()
BATCH_SORTED = torch.tensor([0] * 5 + [1] * 4 + [2] * 3, dtype=torch.int64)
# unsorted, 4 graphs of which graph 2 is empty
BATCH_4 = torch.tensor([3, 0, 1, 0, 3, 1, 0, 3, 1, 0, 3, 0], dtype=torch.int64)


def gcn_matrix(ei, n, dtype, ew=None, improved=False, add_self_loops=True, normalize=True):
    """The dense propagation matrix A_hat[t, s] of torch_geometric's GCNConv."""
    src, tgt = ei[0], ei[1]
    w = ew if ew is not None else torch.ones(ei.shape[1], dtype=dtype)
    if normalize and add_self_loops:
        loop = src == tgt
        keep = ~loop
        a = torch.zeros(n, n, dtype=dtype).index_put((tgt[keep], src[keep]), w[keep], accumulate=True)
        diag = torch.full((n,), 2.0 if improved else 1.0, dtype=dtype)
        loops = loop.nonzero().flatten()
        if len(loops):
            diag = diag.index_put((src[loops],), w[loops])  # the data has one loop per node at most
        a = a + torch.diag(diag)
    else:
        a = torch.zeros(n, n, dtype=dtype).index_put((tgt, src), w, accumulate=True)
    if not normalize:
        return a
    deg = a.sum(1)  # over the sources of the edges into t
    dinv = torch.where(deg == 0, torch.zeros_like(deg), torch.where(deg == 0, torch.ones_like(deg), deg).pow(-0.5))
    return dinv[:, None] * a * dinv[None, :]


def gcn(x, weight, bias, ei, ew=None, **kw):
    out = gcn_matrix(ei, x.shape[0], x.dtype, ew, **kw) @ (x @ weight.t())
    return out + bias if bias is not None else out


def segment(x, batch, num_graphs, reduce):
    outs = []
    for g in range(num_graphs):
        idx = (batch == g).nonzero().flatten()
        if len(idx) == 0:
            outs.append(torch.zeros(x.shape[1:], dtype=x.dtype))
            continue
        xs = x.index_select(0, idx)
        outs.append({"sum": lambda: xs.sum(0), "mean": lambda: xs.mean(0), "max": lambda: xs.amax(0)}[reduce]())
    return torch.stack(outs)


def attention(gate, h, batch, num_graphs):
    outs = []
    for g in range(num_graphs):
        idx = (batch == g).nonzero().flatten()
        if len(idx) == 0:
            outs.append(torch.zeros(h.shape[1:], dtype=h.dtype))
            continue
        a = torch.softmax(gate.index_select(0, idx), dim=0)
        outs.append((a * h.index_select(0, idx)).sum(0))
    return torch.stack(outs)


def r(*shape, lo=-1.0, hi=1.0):
    return torch.rand(*shape, dtype=F64) * (hi - lo) + lo


def main():
    fam = Family("graph", 20240605)
    x = r(N, 5)
    w, b = r(4, 5), r(4)
    ew = r(EDGE_INDEX.shape[1], lo=0.5, hi=1.5)
    ei = EDGE_INDEX

    # GCNConv: inputs x, weight [out, in], bias, edge_index (, edge_weight)
    fam.case("gcn_basic", lambda x, w, b, ei: gcn(x, w, b, ei), x, w, b, ei)
    fam.case("gcn_edge_weight", lambda x, w, b, ei, ew: gcn(x, w, b, ei, ew), x, w, b, ei, ew)
    fam.case("gcn_improved_nobias", lambda x, w, ei: gcn(x, w, None, ei, improved=True), x, w, ei)
    fam.case("gcn_improved_edge_weight", lambda x, w, b, ei, ew: gcn(x, w, b, ei, ew, improved=True),
             x, w, b, ei, ew)
    fam.case("gcn_no_self_loops", lambda x, w, b, ei: gcn(x, w, b, ei, add_self_loops=False), x, w, b, ei)
    fam.case("gcn_no_normalize", lambda x, w, b, ei, ew: gcn(x, w, b, ei, ew, normalize=False),
             x, w, b, ei, ew)
    fam.case("gcn_basic_f32", lambda x, w, b, ei: gcn(x, w, b, ei), x.float(), w.float(), b.float(), ei)
    # the blog's chord-progression GCN, shortened: conv -> relu -> conv -> global_mean_pool
    w1, b1, w2, b2 = r(6, 5), r(6), r(4, 6), r(4)
    fam.case("gcn_two_layer_mean_pool",
             lambda x, w1, b1, w2, b2, ei, batch: segment(
                 gcn(torch.relu(gcn(x, w1, b1, ei)), w2, b2, ei), batch, 3, "mean"),
             x, w1, b1, w2, b2, ei, BATCH_SORTED)

    # pooling over an unsorted batch with an empty graph (num_graphs = 4, graph 2 empty)
    xp = r(N, 5)
    for red, name in (("sum", "add"), ("mean", "mean"), ("max", "max")):
        fam.case(f"pool_{name}", lambda x, batch, red=red: segment(x, batch, 4, red), xp, BATCH_4)
    # num_graphs from batch.max() + 1, sorted batch
    fam.case("pool_mean_sorted", lambda x, batch: segment(x, batch, 3, "mean"), xp, BATCH_SORTED)
    fam.case("pool_max_sorted", lambda x, batch: segment(x, batch, 3, "max"), xp, BATCH_SORTED)

    # attention pooling: gate_nn = Linear(5, 1); optionally nn = Linear(5, 3)
    gw, gb, nw, nb = r(1, 5), r(1), r(3, 5), r(3)
    fam.case("attention_gate", lambda x, gw, gb, batch: attention(x @ gw.t() + gb, x, batch, 4),
             xp, gw, gb, BATCH_4)
    fam.case("attention_gate_nn",
             lambda x, gw, gb, nw, nb, batch: attention(x @ gw.t() + gb, x @ nw.t() + nb, batch, 4),
             xp, gw, gb, nw, nb, BATCH_4)
    # the blog's gate: Linear(5, 4) -> Tanh -> Linear(4, 1), sorted batch
    g0w, g0b, g2w, g2b = r(4, 5), r(4), r(1, 4), r(1)
    fam.case("attention_mlp_gate",
             lambda x, g0w, g0b, g2w, g2b, batch: attention(
                 torch.tanh(x @ g0w.t() + g0b) @ g2w.t() + g2b, x, batch, 3),
             xp, g0w, g0b, g2w, g2b, BATCH_SORTED)
    # per-feature gates [N, F]
    fam.case("attention_feature_gate", lambda g, x, batch: attention(g, x, batch, 4), r(N, 5), xp, BATCH_4)
    fam.write()


if __name__ == "__main__":
    main()
