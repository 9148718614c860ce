#!/usr/bin/python3
"""Golden data for tests/golden/conv_golden_test.cpp: convolutions and pooling, PyTorch 1.13.

Run with `/usr/bin/python3 tests/golden/make_golden_conv.py` (Debian's python3-torch); it
rewrites tests/golden/data/conv.safetensors deterministically. Same layout as make_golden.py:
per case `c` the inputs `c.in0, c.in1, ...` (input, weight, bias), the output `c.out` (or
`c.out0` values and `c.out1` indices for the max pools with indices), a random upstream gradient
`c.grad_out`, and the gradients `c.grad<i>` of the input, the weight and the bias. A name ending
in `_t` says the op sees a non-contiguous (transposed) input; `_f32` cases are float32.
Channel counts are small so the file stays a few tens of KB.
"""
import os

import torch
import torch.nn.functional as F

from make_golden import OUT_DIR, Family, r


def conv():
    f = Family("conv", 11)
    f32 = torch.float32
    # ---- conv1d ----
    f.case("conv1d", F.conv1d, r(2, 3, 9), r(4, 3, 3), r(4))
    f.case("conv1d_stride_pad_dil_groups", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2, groups=2),
           r(1, 4, 11), r(6, 2, 3), r(6))
    f.case("conv1d_same_even", lambda x, w, b: F.conv1d(x, w, b, padding="same", dilation=2), r(1, 3, 8), r(2, 3, 4), r(2))
    f.case("conv1d_nobias_t", lambda x, w: F.conv1d(x.transpose(1, 2), w, stride=3), r(2, 10, 3), r(2, 3, 2))
    f.case("conv1d_unbatched", lambda x, w, b: F.conv1d(x, w, b, padding=1), r(3, 6), r(2, 3, 3), r(2))
    # ---- conv2d ----
    f.case("conv2d_3x3_pad1", lambda x, w, b: F.conv2d(x, w, b, padding=1), r(1, 2, 5, 6), r(3, 2, 3, 3), r(3))
    f.case("conv2d_12x1", F.conv2d, r(1, 2, 13, 3), r(3, 2, 12, 1), r(3))
    f.case("conv2d_1x7", lambda x, w, b: F.conv2d(x, w, b, padding=(0, 3)), r(1, 2, 3, 9), r(3, 2, 1, 7), r(3))
    f.case("conv2d_strided_dilated_groups",
           lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2),
           r(1, 4, 6, 5), r(4, 2, 3, 2), r(4))
    f.case("conv2d_same_even", lambda x, w, b: F.conv2d(x, w, b, padding="same", dilation=(2, 1)),
           r(1, 2, 6, 5), r(3, 2, 2, 4), r(3))
    f.case("conv2d_same_12x1", lambda x, w, b: F.conv2d(x, w, b, padding="same"), r(1, 1, 13, 3), r(2, 1, 12, 1), r(2))
    f.case("conv2d_valid", lambda x, w, b: F.conv2d(x, w, b, padding="valid"), r(1, 2, 5, 5), r(2, 2, 2, 3), r(2))
    f.case("conv2d_depthwise", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=3),
           r(1, 3, 5, 5), r(3, 1, 3, 3), r(3))
    f.case("conv2d_pointwise", F.conv2d, r(2, 4, 3, 3), r(2, 4, 1, 1), r(2))
    f.case("conv2d_t", lambda x, w, b: F.conv2d(x.transpose(2, 3), w, b, padding=1), r(1, 2, 5, 4), r(2, 2, 3, 3), r(2))
    f.case("conv2d_f32", lambda x, w, b: F.conv2d(x, w, b, padding=1), r(1, 2, 4, 5, dtype=f32), r(3, 2, 3, 3, dtype=f32),
           r(3, dtype=f32))
    # ---- transposed ----
    f.case("conv_transpose1d", lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1),
           r(2, 4, 5), r(4, 3, 3), r(3))
    f.case("conv_transpose1d_groups_dil",
           lambda x, w, b: F.conv_transpose1d(x, w, b, stride=3, padding=2, output_padding=2, groups=2, dilation=2),
           r(1, 4, 4), r(4, 2, 3), r(4))
    f.case("conv_transpose2d",
           lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                                              dilation=(1, 2)),
           r(1, 2, 3, 4), r(2, 3, 3, 2), r(3))
    # ---- max pooling (out0 values, out1 int64 indices) ----
    f.case("max_pool1d", lambda x: F.max_pool1d(x, 3, stride=2, padding=1, ceil_mode=True, return_indices=True),
           r(2, 3, 9))
    f.case("max_pool1d_dilated", lambda x: F.max_pool1d(x, 2, stride=1, dilation=2), r(1, 2, 7))
    f.case("max_pool2d", lambda x: F.max_pool2d(x, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                                                ceil_mode=True, return_indices=True), r(1, 2, 7, 6))
    f.case("max_pool2d_default", lambda x: F.max_pool2d(x, 2), r(1, 2, 4, 6))
    f.case("max_pool2d_t", lambda x: F.max_pool2d(x.transpose(2, 3), (2, 1)), r(1, 2, 3, 4))
    # ---- average pooling ----
    f.case("avg_pool1d", lambda x: F.avg_pool1d(x, 3, stride=2, padding=1), r(2, 2, 8))
    f.case("avg_pool1d_exclude_pad_ceil",
           lambda x: F.avg_pool1d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), r(2, 2, 8))
    f.case("avg_pool2d", lambda x: F.avg_pool2d(x, (3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True,
                                                count_include_pad=False), r(1, 2, 6, 5))
    f.case("avg_pool2d_include_pad_ceil", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
           r(1, 2, 6, 6))
    f.case("avg_pool2d_divisor", lambda x: F.avg_pool2d(x, 2, padding=1, divisor_override=3), r(2, 1, 5, 4))
    # ---- adaptive ----
    f.case("adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x, 4), r(2, 3, 7))
    f.case("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)), r(1, 2, 7, 5))
    f.case("adaptive_avg_pool2d_up", lambda x: F.adaptive_avg_pool2d(x, (5, 7)), r(1, 1, 3, 4))
    f.case("adaptive_max_pool1d", lambda x: F.adaptive_max_pool1d(x, 3, return_indices=True), r(2, 2, 7))
    f.case("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (4, 3), return_indices=True), r(1, 2, 7, 5))
    f.write()


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    conv()
