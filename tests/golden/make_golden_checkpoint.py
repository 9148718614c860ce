#!/usr/bin/python3
"""A PyTorch model's state_dict saved as safetensors, with an input and the model's output, for
tests/golden/checkpoint_golden_test.cpp: fermata must load the PyTorch keys into the same
architecture and reproduce the output. Run with `/usr/bin/python3 tests/golden/make_golden_checkpoint.py`."""
import os

import torch

from make_golden import OUT_DIR, write_safetensors


def main():
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.GELU(), torch.nn.Dropout(0.3),
                                torch.nn.Linear(8, 3)).double().eval()
    x = torch.randn(4, 6, dtype=torch.float64)
    with torch.no_grad():
        y = model(x)
    write_safetensors(os.path.join(OUT_DIR, "mlp_state_dict.safetensors"), dict(model.state_dict()),
                      {"format": "pt"})
    write_safetensors(os.path.join(OUT_DIR, "mlp_io.safetensors"), {"x": x, "y": y}, {})


if __name__ == "__main__":
    main()
