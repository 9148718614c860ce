#!/usr/bin/env python3
"""Writes sample.safetensors with the standard library only (struct + json), laid out the way
the reference implementation (and torch via safetensors.torch.save_file) lays files out:
__metadata__ first, tensors ordered by alignment (largest element first) then by name, the
header padded with spaces to a multiple of 8 bytes. tests/tensor/safetensors_test.cpp reads it.

Run from anywhere:  python3 tests/tensor/data/make_safetensors_sample.py
"""
import json
import os
import struct

# name -> (dtype, shape, values in row-major order, struct format char)
TENSORS = {
    "weight": ("F32", [2, 3], [0.5 * i - 1.0 for i in range(6)], "f"),
    "bias": ("F64", [3], [0.125, -2.5, 1e-300], "d"),
    "step": ("I64", [], [-9007199254740993], "q"),
    "mask": ("BOOL", [2, 2], [True, False, False, True], "?"),
    "empty": ("F32", [0, 4], [], "f"),
}
SIZES = {"F32": 4, "F64": 8, "I64": 8, "BOOL": 1}
METADATA = {"format": "pt", "producer": "make_safetensors_sample.py"}


def main():
    order = sorted(TENSORS, key=lambda n: (-SIZES[TENSORS[n][0]], n))
    header = {"__metadata__": METADATA}
    data = b""
    for name in order:
        dtype, shape, values, fmt = TENSORS[name]
        raw = struct.pack("<%d%s" % (len(values), fmt), *values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample.safetensors")
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    print("wrote", out, 8 + len(text) + len(data), "bytes")


if __name__ == "__main__":
    main()
