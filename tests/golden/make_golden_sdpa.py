#!/usr/bin/python3
"""Fused scaled dot-product attention golden data from PyTorch 1.13, for
tests/golden/sdpa_golden_test.cpp (fm::scaled_dot_product_attention).

Run with `/usr/bin/python3 tests/golden/make_golden_sdpa.py`; it rewrites
tests/golden/data/sdpa.safetensors deterministically. PyTorch 1.13 has no
F.scaled_dot_product_attention, so the reference is the definition:
softmax(q k^T * scale + mask) v, with mask -inf where causal (key j > query i) or where the key
padding mask [N, S] is true (broadcast over the heads). Inputs are [N, H, L, E] (q),
[N, H, S, E] (k), [N, H, S, Ev] (v), and in3 the bool key padding mask when the case has one;
case layout as make_golden.py's (c.in<i>, c.out, c.grad_out, c.grad<i>).
"""
import math
import os

import torch

from make_golden import OUT_DIR, Family, r


def sdpa(q, k, v, kpm=None, causal=False, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    logits = torch.matmul(q, k.transpose(-1, -2)) * scale
    L, S = q.shape[-2], k.shape[-2]
    mask = torch.zeros(L, S, dtype=torch.bool)
    if causal:
        mask = torch.ones(L, S, dtype=torch.bool).triu(1)
    if kpm is not None:
        mask = mask | kpm[:, None, None, :]
    logits = logits.masked_fill(mask, -math.inf)
    return torch.matmul(torch.softmax(logits, -1), v)


def main():
    f = Family("sdpa", 11)
    N, H = 2, 2
    kpm6 = torch.tensor([[False, False, True, False, False, True], [False, True, False, False, False, False]])
    f.case("plain", sdpa, r(N, H, 5, 4), r(N, H, 6, 4), r(N, H, 6, 3))
    f.case("causal", lambda q, k, v: sdpa(q, k, v, causal=True), r(N, H, 6, 4), r(N, H, 6, 4), r(N, H, 6, 4))
    f.case("causal_l_ne_s", lambda q, k, v: sdpa(q, k, v, causal=True), r(N, H, 4, 3), r(N, H, 6, 3), r(N, H, 6, 5))
    f.case("key_padding", lambda q, k, v, m: sdpa(q, k, v, kpm=m), r(N, H, 5, 4), r(N, H, 6, 4), r(N, H, 6, 2), kpm6)
    f.case("causal_key_padding", lambda q, k, v, m: sdpa(q, k, v, kpm=m, causal=True),
           r(N, H, 6, 4), r(N, H, 6, 4), r(N, H, 6, 3), kpm6)
    f.case("scale", lambda q, k, v: sdpa(q, k, v, scale=0.3), r(N, H, 3, 5, lo=-3, hi=3), r(N, H, 7, 5, lo=-3, hi=3),
           r(N, H, 7, 4))
    f.case("f32_causal_key_padding", lambda q, k, v, m: sdpa(q, k, v, kpm=m, causal=True),
           r(N, H, 6, 8, dtype=torch.float32), r(N, H, 6, 8, dtype=torch.float32),
           r(N, H, 6, 8, dtype=torch.float32), kpm6)
    f.write()


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    main()
