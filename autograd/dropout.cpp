// Differentiable dropout: the mask is drawn and applied in one pass by kernels::dropout; the
// gradient multiplies by the same (scaled) mask, a differentiable op.
#include "autograd/dropout.h"

#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "kernels/dropout.h"
#include "tensor/factory.h"

namespace fm {

using autograd::record;
using autograd::tensor_list;

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  FM_CHECK(p >= 0 && p <= 1, "dropout: probability p must be in [0, 1], got ", p, " (input ",
           x.describe(), ")");
  if (!training || p == 0) return x;
  FM_CHECK(x.is_floating_point(), "dropout: expected a floating-point input, got ", x.describe());
  if (p == 1) {
    Tensor y = zeros(x.sizes(), {.dtype = x.dtype(), .device = x.device()});
    record("DropoutBackward", {x}, {y}, [](const tensor_list& g) { return tensor_list{mul(g[0], 0.0)}; });
    return y;
  }
  Generator& g = gen ? *gen : default_generator();
  const uint64_t seed = g.seed();
  const uint64_t base = g.reserve(static_cast<uint64_t>((x.numel() + 3) / 4));
  auto [y, mask] = kernels::dropout(x, p, seed, base);
  record("DropoutBackward", {x}, {y}, [mask = mask](const tensor_list& gr) {
    return tensor_list{mul(gr[0], mask)};
  });
  return y;
}

}  // namespace fm
