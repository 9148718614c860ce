#pragma once
// Pooling on raw tensors (no autograd), over the planes of x[N, C, H, W] (1-D pooling is H = 1).
// Pooling is separable: along each axis, output position o reads the `count[o]` input positions
// first[o], first[o] + step, ... (already clipped to the input), so max/avg/adaptive pooling
// with padding, dilation and ceil_mode all run through the same loops. Average pooling divides
// by divisor_h[oh] * divisor_w[ow].
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace fm::kernels {

struct PoolAxis {
  int64_t in = 0;                    // input size along the axis
  int64_t step = 1;                  // distance between the positions a window reads (dilation)
  std::vector<int64_t> first, count;  // per output position
  std::vector<double> divisor;        // per output position (average pooling)
  int64_t out() const { return static_cast<int64_t>(first.size()); }
};

// PyTorch's output size for (max|avg)_pool: floor or ceil, where a ceil window must start
// inside the input or the left padding. Checks the arguments; `op` names the caller in errors.
int64_t pool_output_size(const char* op, int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode);
// Windows of a (max|avg) pool along one axis (divisor: count_include_pad as PyTorch computes it).
PoolAxis pool_axis(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d, bool count_include_pad);
// Windows of an adaptive pool: [floor(i*in/out), ceil((i+1)*in/out)).
PoolAxis adaptive_axis(int64_t in, int64_t out);

// The maxima and their flat positions ih * W + iw within each plane (int64). NaN wins, as in
// PyTorch; ties keep the first position.
std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, const PoolAxis& h, const PoolAxis& w);
Tensor avg_pool2d(const Tensor& x, const PoolAxis& h, const PoolAxis& w);
// The adjoint of avg_pool2d: each output gradient spread over its window.
Tensor avg_pool2d_backward(const Tensor& gy, const PoolAxis& h, const PoolAxis& w);
// y[n, c, o] = x[n, c, idx[n, c, o]] over flattened planes, and its adjoint (accumulating).
Tensor plane_gather(const Tensor& x, const Tensor& idx);
Tensor plane_scatter_add(const Tensor& g, const Tensor& idx, int64_t H, int64_t W);

}  // namespace fm::kernels
