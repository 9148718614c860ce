#pragma once
// Differentiable pooling with PyTorch's names, argument order and defaults
// (torch.nn.functional.max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d,
// adaptive_max_pool1d/2d). Inputs are batched (x[N, C, L], x[N, C, H, W]) or unbatched
// (x[C, L], x[C, H, W]); stride defaults to the kernel size. The *_with_indices forms also
// return the int64 positions of the maxima within each plane (flattened h * W + w for 2-D),
// as PyTorch's return_indices=True does. Max pooling routes the gradient to the maxima; average
// pooling spreads it over each window; both gradients are differentiable again.
#include <optional>
#include <utility>

#include "autograd/conv.h"  // Int2
#include "tensor/tensor.h"

namespace fm {

Tensor max_pool1d(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride = std::nullopt,
                  int64_t padding = 0, int64_t dilation = 1, bool ceil_mode = false);
std::pair<Tensor, Tensor> max_pool1d_with_indices(const Tensor& x, int64_t kernel_size,
                                                  std::optional<int64_t> stride = std::nullopt, int64_t padding = 0,
                                                  int64_t dilation = 1, bool ceil_mode = false);
Tensor max_pool2d(const Tensor& x, Int2 kernel_size, std::optional<Int2> stride = std::nullopt, Int2 padding = 0,
                  Int2 dilation = 1, bool ceil_mode = false);
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Int2 kernel_size,
                                                  std::optional<Int2> stride = std::nullopt, Int2 padding = 0,
                                                  Int2 dilation = 1, bool ceil_mode = false);

Tensor avg_pool1d(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride = std::nullopt,
                  int64_t padding = 0, bool ceil_mode = false, bool count_include_pad = true);
// divisor_override: when positive, every window's sum is divided by it instead.
Tensor avg_pool2d(const Tensor& x, Int2 kernel_size, std::optional<Int2> stride = std::nullopt, Int2 padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true, int64_t divisor_override = 0);

// Window i of n along an axis of size L: [floor(i*L/n), ceil((i+1)*L/n)).
Tensor adaptive_avg_pool1d(const Tensor& x, int64_t output_size);
Tensor adaptive_avg_pool2d(const Tensor& x, Int2 output_size);
Tensor adaptive_max_pool1d(const Tensor& x, int64_t output_size);
Tensor adaptive_max_pool2d(const Tensor& x, Int2 output_size);
std::pair<Tensor, Tensor> adaptive_max_pool1d_with_indices(const Tensor& x, int64_t output_size);
std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& x, Int2 output_size);

}  // namespace fm
