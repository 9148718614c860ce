// Tensor-level CUDA convolution (kernels/conv.h): the CPU's argument checks, inputs made
// contiguous on the device, and the passes of kernels/cuda/conv_plan.h run as cuBLAS calls and
// the kernels of kernels/cuda/conv.cu, on the current stream.
// v1: im2col + cuBLAS GEMMs (batched over images or groups) for the forward pass; float32 and
// float64. v2: the forward pass of float32 runs the implicit GEMM where conv_forward_path says
// so (never with TF32 allowed: cuBLAS's tensor cores win then), otherwise v1. The input and
// weight gradients are v1's in both variants: im2col/col2im + cuBLAS, the weight gradient
// accumulated over images in the GEMM (beta = 1). Column buffers come from the caching
// allocator, at most kConvColumnBudgetBytes per chunk of images.
#ifdef FERMATA_WITH_CUDA
#include <algorithm>
#include <limits>
#include <type_traits>

#include "kernels/conv.h"
#include "kernels/cuda/common.h"
#include "kernels/cuda/conv_plan.h"
#include "kernels/elementwise.h"

namespace fm::kernels::cuda {

namespace {

ConvGeom geom_of(const ConvGeometry& g) {
  ConvGeom r;
  r.N = g.N, r.C = g.C, r.H = g.H, r.W = g.W, r.O = g.O, r.Ho = g.Ho, r.Wo = g.Wo, r.kh = g.kh, r.kw = g.kw;
  r.sh = g.sh, r.sw = g.sw, r.ph = g.ph, r.pw = g.pw, r.dh = g.dh, r.dw = g.dw, r.groups = g.groups;
  return r;
}

void check_common(const char* op, const Tensor& a, const Tensor& b, const ConvGeometry& g) {
  FM_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", a.describe(), " and ", b.describe());
  FM_CHECK(is_floating(a.dtype()), op, ": expected float32 or float64 tensors, got ", a.describe());
  FM_CHECK(g.groups >= 1 && g.C % g.groups == 0 && g.O % g.groups == 0, op, ": channels ", g.C, " and ", g.O,
           " must be divisible by groups = ", g.groups);
  // the device kernels divide by the strides (col2im) and step by the dilations
  FM_CHECK(g.sh >= 1 && g.sw >= 1 && g.dh >= 1 && g.dw >= 1 && g.kh >= 0 && g.kw >= 0, op,
           ": expected positive strides and dilations, got stride (", g.sh, ", ", g.sw, "), dilation (", g.dh, ", ",
           g.dw, ")");
}

void check_shape(const char* op, const char* what, const Tensor& t, const Shape& want) {
  FM_CHECK(t.sizes() == want, op, ": ", what, " is ", t.describe(), ", expected shape ", shape_str(want));
}

// A per-channel vector as a contiguous device tensor of x's dtype (undefined stays so).
Tensor channel_vector(const Tensor& b, const Tensor& like) {
  return b.defined() ? contiguous_raw(to_raw(b, like.dtype(), like.device())) : Tensor();
}

// y[n, c, :] = bias[c], or 0 without a bias.
template <class T>
void fill_channels(const Tensor& y, const Tensor& bias, int64_t N, int64_t C, int64_t HW, cudaStream_t s) {
  if (bias.defined()) launch_channel_fill<T>(ptr<T>(y), ptr<T>(bias), N, C, HW, s);
  else cuda::fill(y, 0.0);
}

void check_int(const char* op, int64_t v) {
  FM_CHECK(v <= std::numeric_limits<int>::max(), op, ": dimension ", v, " exceeds cuBLAS's 32-bit sizes");
}

// A row-major step on column-major cuBLAS: C^T = op(B)^T op(A)^T, so B goes first and the
// row-major leading dimensions carry over unchanged. TF32 follows the handle's math mode, which
// cuda_cublas_handle sets from cuda_matmul_allow_tf32 as for every other product.
template <class T>
void run_gemm(const char* op, cublasHandle_t h, const GemmStep& s, const T* A, const T* B, T* C) {
  if (s.m == 0 || s.n == 0 || s.batch == 0) return;
  for (int64_t v : {s.m, s.n, s.k, s.lda, s.ldb, s.ldc, s.batch}) check_int(op, v);
  const cublasOperation_t opa = s.ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = s.tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int m = static_cast<int>(s.m), n = static_cast<int>(s.n), k = static_cast<int>(s.k);
  const T alpha = 1, beta = static_cast<T>(s.beta);
  if constexpr (std::is_same_v<T, float>) {
    FM_CUBLAS_CHECK(cublasSgemmStridedBatched(h, opb, opa, n, m, k, &alpha, B + s.b_off, static_cast<int>(s.ldb),
                                              s.b_stride, A + s.a_off, static_cast<int>(s.lda), s.a_stride, &beta,
                                              C + s.c_off, static_cast<int>(s.ldc), s.c_stride,
                                              static_cast<int>(s.batch)),
                    op);
  } else {
    FM_CUBLAS_CHECK(cublasDgemmStridedBatched(h, opb, opa, n, m, k, &alpha, B + s.b_off, static_cast<int>(s.ldb),
                                              s.b_stride, A + s.a_off, static_cast<int>(s.lda), s.a_stride, &beta,
                                              C + s.c_off, static_cast<int>(s.ldc), s.c_stride,
                                              static_cast<int>(s.batch)),
                    op);
  }
}

// The column buffer of a chunk: none when the input is the column matrix itself.
Tensor column_buffer(const ConvGeom& g, int64_t nb, bool direct, const Tensor& like) {
  if (direct) return Tensor();
  return empty({std::max<int64_t>(nb * g.col_rows() * g.HW(), 1)}, {.dtype = like.dtype(), .device = like.device()});
}

}  // namespace

Tensor conv2d_forward(const Tensor& x0, const Tensor& w0, const Tensor& bias0, const ConvGeometry& gg) {
  const char* op = "conv2d";
  const int dev = same_cuda_device(op, {&x0, &w0});
  check_common(op, x0, w0, gg);
  const ConvGeom g = geom_of(gg);
  check_shape(op, "input", x0, {g.N, g.C, g.H, g.W});
  check_shape(op, "weight", w0, {g.O, g.Cg(), g.kh, g.kw});
  if (bias0.defined()) check_shape(op, "bias", bias0, {g.O});
  const Tensor x = contiguous_raw(x0), w = contiguous_raw(w0), bias = channel_vector(bias0, x);
  Tensor y = empty({g.N, g.O, g.Ho, g.Wo}, {.dtype = x.dtype(), .device = x.device()});
  if (y.numel() == 0) return y;
  CudaDeviceGuard guard(dev);
  const cudaStream_t s = cuda_current_stream(dev);
  const bool f32 = x.dtype() == DType::Float32;
  if (conv_forward_path(g, f32, variant() == Variant::V2, cuda_matmul_allow_tf32()) == ConvForwardPath::ImplicitGemm) {
    launch_conv_implicit_gemm(ptr<float>(y), ptr<float>(x), ptr<float>(w), ptr<float>(bias), g, s);
    return y;
  }
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    if (bias.defined() || g.Kg() == 0) fill_channels<T>(y, bias, g.N, g.O, g.HW(), s);
    if (g.Kg() == 0) return;
    const bool direct = conv_is_pointwise(g);
    const int64_t nb = direct ? g.N : conv_chunk_images(g, sizeof(T));
    const Tensor col = column_buffer(g, nb, direct, x);
    cublasHandle_t h = cuda_cublas_handle(dev);
    for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
      const int64_t cnt = std::min(nb, g.N - n0);
      if (!direct) launch_im2col<T>(ptr<T>(col), ptr<T>(x) + n0 * g.C * g.plane(), g, cnt, s);
      for (const GemmStep& st : conv_forward_gemms(g, n0, cnt, direct, bias.defined() ? 1 : 0))
        run_gemm<T>(op, h, st, ptr<T>(w), direct ? ptr<T>(x) : ptr<T>(col), ptr<T>(y));
    }
  });
  return y;
}

Tensor conv2d_input_grad(const Tensor& gy0, const Tensor& w0, const Tensor& bias0, const ConvGeometry& gg) {
  const char* op = "conv_transpose2d";
  const int dev = same_cuda_device(op, {&gy0, &w0});
  check_common(op, gy0, w0, gg);
  const ConvGeom g = geom_of(gg);
  check_shape(op, "input", gy0, {g.N, g.O, g.Ho, g.Wo});
  check_shape(op, "weight", w0, {g.O, g.Cg(), g.kh, g.kw});
  if (bias0.defined()) check_shape(op, "bias", bias0, {g.C});
  const Tensor gy = contiguous_raw(gy0), w = contiguous_raw(w0), bias = channel_vector(bias0, gy);
  Tensor gx = empty({g.N, g.C, g.H, g.W}, {.dtype = gy.dtype(), .device = gy.device()});
  if (gx.numel() == 0) return gx;
  CudaDeviceGuard guard(dev);
  const cudaStream_t s = cuda_current_stream(dev);
  dispatch_floating(gy.dtype(), op, [&]<class T>() {
    const bool direct = conv_is_pointwise(g);
    if (g.HW() == 0 || g.O == 0 || (direct && bias.defined())) fill_channels<T>(gx, bias, g.N, g.C, g.plane(), s);
    if (g.HW() == 0 || g.O == 0) return;
    const int64_t nb = direct ? g.N : conv_chunk_images(g, sizeof(T));
    const Tensor col = column_buffer(g, nb, direct, gy);
    cublasHandle_t h = cuda_cublas_handle(dev);
    for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
      const int64_t cnt = std::min(nb, g.N - n0);
      const double beta = direct && bias.defined() ? 1 : 0;
      for (const GemmStep& st : conv_input_grad_gemms(g, n0, cnt, direct, beta))
        run_gemm<T>(op, h, st, ptr<T>(w), ptr<T>(gy), direct ? ptr<T>(gx) : ptr<T>(col));
      if (!direct) launch_col2im<T>(ptr<T>(gx) + n0 * g.C * g.plane(), ptr<T>(col), ptr<T>(bias), g, cnt, s);
    }
  });
  return gx;
}

Tensor conv2d_weight_grad(const Tensor& x0, const Tensor& gy0, const ConvGeometry& gg) {
  const char* op = "conv2d_weight_grad";
  const int dev = same_cuda_device(op, {&x0, &gy0});
  check_common(op, x0, gy0, gg);
  const ConvGeom g = geom_of(gg);
  check_shape(op, "input", x0, {g.N, g.C, g.H, g.W});
  check_shape(op, "output gradient", gy0, {g.N, g.O, g.Ho, g.Wo});
  const Tensor x = contiguous_raw(x0), gy = contiguous_raw(gy0);
  Tensor gw = empty({g.O, g.Cg(), g.kh, g.kw}, {.dtype = x.dtype(), .device = x.device()});
  if (gw.numel() == 0) return gw;
  if (g.N == 0 || g.HW() == 0) {
    cuda::fill(gw, 0.0);
    return gw;
  }
  CudaDeviceGuard guard(dev);
  const cudaStream_t s = cuda_current_stream(dev);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    const bool direct = conv_is_pointwise(g);
    const int64_t nb = direct ? g.N : conv_chunk_images(g, sizeof(T));
    const Tensor col = column_buffer(g, nb, direct, x);
    cublasHandle_t h = cuda_cublas_handle(dev);
    for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
      const int64_t cnt = std::min(nb, g.N - n0);
      if (!direct) launch_im2col<T>(ptr<T>(col), ptr<T>(x) + n0 * g.C * g.plane(), g, cnt, s);
      for (const GemmStep& st : conv_weight_grad_gemms(g, n0, cnt, direct))
        run_gemm<T>(op, h, st, ptr<T>(gy), direct ? ptr<T>(x) : ptr<T>(col), ptr<T>(gw));
    }
  });
  return gw;
}

Tensor conv2d_bias_grad(const Tensor& gy0) {
  const char* op = "conv2d_bias_grad";
  const int dev = same_cuda_device(op, {&gy0});
  FM_CHECK(gy0.dim() == 4, op, ": expected a 4-D gradient, got ", gy0.describe());
  FM_CHECK(is_floating(gy0.dtype()), op, ": expected a float32 or float64 gradient, got ", gy0.describe());
  const int64_t N = gy0.size(0), O = gy0.size(1), HW = gy0.size(2) * gy0.size(3);
  const Tensor gy = contiguous_raw(gy0);
  Tensor gb = empty({O}, {.dtype = gy.dtype(), .device = gy.device()});
  CudaDeviceGuard guard(dev);
  dispatch_floating(gy.dtype(), op, [&]<class T>() {
    launch_conv_bias_grad<T>(ptr<T>(gb), ptr<T>(gy), N, O, HW, cuda_current_stream(dev));
  });
  return gb;
}

}  // namespace fm::kernels::cuda
#endif
