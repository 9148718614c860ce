#!/usr/bin/python3
"""Golden data for tests/golden/*_golden_test.cpp, computed with PyTorch 1.13.

Run with `/usr/bin/python3 tests/golden/make_golden.py` (Debian's python3-torch); it rewrites
tests/golden/data/<family>.safetensors deterministically.

Each case `c` stores its inputs `c.in0, c.in1, ...`, its output `c.out` (or `c.out0, c.out1, ...`
when the op returns several tensors), a random upstream gradient `c.grad_out` (`c.grad_out0`, ...)
for every output that requires grad, and the gradient `c.grad<i>` of every floating input that
the case differentiates. The C++ test applies the same op to the same inputs, so any view taken
inside a case (x.t(), x.transpose(...)) is taken in both languages: a name ending in `_t` says
the op sees a non-contiguous input. The file's metadata lists the case names ("cases").
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.bool: "BOOL"}


def write_safetensors(path, tensors, metadata):
    """8-byte LE header length, JSON header padded with spaces to 8 bytes, then the raw data."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class Family:
    def __init__(self, name, seed):
        self.name, self.tensors, self.cases = name, {}, []
        torch.manual_seed(seed)

    def case(self, name, fn, *inputs, grad=True):
        """Runs fn(*inputs); with grad, differentiates every floating input."""
        assert name not in self.cases and "." not in name, name
        self.cases.append(name)
        leaves = []
        for i, x in enumerate(inputs):
            self.tensors[f"{name}.in{i}"] = x
            x = x.clone()
            if grad and x.is_floating_point():
                x.requires_grad_(True)
            leaves.append(x)
        out = fn(*leaves)
        many = isinstance(out, (tuple, list))
        roots, grads = [], []
        for k, y in enumerate(out if many else [out]):
            tag = str(k) if many else ""
            self.tensors[f"{name}.out{tag}"] = y
            if y.requires_grad:
                g = torch.randn(y.shape, dtype=torch.float64).to(y.dtype)
                self.tensors[f"{name}.grad_out{tag}"] = g
                roots.append(y)
                grads.append(g)
        if roots:
            torch.autograd.backward(roots, grads)
            for i, x in enumerate(leaves):
                if x.requires_grad:
                    self.tensors[f"{name}.grad{i}"] = x.grad if x.grad is not None else torch.zeros_like(x)

    def write(self):
        write_safetensors(os.path.join(OUT_DIR, f"{self.name}.safetensors"), self.tensors,
                          {"cases": ",".join(self.cases), "generator": f"torch {torch.__version__}"})
        print(f"{self.name}: {len(self.cases)} cases")


def r(*shape, lo=-1.0, hi=1.0, dtype=torch.float64):
    """Uniform in [lo, hi), drawn in float64 (then converted) so every dtype sees the same values."""
    return (torch.rand(shape, dtype=torch.float64) * (hi - lo) + lo).to(dtype)


def d(*values):
    return torch.tensor(values, dtype=torch.float64)


def idx(*values):
    return torch.tensor(values, dtype=torch.int64)


def _add_into_row(a, b):
    y = a * 1.0
    y.narrow(0, 1, 1).add_(b)  # in place through a view of y
    return y


def _mul_into_row_t(a, b):
    y = a.t() * 1.0  # [3, 4]
    y.t().select(1, 2).mul_(b)  # row 2 of y, through a view of its transpose
    return y


def elementwise():
    f = Family("elementwise", 1)
    f32 = torch.float32
    f.case("add", torch.add, r(2, 3), r(2, 3))
    f.case("add_bcast", torch.add, r(2, 1), r(3))
    f.case("add_alpha", lambda a, b: torch.add(a, b, alpha=2.5), r(2, 3), r(2, 3))
    f.case("add_scalar", lambda a: a + 3.0, r(2, 3))
    f.case("add_mixed", torch.add, r(2, 3, dtype=f32), r(3))
    f.case("add_f32", torch.add, r(2, 3, 4, dtype=f32), r(3, 1, dtype=f32), grad=False)
    f.case("sub", torch.sub, r(2, 3), r(2, 3))
    f.case("sub_bcast_t", lambda a, b: torch.sub(a.t(), b, alpha=0.5), r(3, 2), r(2, 1, 3))
    f.case("mul", torch.mul, r(2, 3), r(2, 3))
    f.case("mul_bcast", torch.mul, r(2, 1, 3), r(2, 1))
    f.case("mul_scalar", lambda a: a * 3.0, r(2, 3))
    f.case("div", torch.div, r(2, 3), r(2, 3, lo=0.5, hi=2))
    f.case("div_bcast_t", lambda a, b: torch.div(a.t(), b), r(3, 2), r(3, lo=0.5, hi=2))
    f.case("rdiv_scalar", lambda a: 3.0 / a, r(2, 3, lo=0.5, hi=2))
    f.case("div_f32", torch.div, r(2, 3, dtype=f32), r(2, 3, lo=0.5, hi=2, dtype=f32), grad=False)
    f.case("neg", torch.neg, r(2, 3))
    f.case("pow_scalar", lambda x: x.pow(2.5), r(2, 3, lo=0.5, hi=2))
    f.case("pow_int", lambda x: x.pow(3.0), r(2, 3, lo=-2, hi=2))
    f.case("pow_zero", lambda x: x.pow(0.0), d(-1.5, 0.0, 2.0))
    f.case("pow_two_at_zero", lambda x: x.pow(2.0), d(-1.5, 0.0, 2.0))
    f.case("pow_tensor", torch.pow, r(2, 3, lo=0.5, hi=2), r(2, 3, lo=-2, hi=2))
    f.case("pow_tensor_bcast", torch.pow, r(2, 1, lo=0.5, hi=2), r(3, lo=-2, hi=2))
    f.case("rpow", lambda x: torch.pow(2.0, x), r(2, 3, lo=-2, hi=2))
    f.case("rpow_zero_base", lambda x: torch.pow(0.0, x), d(0.0, 0.5, 2.0))
    f.case("exp", torch.exp, r(2, 3, lo=-2, hi=2))
    f.case("exp_t", lambda x: x.t().exp(), r(3, 2, lo=-2, hi=2))
    f.case("exp_f32", torch.exp, r(2, 3, lo=-5, hi=5, dtype=f32), grad=False)
    f.case("log", torch.log, r(2, 3, lo=0.1, hi=3))
    f.case("log_f32", torch.log, r(2, 3, lo=0.1, hi=3, dtype=f32), grad=False)
    f.case("log1p", torch.log1p, r(2, 3, lo=-0.5, hi=3))
    f.case("sqrt", torch.sqrt, r(2, 3, lo=0.1, hi=3))
    f.case("rsqrt", torch.rsqrt, r(2, 3, lo=0.1, hi=3))
    f.case("abs", torch.abs, r(2, 3, lo=-2, hi=2))
    f.case("abs_at_zero", torch.abs, d(-1.0, 0.0, 1.0))
    f.case("sign", torch.sign, d(-1.5, 0.0, 2.0, -0.25))
    f.case("sin", torch.sin, r(2, 3, lo=-3, hi=3))
    f.case("cos", torch.cos, r(2, 3, lo=-3, hi=3))
    f.case("tanh", torch.tanh, r(2, 3, lo=-3, hi=3))
    f.case("tanh_f32", torch.tanh, r(2, 3, lo=-3, hi=3, dtype=f32), grad=False)
    f.case("erf", torch.erf, r(2, 3, lo=-2, hi=2))
    f.case("sigmoid", torch.sigmoid, r(2, 3, lo=-5, hi=5))
    f.case("sigmoid_t", lambda x: x.t().sigmoid(), r(3, 2, lo=-5, hi=5))
    f.case("sigmoid_f32", torch.sigmoid, r(2, 3, lo=-5, hi=5, dtype=f32), grad=False)
    f.case("relu", torch.relu, r(2, 3))
    f.case("relu_at_zero", torch.relu, d(-1.0, 0.0, 1.0))
    f.case("leaky_relu", lambda x: F.leaky_relu(x, 0.2), r(2, 3))
    f.case("leaky_relu_at_zero", lambda x: F.leaky_relu(x, 0.2), d(-1.0, 0.0, 1.0))
    f.case("elu", lambda x: F.elu(x, 1.5), r(2, 3, lo=-2, hi=2))
    f.case("elu_at_zero", lambda x: F.elu(x, 1.5), d(-1.0, 0.0, 1.0))
    f.case("gelu", F.gelu, r(2, 3, lo=-3, hi=3))
    f.case("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), r(2, 3, lo=-3, hi=3))
    f.case("gelu_f32", F.gelu, r(2, 3, lo=-3, hi=3, dtype=f32), grad=False)
    f.case("silu", F.silu, r(2, 3, lo=-3, hi=3))
    f.case("softplus", F.softplus, r(2, 3, lo=-3, hi=3))
    f.case("softplus_beta", lambda x: F.softplus(x, beta=2.0, threshold=5.0), r(2, 3, lo=-3, hi=4))
    f.case("clamp", lambda x: x.clamp(-0.5, 0.5), r(2, 3))
    f.case("clamp_min", lambda x: x.clamp(min=0.0), r(2, 3))
    f.case("clamp_max", lambda x: x.clamp(max=0.25), r(2, 3))
    f.case("clamp_at_bounds", lambda x: x.clamp(-0.5, 0.5), d(-1.0, -0.5, 0.0, 0.5, 1.0))
    f.case("minimum", torch.minimum, r(2, 3), r(2, 3))
    f.case("minimum_bcast", torch.minimum, r(2, 1), r(3))
    f.case("maximum", torch.maximum, r(2, 3), r(2, 3))
    f.case("maximum_ties", torch.maximum, d(1.0, 2.0, 3.0), d(1.0, 1.0, 4.0))
    f.case("minimum_ties", torch.minimum, d(1.0, 2.0, 3.0), d(1.0, 1.0, 4.0))
    f.case("where", torch.where, r(2, 3) > 0, r(2, 3), r(2, 3))
    f.case("where_bcast", torch.where, r(2, 1) > 0, r(3), r(2, 3))
    f.case("masked_fill", lambda x, m: x.masked_fill(m, 2.0), r(2, 3), r(2, 3) > 0)
    f.case("masked_fill_bcast", lambda x, m: x.masked_fill(m, -1.0), r(2, 3), r(3) > 0)
    f.case("masked_fill_0d_mask", lambda x, m: x.masked_fill(m, 4.0), r(2, 3), torch.tensor(True))
    f.case("add_0d", torch.add, r(2, 3), d(0.5).reshape(()))
    f.case("add_bcast_both", torch.add, r(2, 1, 3), r(4, 1))
    # edges: infinities, extreme arguments, NaN propagation
    f.case("sqrt_at_zero", torch.sqrt, d(0.0, 1.0))
    f.case("log_at_zero", torch.log, d(0.0, 1.0))
    f.case("pow_half_at_zero", lambda x: x.pow(0.5), d(0.0, 4.0))
    f.case("pow_tensor_zero_base", torch.pow, d(0.0, 0.0, 2.0), d(2.0, 0.0, 0.5))
    f.case("div_by_zero", torch.div, d(1.0, -1.0, 0.0), d(0.0, 0.0, 0.0), grad=False)
    f.case("sigmoid_extreme", torch.sigmoid, d(-800.0, -40.0, 40.0, 800.0))
    f.case("tanh_extreme", torch.tanh, d(-400.0, -20.0, 20.0, 400.0))
    f.case("softplus_extreme", F.softplus, d(-800.0, -40.0, 19.0, 21.0, 800.0))
    f.case("gelu_extreme", F.gelu, d(-40.0, -8.0, 8.0, 40.0))
    f.case("gelu_tanh_extreme", lambda x: F.gelu(x, approximate="tanh"), d(-40.0, -8.0, 8.0, 40.0))
    f.case("silu_extreme", F.silu, d(-800.0, -40.0, 40.0, 800.0))
    f.case("elu_extreme", F.elu, d(-800.0, 800.0))
    f.case("log1p_near_minus_one", torch.log1p, d(-1.0 + 1e-12, -0.999, 1e-15))
    f.case("clamp_min_gt_max", lambda x: x.clamp(0.5, -0.5), r(2, 3))
    f.case("minimum_mixed", torch.minimum, r(2, 3, dtype=f32), r(2, 3))
    f.case("where_mixed", torch.where, r(2, 3) > 0, r(2, 3, dtype=f32), r(3))
    nan = d(1.0, math.nan, -3.0, 0.0)
    for op, fn in [("relu", torch.relu), ("sign", torch.sign), ("abs", torch.abs),
                   ("clamp", lambda x: x.clamp(-1, 0.5)), ("sigmoid", torch.sigmoid),
                   ("maximum", lambda x: torch.maximum(x, torch.zeros(4, dtype=x.dtype))),
                   ("minimum", lambda x: torch.minimum(x, torch.zeros(4, dtype=x.dtype)))]:
        f.case(f"{op}_nan", fn, nan, grad=False)
    # integer and bool arithmetic: PyTorch's type promotion
    i, j = idx(3, -4, 7, 0), idx(2, 3, -2, 5)
    f.case("add_int", torch.add, i, j)
    f.case("mul_int", torch.mul, i, j)
    f.case("div_int", torch.div, i, j)
    f.case("add_int_float", torch.add, i, r(4))
    f.case("mul_int_scalar", lambda a: a * 2.5, i)
    # fermata has only double scalars and keeps an integer tensor's dtype for an integral value
    # (so that `index + 1` stays int64): PyTorch does the same for a Python int
    f.case("add_int_scalar", lambda a: a + 2, i)
    f.case("neg_int", torch.neg, i)
    f.case("abs_int", torch.abs, i)
    f.case("clamp_int", lambda a: a.clamp(-1, 4), i)
    f.case("add_bool_int", torch.add, i > 0, j)
    f.case("where_int", torch.where, i > 0, i, j)
    # in place: the history of the result is rewritten
    f.case("add_inplace", lambda a, b: a.clone().add_(b, alpha=2.0), r(2, 3), r(3))
    f.case("sub_inplace", lambda a, b: a.clone().sub_(b, alpha=0.5), r(2, 3), r(2, 3))
    f.case("mul_inplace", lambda a, b: a.clone().mul_(b), r(2, 3), r(2, 1))
    f.case("div_inplace", lambda a, b: a.clone().div_(b), r(2, 3), r(3, lo=0.5, hi=2))
    f.case("scalar_inplace", lambda a: a.clone().add_(1.5).mul_(-2.0), r(2, 3))
    f.case("clamp_inplace", lambda a: (a * 2.0).clamp_(-0.5, 0.5), r(2, 3))
    f.case("copy_inplace", lambda a, b: (a * 2).copy_(b), r(2, 3), r(3))
    f.case("fill_inplace", lambda a: (a * 2).fill_(0.25), r(2, 3))
    f.case("zero_inplace", lambda a: (a * 2).zero_(), r(2, 3))
    # fermata refuses to record an in-place op on a view (it asks for a clone): forward only
    f.case("inplace_on_view", _add_into_row, r(3, 4), r(4), grad=False)
    f.case("inplace_on_view_t", _mul_into_row_t, r(4, 3), r(4), grad=False)
    # dropout whose mask does not depend on the random numbers
    f.case("dropout_eval", lambda x: F.dropout(x, 0.5, training=False), r(2, 3))
    f.case("dropout_p0", lambda x: F.dropout(x, 0.0), r(2, 3))
    f.case("dropout_p1", lambda x: F.dropout(x, 1.0), r(2, 3))
    # comparisons and logic (no gradient); the second input repeats some of the first's values
    a, b = r(2, 3), r(2, 3)
    b[0] = a[0]
    for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
        f.case(op, getattr(torch, op), a, b, grad=False)
    s = a[1, 2].item()
    for op in ["eq", "lt", "ge"]:
        f.case(f"{op}_scalar", lambda x, op=op: getattr(torch, op)(x, s), a, grad=False)
    p, q = r(2, 3) > 0, r(2, 3) > 0
    for op in ["logical_and", "logical_or", "logical_xor"]:
        f.case(op, getattr(torch, op), p, q, grad=False)
    f.case("logical_not", torch.logical_not, p, grad=False)
    f.write()


def reduce():
    f = Family("reduce", 2)
    f32 = torch.float32
    x = r(2, 3, 4)
    f.case("sum_all", torch.sum, x)
    f.case("sum_dim", lambda x: x.sum(1), x)
    f.case("sum_dims_keepdim", lambda x: x.sum((0, 2), keepdim=True), x)
    f.case("sum_neg_dim_t", lambda x: x.t().sum(-1), r(4, 3))
    f.case("sum_f32", lambda x: x.sum(-1), r(3, 50, dtype=f32), grad=False)
    f.case("mean_all", torch.mean, x)
    f.case("mean_dims", lambda x: x.mean((0, 2)), x)
    f.case("mean_keepdim", lambda x: x.mean(1, keepdim=True), x)
    f.case("mean_f32", lambda x: x.mean(0), r(3, 50, dtype=f32), grad=False)
    f.case("prod_all", torch.prod, r(2, 3, lo=0.5, hi=2))
    f.case("prod_dim", lambda x: x.prod(1), x)
    f.case("prod_with_zeros", lambda x: x.prod(1), d(1.5, 0.0, 2.0, -1.0, 0.0, 0.0, 3.0, 0.5, -2.0).reshape(3, 3))
    f.case("prod_all_one_zero", torch.prod, d(1.5, 0.0, 2.0, -1.0))
    f.case("max_all", torch.max, x)
    f.case("max_all_ties", torch.max, d(1.0, 3.0, -2.0, 3.0))
    f.case("min_all", torch.min, x)
    f.case("max_dim", lambda x: torch.max(x, 1), x)
    f.case("max_dim_keepdim", lambda x: torch.max(x, -1, keepdim=True), x)
    f.case("min_dim", lambda x: torch.min(x, 0), x)
    f.case("min_dim_t", lambda x: torch.min(x.t(), 1), r(4, 3))
    f.case("max_dim_ties", lambda x: torch.max(x, 1), d(1.0, 3.0, 3.0, 2.0, 2.0, 0.0).reshape(2, 3))
    f.case("amax", lambda x: x.amax(1), x)
    f.case("amax_dims_keepdim", lambda x: x.amax((0, 2), keepdim=True), x)
    f.case("amin", lambda x: x.amin(-1), x)
    f.case("amax_ties", lambda x: x.amax(1), d(1.0, 3.0, 3.0, 2.0, 2.0, 2.0).reshape(2, 3))
    f.case("amin_all_ties", lambda x: x.amin(), d(-1.0, 3.0, -1.0, 2.0))
    ties = d(1.0, 3.0, 3.0, 2.0, -1.0, 2.0, -1.0, 0.0).reshape(2, 4)
    f.case("argmax_all", torch.argmax, x, grad=False)
    f.case("argmin_all", torch.argmin, x, grad=False)
    f.case("argmax_dim", lambda x: x.argmax(1), x, grad=False)
    f.case("argmin_dim_keepdim", lambda x: x.argmin(2, keepdim=True), x, grad=False)
    f.case("argmax_ties", lambda x: x.argmax(1), ties, grad=False)
    f.case("argmin_ties", lambda x: x.argmin(1), ties, grad=False)
    f.case("argmax_all_ties", torch.argmax, ties, grad=False)
    f.case("var_all", torch.var, x)
    f.case("var_dim", lambda x: x.var(1), x)
    f.case("var_biased_keepdim", lambda x: x.var((0, 2), unbiased=False, keepdim=True), x)
    f.case("std_all", torch.std, x)
    f.case("std_dim", lambda x: x.std(-1), x)
    f.case("std_biased", lambda x: x.std(0, unbiased=False), x)
    f.case("std_f32", lambda x: x.std(-1), r(3, 50, dtype=f32), grad=False)
    f.case("logsumexp", lambda x: x.logsumexp(1), x)
    f.case("logsumexp_dims_keepdim", lambda x: x.logsumexp((0, 2), keepdim=True), x)
    f.case("logsumexp_large", lambda x: x.logsumexp(-1), r(3, 4, lo=995, hi=1000))
    for name, p in [("2", 2.0), ("1", 1.0), ("3", 3.0), ("inf", math.inf)]:
        f.case(f"norm_p{name}", lambda x, p=p: torch.linalg.vector_norm(x, p), x)
        f.case(f"norm_p{name}_dim", lambda x, p=p: torch.linalg.vector_norm(x, p, dim=1), x)
    f.case("norm_p2_keepdim_t", lambda x: torch.linalg.vector_norm(x.t(), 2, dim=0, keepdim=True), r(4, 3))
    f.case("norm_p2_zero_row", lambda x: torch.linalg.vector_norm(x, 2, dim=1), d(0.0, 0.0, 0.0, 1.0, -2.0, 2.0).reshape(2, 3))
    f.case("norm_pinf_ties", lambda x: torch.linalg.vector_norm(x, math.inf, dim=1), d(1.0, -3.0, 3.0, 2.0, 0.5, -2.0).reshape(2, 3))
    f.case("norm_p05", lambda x: torch.linalg.vector_norm(x, 0.5, dim=1), r(2, 3, lo=0.1, hi=1))
    f.case("norm_p1_at_zero", lambda x: torch.linalg.vector_norm(x, 1), d(0.0, 1.0, -2.0))
    f.case("norm_p3_at_zero", lambda x: torch.linalg.vector_norm(x, 3), d(0.0, 1.0, -2.0))
    f.case("norm_pinf_zero_row", lambda x: torch.linalg.vector_norm(x, math.inf, dim=1), d(0.0, 0.0, 1.0, -2.0).reshape(2, 2))
    f.case("var_correction2", lambda x: torch.var(x, 1, correction=2), x)
    f.case("std_all_dims_keepdim", lambda x: x.std((0, 1, 2), keepdim=True), x)
    f.case("amax_all", torch.amax, x)
    f.case("sum_dup_neg_dims", lambda x: x.sum((-1, 0)), x)
    f.case("sum_empty", lambda x: x.sum(0), torch.zeros(0, 3, dtype=torch.float64))
    f.case("mean_empty", lambda x: x.mean(0), torch.zeros(0, 3, dtype=torch.float64), grad=False)
    f.case("prod_empty", lambda x: x.prod(0), torch.zeros(0, 3, dtype=torch.float64), grad=False)
    f.case("sum_int", lambda x: x.sum(1), idx(1, -2, 3, 4, 5, 6).reshape(2, 3), grad=False)
    f.case("sum_bool", torch.sum, d(1.0, -2.0, 3.0, 0.5) > 0, grad=False)
    f.case("max_int", lambda x: torch.max(x, 1), idx(1, -2, 3, 4, 5, 6).reshape(2, 3), grad=False)
    f.case("argmax_1d", torch.argmax, d(0.5, 2.0, -1.0), grad=False)
    nan = d(1.0, math.nan, 3.0, 2.0, -1.0, 0.5).reshape(2, 3)
    f.case("amax_nan", lambda x: x.amax(1), nan, grad=False)
    f.case("max_all_nan", torch.max, nan, grad=False)
    f.case("max_dim_nan", lambda x: torch.max(x, 1), nan, grad=False)
    f.case("min_dim_nan", lambda x: torch.min(x, 1), nan, grad=False)
    f.case("argmax_nan", lambda x: x.argmax(1), nan, grad=False)
    f.case("argmin_all_nan", torch.argmin, nan, grad=False)
    f.write()


def views():
    f = Family("views", 3)
    x = r(2, 3, 4)
    f.case("view", lambda x: x.view(6, 4), x)
    f.case("reshape", lambda x: x.reshape(4, -1), x)
    f.case("reshape_t", lambda x: x.transpose(0, 2).reshape(-1, 6), x)
    f.case("flatten", lambda x: x.flatten(1), x)
    f.case("permute", lambda x: x.permute(2, 0, 1), x)
    f.case("transpose", lambda x: x.transpose(0, 2), x)
    f.case("t", lambda x: x.t(), r(3, 4))
    f.case("movedim", lambda x: torch.movedim(x, 0, -1), x)
    f.case("narrow", lambda x: x.narrow(2, 1, 2), x)
    f.case("slice_step", lambda x: x[:, :, 1::2], x)
    f.case("slice_neg", lambda x: x[:, -2:], x)
    f.case("select", lambda x: x.select(1, 2), x)
    f.case("select_neg", lambda x: x.select(-1, -1), x)
    f.case("expand", lambda x: x.expand(2, 3, 4), r(3, 1))
    f.case("expand_keep", lambda x: x.expand(2, -1, 4), r(1, 3, 1))
    f.case("squeeze", torch.squeeze, r(1, 3, 1, 2))
    f.case("squeeze_dim", lambda x: x.squeeze(2), r(1, 3, 1, 2))
    f.case("unsqueeze", lambda x: x.unsqueeze(1), r(3, 4))
    f.case("unsqueeze_neg", lambda x: x.unsqueeze(-1), r(3, 4))
    f.case("unfold", lambda x: x.unfold(1, 2, 1), r(2, 5))
    f.case("unfold_step", lambda x: x.unfold(-1, 3, 2), r(2, 3, 7))
    f.case("diagonal", torch.diagonal, r(3, 4))
    f.case("diagonal_offset", lambda x: torch.diagonal(x, 1, 1, 2), x)
    f.case("contiguous_t", lambda x: x.t().contiguous(), r(3, 4))
    f.case("clone", torch.clone, r(3, 4))
    f.case("to_f32", lambda x: x.to(torch.float32), r(3, 4))
    f.case("view_chain_t", lambda x: x.t().unsqueeze(0).expand(2, 4, 3).narrow(1, 1, 2), r(3, 4))
    f.case("expand_0d", lambda x: x.expand(2, 3), d(1.5).reshape(()))
    f.case("unsqueeze_0d", lambda x: x.unsqueeze(0), d(1.5).reshape(()))
    f.case("reshape_0d", lambda x: x.reshape(1, 1), d(1.5).reshape(()))
    f.case("select_1d", lambda x: x.select(0, 1), r(3))
    f.case("squeeze_not_one", lambda x: x.squeeze(0), r(3, 1))
    f.case("narrow_neg_start", lambda x: x.narrow(1, -2, 2), r(3, 4))
    f.case("slice_clamped", lambda x: x[:, 1:100], r(3, 4))
    f.case("slice_empty", lambda x: x[:, 3:1], r(3, 4))
    f.case("unfold_full", lambda x: x.unfold(1, 4, 1), r(3, 4))
    f.case("diagonal_neg", lambda x: torch.diagonal(x, -1), r(3, 4))
    f.case("movedim_neg", lambda x: torch.movedim(x, -1, 0), x)
    f.case("permute_t", lambda x: x.t().permute(1, 0), r(3, 4))
    f.case("to_f64_from_f32", lambda x: x.to(torch.float64), r(2, 3, dtype=torch.float32))
    f.case("to_int", lambda x: x.to(torch.int64), d(-2.7, -0.5, 0.5, 2.7), grad=False)
    f.case("to_bool", lambda x: x.to(torch.bool), d(-2.7, 0.0, 0.5, math.nan), grad=False)
    f.case("bool_to_f32", lambda x: x.to(torch.float32), d(-2.7, 0.0, 0.5) > 0, grad=False)
    f.write()


def linalg():
    f = Family("linalg", 4)
    f32 = torch.float32
    f.case("mm", torch.mm, r(3, 4), r(4, 5))
    f.case("mm_t", lambda a, b: torch.mm(a.t(), b.t()), r(4, 3), r(5, 4))
    f.case("mm_f32", torch.mm, r(3, 4, dtype=f32), r(4, 5, dtype=f32), grad=False)
    f.case("bmm", torch.bmm, r(2, 3, 4), r(2, 4, 5))
    f.case("bmm_t", lambda a, b: torch.bmm(a, b.transpose(1, 2)), r(2, 3, 4), r(2, 5, 4))
    f.case("matmul_1d_1d", torch.matmul, r(4), r(4))
    f.case("matmul_1d_2d", torch.matmul, r(3), r(3, 4))
    f.case("matmul_2d_1d", torch.matmul, r(3, 4), r(4))
    f.case("matmul_3d_2d", torch.matmul, r(2, 3, 4), r(4, 5))
    f.case("matmul_2d_3d", torch.matmul, r(3, 4), r(2, 4, 5))
    f.case("matmul_bcast", torch.matmul, r(2, 1, 3, 4), r(3, 4, 2))
    f.case("matmul_1d_3d", torch.matmul, r(4), r(2, 4, 3))
    f.case("matmul_3d_1d", torch.matmul, r(2, 3, 4), r(4))
    f.case("matmul_f32", torch.matmul, r(2, 3, 4, dtype=f32), r(4, 5, dtype=f32), grad=False)
    f.case("addmm", torch.addmm, r(3, 5), r(3, 4), r(4, 5))
    f.case("addmm_bias_row", lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2.0), r(5), r(3, 4), r(4, 5))
    f.case("linear", F.linear, r(3, 4), r(5, 4), r(5))
    f.case("linear_nobias", F.linear, r(3, 4), r(5, 4))
    f.case("linear_3d", F.linear, r(2, 3, 4), r(5, 4), r(5))
    f.case("linear_f32", F.linear, r(2, 3, 4, dtype=f32), r(5, 4, dtype=f32), r(5, dtype=f32), grad=False)
    f.case("dot", torch.dot, r(5), r(5))
    f.case("outer", torch.outer, r(3), r(4))
    f.case("mm_empty_k", torch.mm, torch.zeros(3, 0, dtype=torch.float64), torch.zeros(0, 4, dtype=torch.float64))
    f.case("bmm_t_first", lambda a, b: torch.bmm(a.transpose(1, 2), b), r(2, 4, 3), r(2, 4, 5))
    f.case("matmul_bcast_both", torch.matmul, r(2, 1, 3, 4), r(1, 3, 4, 2))
    f.case("matmul_t", lambda a, b: torch.matmul(a.t(), b.t()), r(4, 3), r(2, 4))
    f.case("addmm_bias_col", torch.addmm, r(3, 1), r(3, 4), r(4, 5))
    f.case("addmm_bias_0d", lambda c, a, b: torch.addmm(c, a, b, beta=-1.0), d(0.5).reshape(()), r(3, 4), r(4, 5))
    f.case("linear_tied_t", lambda x, w: F.linear(x, w.t()), r(3, 4), r(4, 5))
    f.case("dot_strided", lambda a, b: torch.dot(a[::2], b[1::2]), r(6), r(6))
    f.case("outer_strided", lambda a, b: torch.outer(a[::2], b), r(6), r(2))
    f.write()


def softmax():
    f = Family("softmax", 5)
    x = r(2, 3, 4, lo=-3, hi=3)
    for dim in [0, 1, -1]:
        tag = str(dim).replace("-", "m")
        f.case(f"softmax_d{tag}", lambda x, dim=dim: torch.softmax(x, dim), x)
        f.case(f"log_softmax_d{tag}", lambda x, dim=dim: torch.log_softmax(x, dim), x)
    f.case("softmax_t", lambda x: torch.softmax(x.t(), -1), r(4, 3, lo=-3, hi=3))
    f.case("log_softmax_t", lambda x: torch.log_softmax(x.t(), 0), r(4, 3, lo=-3, hi=3))
    f.case("softmax_large", lambda x: torch.softmax(x, -1), r(3, 4, lo=995, hi=1000))
    f.case("log_softmax_large", lambda x: torch.log_softmax(x, -1), r(3, 4, lo=-1000, hi=-995))
    masked = d(0.5, -math.inf, 1.0, -math.inf, 2.0, 0.0).reshape(2, 3)
    f.case("softmax_neg_inf", lambda x: torch.softmax(x, -1), masked)
    f.case("log_softmax_neg_inf", lambda x: torch.log_softmax(x, -1), masked)
    f.case("softmax_size_one", lambda x: torch.softmax(x, 1), r(3, 1))
    f.case("softmax_1d", lambda x: torch.softmax(x, 0), r(5))
    f.case("softmax_f32", lambda x: torch.softmax(x, -1), r(3, 8, lo=-5, hi=5, dtype=torch.float32), grad=False)
    f.case("log_softmax_f32", lambda x: torch.log_softmax(x, 1), r(3, 8, lo=-5, hi=5, dtype=torch.float32), grad=False)
    f.write()


def shape():
    f = Family("shape", 6)
    x = r(2, 3, 4)
    f.case("cat_d0", lambda a, b: torch.cat([a, b]), r(2, 3), r(1, 3))
    f.case("cat_d1_three", lambda a, b, c: torch.cat([a, b, c], 1), r(2, 1), r(2, 3), r(2, 2))
    f.case("cat_neg_t", lambda a, b: torch.cat([a.t(), b], -1), r(2, 3), r(3, 1))
    f.case("cat_mixed", lambda a, b: torch.cat([a, b]), r(2, 3, dtype=torch.float32), r(1, 3))
    f.case("cat_skip_empty", lambda a, b: torch.cat([a, b]), r(2, 3), torch.zeros(0, dtype=torch.float64))
    f.case("stack", lambda a, b: torch.stack([a, b]), r(2, 3), r(2, 3))
    f.case("stack_last", lambda a, b, c: torch.stack([a, b, c], -1), r(2, 3), r(2, 3), r(2, 3))
    f.case("stack_t", lambda a, b: torch.stack([a.t(), b], 1), r(3, 2), r(2, 3))
    f.case("split_size", lambda x: torch.split(x, 2, 2), x)
    f.case("split_sizes", lambda x: torch.split(x, [1, 2], 1), x)
    f.case("chunk", lambda x: torch.chunk(x, 3, -1), r(2, 5))
    f.case("chunk_fewer", lambda x: torch.chunk(x, 4, 0), r(6, 2))
    f.case("flip", lambda x: torch.flip(x, [0, 2]), x)
    f.case("flip_t", lambda x: torch.flip(x.t(), [1]), r(3, 4))
    f.case("roll_flat", lambda x: torch.roll(x, 5), x)
    f.case("roll_dims", lambda x: torch.roll(x, (1, -3), (0, 2)), x)
    f.case("roll_dim", lambda x: torch.roll(x, -1, 1), x)
    f.case("pad_constant", lambda x: F.pad(x, (1, 2), value=0.5), x)
    f.case("pad_constant_2d", lambda x: F.pad(x, (2, 0, 1, 1)), x)
    f.case("pad_constant_crop", lambda x: F.pad(x, (-1, 1, 0, -1)), x)
    f.case("pad_reflect", lambda x: F.pad(x, (2, 3), mode="reflect"), x)
    f.case("pad_reflect_2d", lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"), r(1, 2, 3, 4))
    f.case("pad_replicate", lambda x: F.pad(x, (2, 1), mode="replicate"), x)
    f.case("pad_replicate_2d", lambda x: F.pad(x, (1, 3, 2, 0), mode="replicate"), r(1, 2, 3, 4))
    f.case("repeat", lambda x: x.repeat(2, 1, 3), r(3, 2))
    f.case("repeat_same_rank", lambda x: x.repeat(2, 3), r(2, 3))
    f.case("repeat_t", lambda x: x.t().repeat(1, 2), r(2, 3))
    f.case("tril", torch.tril, r(3, 4))
    f.case("tril_neg", lambda x: torch.tril(x, -1), x)
    f.case("triu", torch.triu, r(4, 3))
    f.case("triu_pos", lambda x: torch.triu(x, 2), x)
    f.case("triu_t", lambda x: torch.triu(x.t(), 1), r(4, 3))
    f.case("one_hot", F.one_hot, idx(2, 0, 1, 2, 4), grad=False)
    f.case("one_hot_classes", lambda i: F.one_hot(i, 6), idx(2, 0, 1, 5, 3, 3).reshape(2, 3), grad=False)
    f.case("cat_int_float", lambda a, b: torch.cat([a, b]), idx(1, 2, 3).reshape(1, 3), r(2, 3))
    f.case("cat_int", lambda a, b: torch.cat([a, b], 1), idx(1, 2).reshape(2, 1), idx(3, 4).reshape(2, 1))
    f.case("split_uneven", lambda x: torch.split(x, 3, 2), x)
    f.case("flip_neg", lambda x: torch.flip(x, [-1, -2]), x)
    f.case("roll_big_shift", lambda x: torch.roll(x, (7, -9), (1, 2)), x)
    f.case("pad_reflect_t", lambda x: F.pad(x.transpose(1, 2), (1, 1), mode="reflect"), x)
    f.case("pad_reflect_3d", lambda x: F.pad(x, (1, 1, 1, 0, 0, 1), mode="reflect"), r(1, 1, 2, 2, 3))
    f.case("pad_replicate_3d", lambda x: F.pad(x, (1, 2, 0, 1, 1, 0), mode="replicate"), r(1, 1, 2, 2, 3))
    f.case("pad_constant_3d", lambda x: F.pad(x, (1, 0, 0, 1, 1, 1), value=-1.0), x)
    f.case("repeat_ones", lambda x: x.repeat(1, 1), r(2, 3))
    f.case("tril_big", lambda x: torch.tril(x, 5), r(3, 4))
    f.case("triu_neg_big", lambda x: torch.triu(x, -5), r(3, 4))
    f.case("tril_int", torch.tril, idx(1, 2, 3, 4, 5, 6).reshape(2, 3), grad=False)
    f.write()


def index():
    f = Family("index", 7)
    x = r(3, 4)
    f.case("index_select", lambda x, i: x.index_select(0, i), x, idx(2, 0, 2))
    f.case("index_select_d2", lambda x, i: x.index_select(2, i), r(2, 3, 4), idx(3, 1, 1, 0, 3))
    f.case("index_select_t", lambda x, i: x.t().index_select(0, i), x, idx(1, 3))
    f.case("gather", lambda x, i: x.gather(1, i), x, idx(0, 3, 3, 1, 2, 0).reshape(3, 2))
    f.case("gather_d0", lambda x, i: x.gather(0, i), x, idx(2, 1, 0, 2, 0, 0, 1, 1).reshape(2, 4))
    f.case("scatter", lambda x, i, s: x.scatter(1, i, s), x, idx(3, 0, 1, 2, 2, 0).reshape(3, 2), r(3, 2))
    # (PyTorch 1.13's backward refuses a src larger than index, so that case is forward only)
    f.case("scatter_src_larger", lambda x, i, s: x.scatter(1, i, s), x, idx(3, 0, 1, 2, 2, 0).reshape(3, 2), r(3, 3), grad=False)
    f.case("scatter_d0", lambda x, i, s: x.scatter(0, i, s), x, idx(2, 0, 1, 1).reshape(1, 4), r(1, 4))
    f.case("scatter_value", lambda x, i: x.scatter(1, i, -2.5), x, idx(1, 3, 0).reshape(3, 1))
    f.case("scatter_add", lambda x, i, s: x.scatter_add(1, i, s), x, idx(0, 0, 3, 1, 1, 1).reshape(3, 2), r(3, 2))
    f.case("scatter_add_d0", lambda x, i, s: x.scatter_add(0, i, s), x, idx(2, 0, 2, 1, 2, 2, 0, 1).reshape(2, 4), r(2, 4))
    f.case("index_add", lambda x, i, s: x.index_add(0, i, s), x, idx(2, 0, 2), r(3, 4))
    f.case("index_add_alpha_d1", lambda x, i, s: x.index_add(1, i, s, alpha=-0.5), x, idx(1, 1), r(3, 2))
    f.case("embedding", F.embedding, idx(1, 4, 1, 0, 2, 3).reshape(2, 3), r(5, 3))
    f.case("embedding_padding", lambda i, w: F.embedding(i, w, padding_idx=1), idx(1, 4, 1, 0, 2, 3).reshape(2, 3), r(5, 3))
    f.case("embedding_padding0", lambda i, w: F.embedding(i, w, padding_idx=0), idx(0, 2, 0, 0), r(4, 2))
    f.case("index_select_0d", lambda x, i: x.index_select(1, i), x, torch.tensor(2))
    f.case("index_select_int", lambda x, i: x.index_select(0, i), idx(1, 2, 3, 4, 5, 6).reshape(3, 2), idx(2, 2, 0), grad=False)
    f.case("gather_smaller", lambda x, i: x.gather(1, i), x, idx(3, 3, 0, 1).reshape(2, 2))
    f.case("gather_3d", lambda x, i: x.gather(2, i), r(2, 3, 4), idx(0, 3, 1, 1, 2, 0, 3, 3, 2, 1, 0, 0).reshape(2, 3, 2))
    f.case("scatter_add_smaller", lambda x, i, s: x.scatter_add(1, i, s), x, idx(2, 2, 1).reshape(1, 3), r(1, 3))
    f.case("index_add_0d", lambda x, i, s: x.index_add(0, i, s), x, torch.tensor(1), r(1, 4))
    f.case("embedding_1d", F.embedding, idx(3, 0, 3), r(4, 2))
    f.case("embedding_0d", F.embedding, torch.tensor(2), r(4, 2))
    f.write()


def factory():
    f = Family("factory", 8)
    f64 = torch.float64
    f.case("arange_int", lambda: torch.arange(5))
    f.case("arange_f64", lambda: torch.arange(0, 1, 0.1, dtype=f64))
    f.case("arange_neg_step", lambda: torch.arange(2, -1, -0.5, dtype=f64))
    f.case("arange_f32", lambda: torch.arange(1, 2.5, 0.25))
    f.case("linspace_f64", lambda: torch.linspace(0, 1, 7, dtype=f64))
    f.case("linspace_f32", lambda: torch.linspace(-1, 3, 10))
    f.case("linspace_one", lambda: torch.linspace(2, 5, 1, dtype=f64))
    f.case("eye", lambda: torch.eye(3, 4))
    f.case("eye_square", lambda: torch.eye(3, dtype=f64))
    f.case("full", lambda: torch.full((2, 3), -1.5, dtype=f64))
    f.write()


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    for family in [elementwise, reduce, views, linalg, softmax, shape, index, factory]:
        family()
