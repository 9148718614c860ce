#pragma once
// Differentiable convolutions, with PyTorch's names, argument order and defaults
// (torch.nn.functional.conv1d/conv2d/conv_transpose1d/conv_transpose2d).
//
//   conv1d(x[N, C, L], w[O, C/groups, K], bias[O], stride, padding, dilation, groups)
//   conv2d(x[N, C, H, W], w[O, C/groups, kh, kw], bias[O], stride, padding, dilation, groups)
//   conv_transpose1d(x[N, C_in, L], w[C_in, C_out/groups, K], bias[C_out], stride, padding,
//                    output_padding, groups, dilation)
//
// Unbatched inputs (x[C, L], x[C, H, W]) work too. padding is a number, a pair {h, w}, or
// "same" (output size = input size; an even kernel pads one more after than before, as PyTorch
// does; stride must be 1) or "valid" (no padding). Gradients of input, weight and bias are
// convolutions themselves, so second derivatives work.
#include <concepts>
#include <string>

#include "tensor/tensor.h"

namespace fm {

// An int or an (h, w) pair: conv2d(x, w, b, 2) or conv2d(x, w, b, {2, 1}).
struct Int2 {
  int64_t h, w;
  Int2(int64_t v) : h(v), w(v) {}  // NOLINT: implicit on purpose
  Int2(int64_t h, int64_t w) : h(h), w(w) {}
  bool operator==(const Int2&) const = default;
};

struct Padding1d {
  int64_t value = 0;
  std::string mode;  // "" (use value), "same" or "valid"
  Padding1d() = default;
  template <std::integral I>
  Padding1d(I v) : value(v) {}  // NOLINT (a literal 0 must not read as a null const char*)
  Padding1d(const char* m) : mode(m) {}  // NOLINT
  Padding1d(std::string m) : mode(std::move(m)) {}  // NOLINT
};

struct Padding2d {
  Int2 value = 0;
  std::string mode;  // "" (use value), "same" or "valid"
  Padding2d() = default;
  template <std::integral I>
  Padding2d(I v) : value(static_cast<int64_t>(v)) {}  // NOLINT
  Padding2d(int64_t h, int64_t w) : value(h, w) {}
  Padding2d(Int2 v) : value(v) {}  // NOLINT
  Padding2d(const char* m) : mode(m) {}  // NOLINT
  Padding2d(std::string m) : mode(std::move(m)) {}  // NOLINT
};

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), int64_t stride = 1,
              Padding1d padding = 0, int64_t dilation = 1, int64_t groups = 1);
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Int2 stride = 1,
              Padding2d padding = 0, Int2 dilation = 1, int64_t groups = 1);
Tensor conv_transpose1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        int64_t stride = 1, int64_t padding = 0, int64_t output_padding = 0,
                        int64_t groups = 1, int64_t dilation = 1);
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Int2 stride = 1,
                        Int2 padding = 0, Int2 output_padding = 0, int64_t groups = 1, Int2 dilation = 1);

}  // namespace fm
