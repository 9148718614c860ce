#!/usr/bin/python3
"""Golden data for tests/golden/norm_loss_golden_test.cpp, computed with PyTorch 1.13.

Run with `/usr/bin/python3 tests/golden/make_golden_nn_norm_loss.py`; it rewrites
tests/golden/data/norm_loss.safetensors deterministically (float64 throughout).

The layout is make_golden.py's (read by golden_support.h): per case `c` its inputs `c.in0, ...`,
its outputs `c.out` or `c.out0, c.out1, ...`, a random upstream gradient `c.grad_out<k>` for every
output that requires grad, and the gradient `c.grad<i>` of every input the case differentiates.
Unlike make_golden.py, a case says which inputs it differentiates (`grad=[...]`): batch norm's
running statistics are inputs that are updated in place and returned as outputs (their values
after the step), not differentiated. Module cases run the nn modules over several steps and
return the outputs and the buffers (num_batches_tracked as int64).
"""
import os
import warnings

import torch
import torch.nn.functional as F

from make_golden import OUT_DIR, write_safetensors

OUT = os.path.join(OUT_DIR, "norm_loss.safetensors")


tensors, cases = {}, []


def case(name, fn, *inputs, grad=None):
    """grad: None differentiates every floating input; else one bool per input."""
    assert name not in cases and "." not in name, name
    cases.append(name)
    if grad is None:
        grad = [x.is_floating_point() for x in inputs]
    leaves = []
    for i, (x, g) in enumerate(zip(inputs, grad)):
        tensors[f"{name}.in{i}"] = x.clone()
        x = x.clone()
        if g:
            x.requires_grad_(True)
        leaves.append(x)
    out = fn(*leaves)
    many = isinstance(out, (tuple, list))
    roots, grads = [], []
    for k, y in enumerate(out if many else [out]):
        tag = str(k) if many else ""
        tensors[f"{name}.out{tag}"] = y.detach().clone()
        if y.requires_grad:
            gy = torch.randn(y.shape, dtype=torch.float64)
            tensors[f"{name}.grad_out{tag}"] = gy
            roots.append(y)
            grads.append(gy)
    if roots:
        torch.autograd.backward(roots, grads)
        for i, x in enumerate(leaves):
            if x.requires_grad:
                tensors[f"{name}.grad{i}"] = x.grad if x.grad is not None else torch.zeros_like(x)


def r(*shape, lo=-1.0, hi=1.0):
    return torch.rand(shape, dtype=torch.float64) * (hi - lo) + lo


def idx(*values):
    return torch.tensor(values, dtype=torch.int64)


NO, YES = False, True


def batch_norm_cases():
    def bn_train(x, w, b, rm, rv):
        y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
        return y, rm, rv

    def bn_eval(x, w, b, rm, rv):
        return F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-5)

    def stats(c):
        return r(c, lo=-0.5, hi=0.5), r(c, lo=0.5, hi=2.0)

    g5 = [YES, YES, YES, NO, NO]
    case("bn1d_train_nc", bn_train, r(6, 3, lo=-2, hi=3), r(3, lo=0.5, hi=1.5), r(3), *stats(3), grad=g5)
    case("bn1d_train_ncl", bn_train, r(4, 3, 5, lo=-2, hi=3), r(3, lo=0.5, hi=1.5), r(3), *stats(3), grad=g5)
    case("bn2d_train", bn_train, r(2, 3, 4, 5, lo=-2, hi=3), r(3, lo=0.5, hi=1.5), r(3), *stats(3), grad=g5)
    case("bn2d_eval", bn_eval, r(2, 3, 4, 5, lo=-2, hi=3), r(3, lo=0.5, hi=1.5), r(3), *stats(3), grad=g5)
    case("bn1d_eval_nc", bn_eval, r(5, 4), r(4, lo=0.5, hi=1.5), r(4), *stats(4), grad=g5)
    case("bn2d_train_noaffine",
         lambda x, rm, rv: (F.batch_norm(x, rm, rv, None, None, True, 0.3, 1e-3), rm, rv),
         r(3, 2, 3, 3, lo=-2, hi=3), *stats(2), grad=[YES, NO, NO])
    # non-contiguous: x stored [L, N, C], seen as [N, C, L]
    case("bn1d_train_t", lambda x, w, b, rm, rv: bn_train(x.permute(1, 2, 0), w, b, rm, rv),
         r(5, 4, 3, lo=-2, hi=3), r(3, lo=0.5, hi=1.5), r(3), *stats(3), grad=g5)

    # modules over several steps: train, train, eval; outputs and all buffers
    def bn2d_module(x1, x2, w, b):
        m = torch.nn.BatchNorm2d(3).double()
        with torch.no_grad():
            m.weight.copy_(w)
            m.bias.copy_(b)
        m(x1)
        y2 = m(x2)
        m.eval()
        ye = m(x1)
        return y2, ye, m.running_mean, m.running_var, m.num_batches_tracked

    case("bn2d_module", bn2d_module, r(4, 3, 2, 3, lo=-1, hi=2), r(4, 3, 2, 3, lo=-2, hi=1),
         r(3, lo=0.5, hi=1.5), r(3), grad=[NO] * 4)

    def bn1d_module_cma(x1, x2, x3):
        m = torch.nn.BatchNorm1d(4, momentum=None, affine=False).double()
        m(x1)
        m(x2)
        y3 = m(x3)
        m.eval()
        return y3, m(x1), m.running_mean, m.running_var, m.num_batches_tracked

    case("bn1d_module_cma", bn1d_module_cma, r(5, 4, lo=-1, hi=2), r(5, 4, 2), r(5, 4, 2, lo=0, hi=3), grad=[NO] * 3)


def layer_norm_cases():
    case("ln_last", lambda x, w, b: F.layer_norm(x, (5,), w, b, 1e-5), r(4, 5, lo=-2, hi=3),
         r(5, lo=0.5, hi=1.5), r(5))
    case("ln_2d", lambda x, w, b: F.layer_norm(x, (3, 4), w, b, 1e-5), r(2, 3, 4, lo=-2, hi=3),
         r(3, 4, lo=0.5, hi=1.5), r(3, 4))
    case("ln_noaffine", lambda x: F.layer_norm(x, (6,), None, None, 1e-3), r(3, 6, lo=-2, hi=3))
    case("ln_t", lambda x, w, b: F.layer_norm(x.t(), (4,), w, b, 1e-5), r(4, 5, lo=-2, hi=3),
         r(4, lo=0.5, hi=1.5), r(4))

    def ln_module(x):
        m = torch.nn.LayerNorm((2, 3)).double()
        return m(x)

    case("ln_module", ln_module, r(4, 2, 3, lo=-3, hi=3))


def loss_cases():
    # every tensor a case uses is one of its inputs (the C++ test reads them from the file);
    # class weights, pos_weight and integer targets are not differentiated (nor are they in PyTorch)
    t5 = idx(0, 3, 1, 3, 2)
    w4 = r(4, lo=0.2, hi=2.0)
    x_t = [YES, NO]
    x_t_w = [YES, NO, NO]
    for red in ("mean", "sum", "none"):
        case(f"ce_{red}", lambda x, t, red=red: F.cross_entropy(x, t, reduction=red), r(5, 4, lo=-3, hi=3), t5)
        case(f"ce_full_{red}", lambda x, t, w, red=red: F.cross_entropy(x, t, weight=w, ignore_index=1,
                                                                         reduction=red, label_smoothing=0.15),
             r(5, 4, lo=-3, hi=3), t5, w4, grad=x_t_w)
    case("ce_ignore_default", lambda x, t: F.cross_entropy(x, t), r(4, 3, lo=-3, hi=3), idx(2, -100, 0, -100))
    case("ce_spatial", lambda x, t: F.cross_entropy(x, t, ignore_index=2, label_smoothing=0.1),
         r(2, 4, 3, lo=-3, hi=3), idx(0, 3, 1, 2, 2, 3).reshape(2, 3))
    case("ce_unbatched", lambda x, t: F.cross_entropy(x, t), r(4, lo=-3, hi=3), idx(2).reshape(()))
    case("ce_t", lambda x, t: F.cross_entropy(x.t(), t), r(3, 4, lo=-3, hi=3), idx(1, 0, 2, 2))
    case("ce_prob", lambda x, p, w: F.cross_entropy(x, p, weight=w, label_smoothing=0.2),
         r(4, 3, lo=-3, hi=3), torch.softmax(r(4, 3, lo=-2, hi=2), 1), r(3, lo=0.2, hi=2.0), grad=[YES, YES, NO])
    case("ce_prob_none", lambda x, p: F.cross_entropy(x, p, reduction="none"), r(2, 3, 2, lo=-3, hi=3),
         torch.softmax(r(2, 3, 2, lo=-2, hi=2), 1))
    case("nll", lambda x, t, w: F.nll_loss(x, t, weight=w, ignore_index=0),
         torch.log_softmax(r(4, 3, lo=-2, hi=2), 1), idx(2, 0, 1, 0), r(3, lo=0.2, hi=2.0), grad=x_t_w)
    case("nll_sum", lambda x, t: F.nll_loss(x, t, reduction="sum"), torch.log_softmax(r(4, 3), 1), idx(2, 0, 1, 0))

    for red in ("mean", "sum", "none"):
        case(f"bce_{red}", lambda p, t, w, red=red: F.binary_cross_entropy(p, t, weight=w, reduction=red),
             r(2, 3, lo=0.02, hi=0.98), r(2, 3, lo=0, hi=1), r(3, lo=0.2, hi=2.0), grad=[YES, YES, NO])
        case(f"bce_logits_{red}", lambda x, t, w, pw, red=red: F.binary_cross_entropy_with_logits(
            x, t, weight=w, pos_weight=pw, reduction=red),
            r(2, 3, lo=-5, hi=5), r(2, 3, lo=0, hi=1), r(2, 1, lo=0.2, hi=2.0), r(3, lo=0.5, hi=3.0),
            grad=[YES, YES, NO, NO])
    case("bce_clamp", lambda p, t: F.binary_cross_entropy(p, t, reduction="none"),
         torch.tensor([0.0, 1.0, 1e-50, 0.5], dtype=torch.float64),
         torch.tensor([1.0, 0.0, 1.0, 0.5], dtype=torch.float64), grad=[NO, NO])
    case("bce_logits_large", lambda x, t: F.binary_cross_entropy_with_logits(x, t),
         torch.tensor([-800.0, 800.0, -40.0, 40.0, 0.0], dtype=torch.float64), r(5, lo=0, hi=1))

    for red in ("mean", "sum", "none"):
        case(f"mse_{red}", lambda x, y, red=red: F.mse_loss(x, y, reduction=red), r(3, 4), r(3, 4))
        case(f"l1_{red}", lambda x, y, red=red: F.l1_loss(x, y, reduction=red), r(3, 4), r(3, 4))
        case(f"smooth_l1_{red}", lambda x, y, red=red: F.smooth_l1_loss(x, y, reduction=red, beta=0.5),
             r(3, 4), r(3, 4))
    case("smooth_l1_beta0", lambda x, y: F.smooth_l1_loss(x, y, beta=0.0), r(3, 4), r(3, 4))
    case("mse_t", lambda x, y: F.mse_loss(x.t(), y), r(4, 3), r(3, 4))

    for red in ("mean", "sum", "none", "batchmean"):
        case(f"kl_div_{red}", lambda x, t, red=red: F.kl_div(x, t, reduction=red),
             torch.log_softmax(r(3, 4, lo=-2, hi=2), 1), torch.softmax(r(3, 4, lo=-2, hi=2), 1))
        case(f"kl_div_log_{red}", lambda x, t, red=red: F.kl_div(x, t, reduction=red, log_target=True),
             torch.log_softmax(r(3, 4, lo=-2, hi=2), 1), torch.log_softmax(r(3, 4, lo=-2, hi=2), 1))
    # zero target entries: PyTorch's target gradient is NaN there, so only the input is differentiated
    case("kl_div_zeros", lambda x, t: F.kl_div(x, t, reduction="batchmean"), torch.log_softmax(r(2, 3), 1),
         torch.tensor([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64), grad=x_t)

    case("cosine_dim1", lambda a, b: F.cosine_similarity(a, b, dim=1), r(4, 5), r(4, 5))
    case("cosine_dimm1", lambda a, b: F.cosine_similarity(a, b, dim=-1), r(2, 3, 4), r(2, 3, 4))
    case("cosine_bcast", lambda a, b: F.cosine_similarity(a, b, dim=1), r(3, 4), r(1, 4))
    case("cosine_tiny", lambda a, b: F.cosine_similarity(a, b, dim=1, eps=1e-6),
         torch.tensor([[1e-8, 0.0], [3.0, 4.0]], dtype=torch.float64), r(2, 2))

    def nt_xent(z1, z2, tau=0.5):
        """The standard SimCLR formulation (Chen et al. 2020)."""
        n = z1.shape[0]
        z = F.normalize(torch.cat([z1, z2], 0), dim=1)
        sim = z @ z.t() / tau
        sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
        targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
        return F.cross_entropy(sim, targets)

    case("nt_xent", nt_xent, r(4, 6), r(4, 6))
    case("nt_xent_t01", lambda a, b: nt_xent(a, b, 0.1), r(3, 5), r(3, 5))

    def gaussian_kl(mu, logvar, red):
        per = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1)
        return {"mean": per.mean(), "sum": per.sum(), "none": per}[red]

    for red in ("mean", "sum", "none"):
        case(f"gaussian_kl_{red}", lambda m, lv, red=red: gaussian_kl(m, lv, red), r(3, 4), r(3, 4, lo=-2, hi=1))


def main():
    warnings.filterwarnings("ignore", message="reduction: 'mean' divides")
    torch.manual_seed(20240613)
    batch_norm_cases()
    layer_norm_cases()
    loss_cases()
    write_safetensors(OUT, tensors, {"cases": ",".join(cases), "generator": f"torch {torch.__version__}"})
    print(f"norm_loss: {len(cases)} cases, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
