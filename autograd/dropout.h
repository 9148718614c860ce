#pragma once
// Inverted dropout (torch.nn.functional.dropout): in training, each element is zeroed with
// probability p and the survivors are scaled by 1/(1-p), so the expected value is unchanged.
#include "tensor/philox.h"
#include "tensor/tensor.h"

namespace fm {

// The mask comes from the Philox generator `gen` (the default one when null), drawn exactly
// as fm::bernoulli(x.sizes(), 1 - p) would: element i (row-major) uses lane i%4 of block
// offset + i/4, and the generator advances by ceil(numel/4) blocks. The same seed and offset
// give the same mask on every device. p = 0 or !training returns x itself; p = 1 gives zeros.
// Gradient: g * mask / (1 - p).
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

}  // namespace fm
