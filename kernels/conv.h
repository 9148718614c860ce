#pragma once
// Convolution on raw tensors (no autograd): im2col + one GEMM per image and group.
// Everything is 2-D spatial; conv1d is the case H = Ho = kh = 1.
//
// A ConvGeometry relates an "input space" x[N, C, H, W] and an "output space" y[N, O, Ho, Wo]
// through a weight w[O, C/groups, kh, kw]: output position (oh, ow) reads input rows
// oh*sh - ph + i*dh and columns ow*sw - pw + j*dw (positions outside the input are zeros).
// ph/pw pad before; the padding after is whatever Ho/Wo imply, so asymmetric ("same" with an
// even kernel) and transposed (output_padding) geometries need nothing special.
//
//   conv2d_forward      y  = conv(x, w) (+ bias per output channel)
//   conv2d_input_grad   x' = conv^T(y', w) (+ bias per input channel): the gradient of conv with
//                       respect to x, and the forward of a transposed convolution
//   conv2d_weight_grad  w' = the gradient of conv with respect to w, given x and y'
#include "tensor/tensor.h"

namespace fm::kernels {

struct ConvGeometry {
  int64_t N = 0, C = 0, H = 0, W = 0;  // input space
  int64_t O = 0, Ho = 0, Wo = 0;       // output space
  int64_t kh = 1, kw = 1;
  int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int64_t groups = 1;
};

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeometry& g);
Tensor conv2d_input_grad(const Tensor& gy, const Tensor& w, const Tensor& bias, const ConvGeometry& g);
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& gy, const ConvGeometry& g);
// The bias gradient: gy[N, O, Ho, Wo] summed over N, Ho, Wo (accumulated in double).
Tensor conv2d_bias_grad(const Tensor& gy);

}  // namespace fm::kernels
