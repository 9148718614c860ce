#!/usr/bin/python3
"""Attention golden data from PyTorch 1.13, for tests/golden/attention_golden_test.cpp.

Run with `/usr/bin/python3 tests/golden/make_golden_attention.py`; it rewrites
tests/golden/data/attention.safetensors deterministically. Everything is float64, dropout is 0,
modules are in eval mode. Sizes: E = 8, heads = 2, L = 5 (target), S = 6 (source), N = 2.

For each case `c` (its configuration is in the metadata under the case's name):
  c.param.<key>        the module's state_dict, PyTorch's keys (parameters are redrawn
                       uniformly in [-0.5, 0.5), biases and LayerNorm affines included, so every
                       parameter matters)
  c.input.<name>       inputs that are differentiated (query, key, value, src, x)
  c.mask.<name>        masks (attn_mask, key_padding_mask, src_mask), not differentiated
  c.out.<name>         outputs (output, weights)
  c.grad_out.<name>    random upstream gradients of the outputs
  c.grad_input.<name>, c.grad_param.<key>   the gradients PyTorch computes
The metadata's "cases" lists the case names.

The relative-attention cases ("rel_*") have no PyTorch module: they are computed here by the
definition (Huang et al. 2018: an embedding gathered for every (query, key) pair, O(L^2 D)),
with the parameter names of fm::nn::RelativeMultiheadAttention, so the C++ module (which uses
the skewing procedure) is checked against an independent implementation of its documented
conventions. "pe_table" is the sinusoidal table of Vaswani et al. as the usual PyTorch
PositionalEncoding computes it (in float64 here).
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from make_golden import OUT_DIR, write_safetensors

f64 = torch.float64
E, H, L, S, N = 8, 2, 5, 6, 2


def rand(*shape):
    return torch.rand(shape, dtype=f64) * 2 - 1


def randomize(m):
    with torch.no_grad():
        for p in m.parameters():
            p.uniform_(-0.5, 0.5)


def store_case(name, out, module_params, inputs, masks, outputs, params):
    """module_params: the state_dict; inputs: name -> leaf requiring grad; outputs: name -> tensor."""
    for k, v in module_params.items():
        out[f"{name}.param.{k}"] = v.detach().clone()
    for k, v in inputs.items():
        out[f"{name}.input.{k}"] = v.detach().clone()
    for k, v in masks.items():
        out[f"{name}.mask.{k}"] = v.clone()
    roots, grads = [], []
    for k, v in outputs.items():
        out[f"{name}.out.{k}"] = v.detach().clone()
        g = rand(*v.shape)
        out[f"{name}.grad_out.{k}"] = g
        roots.append(v)
        grads.append(g)
    torch.autograd.backward(roots, grads)
    for k, v in inputs.items():
        out[f"{name}.grad_input.{k}"] = v.grad.clone()
    for k, p in params:
        out[f"{name}.grad_param.{k}"] = p.grad.clone()


def bool_kpm(n, s):
    """A key_padding_mask that hides a few keys but never all of a row."""
    m = torch.zeros(n, s, dtype=torch.bool)
    m[0, 1] = True
    m[n - 1, s - 2:] = True
    return m


def bool_attn(l, s):
    m = torch.rand(l, s) > 0.75
    m[:, 0] = False  # key 0 stays visible (with the kpm above, no row is fully masked)
    return m


# ------------------------------------------------------------------ MultiheadAttention

MHA_CASES = {
    # name: (batch_first, kdim, vdim, bias, self_attention, unbatched, attn_mask kind, kpm, average)
    "mha_masks": dict(batch_first=False, kdim=None, vdim=None, bias=True, self_attn=False, unbatched=False,
                      attn_mask="bool2d", kpm=True, average=True),
    "mha_float_mask_bf_heads": dict(batch_first=True, kdim=None, vdim=None, bias=True, self_attn=False,
                                    unbatched=False, attn_mask="float3d", kpm=True, average=False),
    "mha_self_causal": dict(batch_first=False, kdim=None, vdim=None, bias=True, self_attn=True, unbatched=False,
                            attn_mask="causal", kpm=False, average=True),
    "mha_self_unbatched": dict(batch_first=False, kdim=None, vdim=None, bias=True, self_attn=True, unbatched=True,
                               attn_mask="none", kpm=False, average=True),
    "mha_kdim_vdim_nobias": dict(batch_first=False, kdim=5, vdim=7, bias=False, self_attn=False, unbatched=False,
                                 attn_mask="none", kpm=True, average=True),
}


def mha_case(name, c, out):
    m = nn.MultiheadAttention(E, H, dropout=0.0, bias=c["bias"], batch_first=c["batch_first"],
                              kdim=c["kdim"], vdim=c["vdim"]).to(f64)
    randomize(m)
    m.eval()
    kd, vd = c["kdim"] or E, c["vdim"] or E
    Ls = L if c["self_attn"] else S

    def shaped(t, f):
        if c["unbatched"]:
            return rand(t, f)
        return rand(N, t, f) if c["batch_first"] else rand(t, N, f)

    inputs, masks = {}, {}
    if c["self_attn"]:
        x = shaped(L, E).requires_grad_(True)
        inputs["query"] = x
        q = k = v = x
    else:
        q = shaped(L, E).requires_grad_(True)
        k = shaped(S, kd).requires_grad_(True)
        v = shaped(S, vd).requires_grad_(True)
        inputs.update(query=q, key=k, value=v)
    am = None
    if c["attn_mask"] == "bool2d":
        am = bool_attn(L, Ls)
    elif c["attn_mask"] == "float3d":
        am = rand(N * H, L, Ls)
    elif c["attn_mask"] == "causal":
        am = torch.triu(torch.ones(L, L, dtype=torch.bool), 1)
    kpm = bool_kpm(N, Ls) if c["kpm"] else None
    if am is not None:
        masks["attn_mask"] = am
    if kpm is not None:
        masks["key_padding_mask"] = kpm
    y, w = m(q, k, v, key_padding_mask=kpm, need_weights=True, attn_mask=am,
             average_attn_weights=c["average"])
    store_case(name, out, m.state_dict(), inputs, masks, {"output": y, "weights": w}, m.named_parameters())


# ------------------------------------------------------------------ TransformerEncoderLayer / Encoder

ENC_CASES = {
    # post-norm relu, time-major, causal bool src_mask + key padding
    "enc_post_relu": dict(layers=0, norm=False, ff=16, activation="relu", batch_first=False, norm_first=False,
                          src_mask="causal", kpm=True),
    # pre-norm gelu, batch_first, float src_mask
    "enc_pre_gelu_bf": dict(layers=0, norm=False, ff=12, activation="gelu", batch_first=True, norm_first=True,
                            src_mask="float", kpm=True),
    # TransformerEncoder: 2 post-norm layers + a final LayerNorm
    "encoder_2_layers_norm": dict(layers=2, norm=True, ff=16, activation="relu", batch_first=False,
                                  norm_first=False, src_mask="causal", kpm=True),
}


def enc_case(name, c, out):
    layer = nn.TransformerEncoderLayer(E, H, dim_feedforward=c["ff"], dropout=0.0, activation=c["activation"],
                                       batch_first=c["batch_first"], norm_first=c["norm_first"])
    if c["layers"]:
        m = nn.TransformerEncoder(layer, c["layers"], norm=nn.LayerNorm(E) if c["norm"] else None,
                                  enable_nested_tensor=False)
    else:
        m = layer
    m = m.to(f64)
    randomize(m)
    m.eval()
    src = (rand(N, L, E) if c["batch_first"] else rand(L, N, E)).requires_grad_(True)
    masks = {}
    sm = torch.triu(torch.ones(L, L, dtype=torch.bool), 1) if c["src_mask"] == "causal" else rand(L, L)
    masks["src_mask"] = sm
    kpm = bool_kpm(N, L) if c["kpm"] else None
    if kpm is not None:
        masks["src_key_padding_mask"] = kpm
    if c["layers"]:
        y = m(src, mask=sm, src_key_padding_mask=kpm)
    else:
        y = m(src, src_mask=sm, src_key_padding_mask=kpm)
    store_case(name, out, m.state_dict(), {"src": src}, masks, {"output": y}, m.named_parameters())


# ------------------------------------------------------------------ relative attention (by the definition)

REL_CASES = {
    "rel_causal": dict(causal=True, share_heads=True, batch_first=False, max_len=7, kpm=False),
    "rel_bidir_per_head_bf": dict(causal=False, share_heads=False, batch_first=True, max_len=6, kpm=True),
}


def rel_case(name, c, out):
    hd, ml = E // H, c["max_len"]
    R = ml if c["causal"] else 2 * ml - 1
    params = {
        "in_proj_weight": rand(3 * E, E) * 0.5,
        "in_proj_bias": rand(3 * E) * 0.5,
        "relative_embedding": rand(R, hd) if c["share_heads"] else rand(H, R, hd),
        "out_proj.weight": rand(E, E) * 0.5,
        "out_proj.bias": rand(E) * 0.5,
    }
    for p in params.values():
        p.requires_grad_(True)
    x = (rand(N, L, E) if c["batch_first"] else rand(L, N, E)).requires_grad_(True)
    xt = x.transpose(0, 1) if c["batch_first"] else x  # [L, N, E]
    q, k, v = F.linear(xt, params["in_proj_weight"], params["in_proj_bias"]).chunk(3, dim=-1)

    def heads(t):  # [L, N, E] -> [N, H, L, hd]
        return t.reshape(L, N, H, hd).permute(1, 2, 0, 3)

    q, k, v = heads(q), heads(k), heads(v)
    # rows of the table for this length; row r <-> distance r - (ml - 1)
    er = params["relative_embedding"]
    er = er[..., ml - L: ml, :] if c["causal"] else er[..., ml - L: ml + L - 1, :]
    i = torch.arange(L).unsqueeze(1)
    j = torch.arange(L).unsqueeze(0)
    dist = j - i
    if c["causal"]:
        dist = dist.clamp(max=0)
    idx = (L - 1) + dist                       # [L, L]
    if c["share_heads"]:
        g = er[idx]                            # [L, L, hd]: O(L^2 D)
        s_rel = torch.einsum("nhid,ijd->nhij", q, g)
    else:
        g = er[:, idx]                         # [H, L, L, hd]
        s_rel = torch.einsum("nhid,hijd->nhij", q, g)
    logits = (q @ k.transpose(-1, -2) + s_rel) / math.sqrt(hd)
    masks = {}
    if c["causal"]:
        logits = logits.masked_fill(torch.triu(torch.ones(L, L, dtype=torch.bool), 1), float("-inf"))
    if c["kpm"]:
        kpm = bool_kpm(N, L)
        masks["key_padding_mask"] = kpm
        logits = logits.masked_fill(kpm.view(N, 1, 1, L), float("-inf"))
    w = torch.softmax(logits, dim=-1)
    o = (w @ v).permute(2, 0, 1, 3).reshape(L, N, E)
    y = F.linear(o, params["out_proj.weight"], params["out_proj.bias"])
    if c["batch_first"]:
        y = y.transpose(0, 1)
    store_case(name, out, params, {"x": x}, masks, {"output": y, "weights": w.mean(dim=1)}, params.items())


def pe_case(name, out):
    d, max_len = 8, 50
    pe = torch.zeros(max_len, d, dtype=f64)
    position = torch.arange(0, max_len, dtype=f64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d, 2, dtype=f64) * -(math.log(10000.0) / d))
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    out[f"{name}.out.table"] = pe


def main():
    torch.set_num_threads(1)
    torch.manual_seed(29)
    os.makedirs(OUT_DIR, exist_ok=True)
    out, meta = {}, {}
    for name, c in MHA_CASES.items():
        mha_case(name, c, out)
        meta[name] = json.dumps(c)
    for name, c in ENC_CASES.items():
        enc_case(name, c, out)
        meta[name] = json.dumps(c)
    for name, c in REL_CASES.items():
        rel_case(name, c, out)
        meta[name] = json.dumps(c)
    pe_case("pe_table", out)
    meta["pe_table"] = json.dumps(dict(d_model=8, max_len=50))
    names = list(MHA_CASES) + list(ENC_CASES) + list(REL_CASES) + ["pe_table"]
    meta["cases"] = ",".join(names)
    meta["generator"] = f"torch {torch.__version__}"
    meta["sizes"] = json.dumps(dict(E=E, heads=H, L=L, S=S, N=N))
    write_safetensors(os.path.join(OUT_DIR, "attention.safetensors"), out, meta)
    print(f"attention: {len(names)} cases, {len(out)} tensors")


if __name__ == "__main__":
    main()
