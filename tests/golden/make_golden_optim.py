#!/usr/bin/python3
"""Optimizer and LR-schedule trajectories from PyTorch 1.13, for tests/golden/optim_golden_test.cpp.

Run with `/usr/bin/python3 tests/golden/make_golden_optim.py`. For each case, two float64
parameters (a [3, 4] matrix and a [4] vector) are updated for STEPS steps on the fixed loss
L = sum((W x + b - y)^2) + 0.1 * sum(W^3) (a non-quadratic term so moments differ per element);
the parameters after every step are stored as "<case>.W.<k>" and "<case>.b.<k>", the initial
values as "init.W", "init.b", and the data as "data.x", "data.y". Schedules store the learning
rate at each step as "<case>.lr" (and "<case>.momentum" for one-cycle).
"""
import os

import torch

from make_golden import OUT_DIR, write_safetensors

STEPS = 6
torch.manual_seed(0)
f64 = torch.float64
INIT_W = torch.rand(3, 4, dtype=f64) - 0.5
INIT_B = torch.rand(4, dtype=f64) - 0.5
X = torch.rand(5, 3, dtype=f64)
Y = torch.rand(5, 4, dtype=f64)


def loss_of(W, b):
    return ((X @ W + b - Y) ** 2).sum() + 0.1 * (W ** 3).sum()


def trajectory(name, make_opt, out, clip=None):
    W = INIT_W.clone().requires_grad_(True)
    b = INIT_B.clone().requires_grad_(True)
    opt = make_opt([W, b])
    for k in range(STEPS):
        opt.zero_grad()
        loss_of(W, b).backward()
        if clip is not None:
            out[f"{name}.norm.{k}"] = torch.tensor(float(torch.nn.utils.clip_grad_norm_([W, b], clip)), dtype=f64)
        opt.step()
        out[f"{name}.W.{k}"] = W.detach().clone()
        out[f"{name}.b.{k}"] = b.detach().clone()


def schedule(name, make_sched, out, steps=12, momentum=False):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    sched = make_sched(opt)
    lrs, moms = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
    out[f"{name}.lr"] = torch.tensor(lrs, dtype=f64)
    if momentum:
        out[f"{name}.momentum"] = torch.tensor(moms, dtype=f64)


def plateau(out):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1)
    metrics = [5, 4, 4, 4, 4, 3.9999, 3, 3, 3, 3, 3, 3, 2]
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    out["plateau.metrics"] = torch.tensor(metrics, dtype=f64)
    out["plateau.lr"] = torch.tensor(lrs, dtype=f64)


def main():
    O = torch.optim
    out = {"init.W": INIT_W, "init.b": INIT_B, "data.x": X, "data.y": Y}
    cases = {
        "sgd": lambda p: O.SGD(p, lr=0.05),
        "sgd_momentum": lambda p: O.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
        "sgd_nesterov": lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        "adam": lambda p: O.Adam(p, lr=0.01),
        "adam_wd_amsgrad": lambda p: O.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True),
        "adamw": lambda p: O.AdamW(p, lr=0.01),
        "adamw_amsgrad": lambda p: O.AdamW(p, lr=0.02, weight_decay=0.05, amsgrad=True),
        "rmsprop": lambda p: O.RMSprop(p, lr=0.01),
        "rmsprop_centered_momentum": lambda p: O.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, centered=True,
                                                         weight_decay=0.01),
    }
    for name, make in cases.items():
        trajectory(name, make, out)
    trajectory("sgd_clip", lambda p: O.SGD(p, lr=0.05), out, clip=0.5)
    S = O.lr_scheduler
    schedule("step", lambda o: S.StepLR(o, step_size=3, gamma=0.5), out)
    schedule("multistep", lambda o: S.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3), out)
    schedule("exponential", lambda o: S.ExponentialLR(o, gamma=0.9), out)
    schedule("cosine", lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), out, steps=10)
    schedule("linear", lambda o: S.LinearLR(o, start_factor=0.25, total_iters=4), out)
    schedule("warmup_cosine", lambda o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=3), S.CosineAnnealingLR(o, T_max=8)], milestones=[3]), out)
    schedule("onecycle", lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=13), out, momentum=True)
    schedule("onecycle_linear3", lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=13, anneal_strategy="linear",
                                                        three_phase=True), out, momentum=True)
    plateau(out)
    write_safetensors(os.path.join(OUT_DIR, "optim.safetensors"), out, {"steps": str(STEPS)})


if __name__ == "__main__":
    main()
