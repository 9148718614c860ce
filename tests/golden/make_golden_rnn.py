#!/usr/bin/python3
"""LSTM and GRU golden data from PyTorch 1.13, for tests/golden/rnn_golden_test.cpp.

Run with `/usr/bin/python3 tests/golden/make_golden_rnn.py`; it rewrites
tests/golden/data/rnn.safetensors deterministically. Everything is float64, dropout is off.

For each case `c` (the module's configuration is in the CONFIGS table below and, for readers,
in the file's metadata under the case's name):
  c.param.<key>        the module's state_dict (PyTorch's keys: weight_ih_l0, bias_hh_l1_reverse, ...)
  c.input              the input ([T, N, in], [N, T, in] with batch_first, or [T, in] unbatched)
  c.h0, c.c0           initial states, for the cases that pass them
  c.output, c.h_n, c.c_n           the outputs
  c.grad_output, c.grad_h_n, c.grad_c_n   random upstream gradients of the outputs
  c.grad_input, c.grad_h0, c.grad_c0, c.grad_param.<key>   the gradients PyTorch computes
The metadata's "cases" lists the case names.
"""
import json
import os

import torch

from make_golden import OUT_DIR, write_safetensors

f64 = torch.float64
T, N = 5, 3

# name -> (mode, input_size, hidden_size, num_layers, bidirectional, batch_first, bias, with_state, unbatched)
CONFIGS = {
    "lstm_bi2": ("LSTM", 7, 5, 2, True, False, True, False, False),
    "lstm_bi2_state": ("LSTM", 7, 5, 2, True, False, True, True, False),
    "lstm_bi2_bf": ("LSTM", 6, 4, 2, True, True, True, False, False),
    "lstm_bi2_bf_state": ("LSTM", 6, 4, 2, True, True, True, True, False),
    "lstm_nobias_state": ("LSTM", 5, 6, 1, False, False, False, True, False),
    "lstm_unbatched_state": ("LSTM", 8, 4, 2, True, False, True, True, True),
    "gru_bi2": ("GRU", 8, 6, 2, True, False, True, False, False),
    "gru_bi2_state": ("GRU", 8, 6, 2, True, False, True, True, False),
    "gru_bi2_bf": ("GRU", 5, 4, 2, True, True, True, False, False),
    "gru_bi2_bf_state": ("GRU", 5, 4, 2, True, True, True, True, False),
    "gru_nobias_state": ("GRU", 6, 5, 1, False, False, False, True, False),
    "gru_unbatched_state": ("GRU", 7, 5, 2, True, False, True, True, True),
}


def rand(*shape):
    return torch.rand(shape, dtype=f64) * 2 - 1


def make_case(name, cfg, out):
    mode, inp, hid, layers, bi, bf, bias, with_state, unbatched = cfg
    cls = torch.nn.LSTM if mode == "LSTM" else torch.nn.GRU
    m = cls(inp, hid, num_layers=layers, bias=bias, batch_first=bf, dropout=0.0, bidirectional=bi).to(f64)
    for k, v in m.state_dict().items():
        out[f"{name}.param.{k}"] = v.clone()
    D = 2 if bi else 1
    if unbatched:
        x = rand(T, inp)
        sshape = (layers * D, hid)
    else:
        x = rand(N, T, inp) if bf else rand(T, N, inp)
        sshape = (layers * D, N, hid)
    out[f"{name}.input"] = x.clone()
    x.requires_grad_(True)
    inputs = [x]
    hx = None
    if with_state:
        h0 = rand(*sshape).requires_grad_(True)
        out[f"{name}.h0"] = h0.detach().clone()
        inputs.append(h0)
        if mode == "LSTM":
            c0 = rand(*sshape).requires_grad_(True)
            out[f"{name}.c0"] = c0.detach().clone()
            inputs.append(c0)
            hx = (h0, c0)
        else:
            hx = h0
    y, state = m(x, hx)
    outs = {"output": y}
    if mode == "LSTM":
        outs["h_n"], outs["c_n"] = state
    else:
        outs["h_n"] = state
    roots, grads = [], []
    for k, v in outs.items():
        out[f"{name}.{k}"] = v.detach().clone()
        g = rand(*v.shape)
        out[f"{name}.grad_{k}"] = g
        roots.append(v)
        grads.append(g)
    torch.autograd.backward(roots, grads)
    out[f"{name}.grad_input"] = x.grad.clone()
    if with_state:
        out[f"{name}.grad_h0"] = inputs[1].grad.clone()
        if mode == "LSTM":
            out[f"{name}.grad_c0"] = inputs[2].grad.clone()
    for k, p in m.named_parameters():
        out[f"{name}.grad_param.{k}"] = p.grad.clone()


def main():
    torch.set_num_threads(1)
    torch.manual_seed(13)
    os.makedirs(OUT_DIR, exist_ok=True)
    out = {}
    for name, cfg in CONFIGS.items():
        make_case(name, cfg, out)
    keys = ("mode", "input_size", "hidden_size", "num_layers", "bidirectional", "batch_first", "bias",
            "with_state", "unbatched")
    meta = {"cases": ",".join(CONFIGS), "generator": f"torch {torch.__version__}"}
    for name, cfg in CONFIGS.items():
        meta[name] = json.dumps(dict(zip(keys, cfg)))
    write_safetensors(os.path.join(OUT_DIR, "rnn.safetensors"), out, meta)
    print(f"rnn: {len(CONFIGS)} cases, {len(out)} tensors")


if __name__ == "__main__":
    main()
