// Convolution by im2col + GEMM. Per image: the receptive fields are unfolded into a
// [C*kh*kw, Ho*Wo] buffer (each row a run of contiguous copies, the out-of-range columns found
// once per kernel column, not per element), then one GEMM per group through OpenBLAS, which
// brings the threads. The gradient with respect to the input is the transposed GEMM followed by
// col2im, written as a gather (each input row sums the buffer rows that read it), and the
// gradient of the weight is a GEMM accumulated over the batch. 1x1 kernels with stride 1 and
// no padding skip the buffer.
//
// The unfold/fold loops run on the calling thread on purpose: they are memory-bound copies
// (a few % of the GEMM time at the blog's shapes), and an OpenMP region between two OpenBLAS
// calls competes with OpenBLAS's worker, which keeps spinning after each GEMM: on 2 cores that
// made the whole step 1.5-10x slower (the more so the busier the machine) than running the
// copies serially.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "kernels/linalg.h"

namespace fm::kernels {

namespace {

// o in [lo, hi) <=> 0 <= o*s + off < in, clipped to [0, out).
void valid_range(int64_t off, int64_t s, int64_t in, int64_t out, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + s - 1) / s;
  hi = in - off <= 0 ? 0 : (in - off - 1) / s + 1;
  hi = std::min(hi, out);
  lo = std::min(lo, hi);
}

struct ColRanges {
  std::vector<int64_t> lo, hi;  // per kernel column kj: the output columns that read inside the input
};

ColRanges col_ranges(const ConvGeometry& g) {
  ColRanges r;
  r.lo.resize(g.kw);
  r.hi.resize(g.kw);
  for (int64_t j = 0; j < g.kw; ++j) valid_range(j * g.dw - g.pw, g.sw, g.W, g.Wo, r.lo[j], r.hi[j]);
  return r;
}

bool is_pointwise(const ConvGeometry& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.Ho == g.H &&
         g.Wo == g.W;
}

// x [C, H, W] -> col [C*kh*kw, Ho*Wo]
template <class T>
void im2col(const T* x, T* col, const ConvGeometry& g, int64_t C, const ColRanges& cr) {
  const int64_t khw = g.kh * g.kw, K = C * khw, HW = g.Ho * g.Wo;
  const int64_t Ho = g.Ho, Wo = g.Wo, H = g.H, W = g.W;
  for (int64_t r = 0; r < K; ++r) {
    for (int64_t oh = 0; oh < Ho; ++oh) {
      const int64_t c = r / khw, kk = r - c * khw, ki = kk / g.kw, kj = kk - ki * g.kw;
      T* dst = col + r * HW + oh * Wo;
      const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
      if (ih < 0 || ih >= H) {
        std::fill(dst, dst + Wo, T(0));
        continue;
      }
      const T* src = x + (c * H + ih) * W + (kj * g.dw - g.pw);  // src[ow * sw] for ow in range
      const int64_t lo = cr.lo[kj], hi = cr.hi[kj];
      std::fill(dst, dst + lo, T(0));
      if (g.sw == 1) {
        if (hi > lo) std::memcpy(dst + lo, src + lo, (hi - lo) * sizeof(T));
      } else {
        const int64_t sw = g.sw;
        for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * sw];
      }
      std::fill(dst + hi, dst + Wo, T(0));
    }
  }
}

// col [C*kh*kw, Ho*Wo] -> x [C, H, W] = bias[c] (or 0) + the sum of the buffer entries that read
// each input element. Parallel over input rows (c, ih): each row gathers its own contributions.
template <class T>
void col2im(const T* col, T* x, const T* bias, const ConvGeometry& g, int64_t C, const ColRanges& cr) {
  const int64_t HW = g.Ho * g.Wo;
  const int64_t H = g.H, W = g.W, Wo = g.Wo;
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t ih = 0; ih < H; ++ih) {
      T* row = x + (c * H + ih) * W;
      std::fill(row, row + W, bias ? bias[c] : T(0));
      for (int64_t ki = 0; ki < g.kh; ++ki) {
        const int64_t t = ih + g.ph - ki * g.dh;  // = oh * sh
        if (t < 0 || t % g.sh != 0) continue;
        const int64_t oh = t / g.sh;
        if (oh >= g.Ho) continue;
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          const int64_t r = (c * g.kh + ki) * g.kw + kj;
          const T* src = col + r * HW + oh * Wo;
          T* dst = row + (kj * g.dw - g.pw);  // dst[ow * sw]
          const int64_t lo = cr.lo[kj], hi = cr.hi[kj];
          if (g.sw == 1) {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] += src[ow];
          } else {
            const int64_t sw = g.sw;
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow * sw] += src[ow];
          }
        }
      }
    }
  }
}

// A [rows, cols] row-major matrix inside t, `offset` elements after t's start.
Tensor mat(const Tensor& t, int64_t offset, int64_t rows, int64_t cols) {
  return make_view(t, {rows, cols}, {cols, 1}, t.storage_offset() + offset);
}
// The transpose of the [rows, cols] row-major matrix at `offset`: a [cols, rows] view.
Tensor mat_t(const Tensor& t, int64_t offset, int64_t rows, int64_t cols) {
  return make_view(t, {cols, rows}, {1, cols}, t.storage_offset() + offset);
}

void check_common(const char* op, const Tensor& a, const Tensor& b, const ConvGeometry& g) {
  require_cpu(op, {&a, &b});
  FM_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", a.describe(), " and ", b.describe());
  FM_CHECK(is_floating(a.dtype()), op, ": expected float32 or float64 tensors, got ", a.describe());
  FM_CHECK(g.groups >= 1 && g.C % g.groups == 0 && g.O % g.groups == 0, op, ": channels ", g.C, " and ",
           g.O, " must be divisible by groups = ", g.groups);
}

void check_shape(const char* op, const char* what, const Tensor& t, const Shape& want) {
  FM_CHECK(t.sizes() == want, op, ": ", what, " is ", t.describe(), ", expected shape ", shape_str(want));
}

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeometry& g) {
  const char* op = "conv2d";
  FM_CUDA_DISPATCH(cuda::any_cuda({&x, &w, &bias}), cuda::conv2d_forward(x, w, bias, g));
  check_common(op, x, w, g);
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, Kg = Cg * g.kh * g.kw, HW = g.Ho * g.Wo;
  check_shape(op, "input", x, {g.N, g.C, g.H, g.W});
  check_shape(op, "weight", w, {g.O, Cg, g.kh, g.kw});
  if (bias.defined()) check_shape(op, "bias", bias, {g.O});
  const Tensor xc = contiguous_raw(x), wc = contiguous_raw(w);
  const Tensor bc = bias.defined() ? contiguous_raw(to_raw(bias, x.dtype(), x.device())) : Tensor();
  Tensor y = empty({g.N, g.O, g.Ho, g.Wo}, {.dtype = x.dtype()});
  if (y.numel() == 0) return y;
  const bool direct = is_pointwise(g);
  const Tensor col = direct ? Tensor() : empty({G * Kg, HW}, {.dtype = x.dtype()});
  const ColRanges cr = col_ranges(g);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    const T* xp = static_cast<const T*>(xc.raw_data());
    T* yp = static_cast<T*>(y.raw_data());
    const T* bp = bc.defined() ? static_cast<const T*>(bc.raw_data()) : nullptr;
    for (int64_t n = 0; n < g.N; ++n) {
      const int64_t xoff = n * g.C * g.H * g.W, yoff = n * g.O * HW;
      if (!direct) im2col<T>(xp + xoff, static_cast<T*>(col.raw_data()), g, g.C, cr);
      if (bp)
        for (int64_t o = 0; o < g.O; ++o) std::fill(yp + yoff + o * HW, yp + yoff + (o + 1) * HW, bp[o]);
      for (int64_t k = 0; k < G; ++k) {
        const Tensor b = direct ? mat(xc, xoff + k * Kg * HW, Kg, HW) : mat(col, k * Kg * HW, Kg, HW);
        mm_into(mat(y, yoff + k * Og * HW, Og, HW), mat(wc, k * Og * Kg, Og, Kg), b, 1, bp ? 1 : 0);
      }
    }
  });
  return y;
}

Tensor conv2d_input_grad(const Tensor& gy, const Tensor& w, const Tensor& bias, const ConvGeometry& g) {
  const char* op = "conv_transpose2d";
  FM_CUDA_DISPATCH(cuda::any_cuda({&gy, &w, &bias}), cuda::conv2d_input_grad(gy, w, bias, g));
  check_common(op, gy, w, g);
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, Kg = Cg * g.kh * g.kw, HW = g.Ho * g.Wo;
  check_shape(op, "input", gy, {g.N, g.O, g.Ho, g.Wo});
  check_shape(op, "weight", w, {g.O, Cg, g.kh, g.kw});
  if (bias.defined()) check_shape(op, "bias", bias, {g.C});
  const Tensor gc = contiguous_raw(gy), wc = contiguous_raw(w);
  const Tensor bc = bias.defined() ? contiguous_raw(to_raw(bias, gy.dtype(), gy.device())) : Tensor();
  Tensor gx = empty({g.N, g.C, g.H, g.W}, {.dtype = gy.dtype()});
  if (gx.numel() == 0) return gx;
  if (HW == 0) {
    if (!bc.defined()) fill(gx, 0.0);
    if (bc.defined()) copy_into(gx, make_view(bc, {g.N, g.C, g.H, g.W}, {0, 1, 0, 0}, bc.storage_offset()));
    return gx;
  }
  const bool direct = is_pointwise(g);
  const Tensor col = direct ? Tensor() : empty({G * Kg, HW}, {.dtype = gy.dtype()});
  const ColRanges cr = col_ranges(g);
  const int64_t CHW = g.C * g.H * g.W;
  dispatch_floating(gy.dtype(), op, [&]<class T>() {
    T* xp = static_cast<T*>(gx.raw_data());
    const T* bp = bc.defined() ? static_cast<const T*>(bc.raw_data()) : nullptr;
    for (int64_t n = 0; n < g.N; ++n) {
      const int64_t goff = n * g.O * HW;
      for (int64_t k = 0; k < G; ++k) {
        const Tensor out = direct ? mat(gx, n * CHW + k * Kg * HW, Kg, HW) : mat(col, k * Kg * HW, Kg, HW);
        mm_into(out, mat_t(wc, k * Og * Kg, Og, Kg), mat(gc, goff + k * Og * HW, Og, HW));
      }
      if (!direct) {
        col2im<T>(static_cast<const T*>(col.raw_data()), xp + n * CHW, bp, g, g.C, cr);
      } else if (bp) {
        for (int64_t c = 0; c < g.C; ++c) {
          T* row = xp + n * CHW + c * HW;
          for (int64_t i = 0; i < HW; ++i) row[i] += bp[c];
        }
      }
    }
  });
  return gx;
}

Tensor conv2d_weight_grad(const Tensor& x, const Tensor& gy, const ConvGeometry& g) {
  const char* op = "conv2d_weight_grad";
  FM_CUDA_DISPATCH(cuda::any_cuda({&x, &gy}), cuda::conv2d_weight_grad(x, gy, g));
  check_common(op, x, gy, g);
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, Kg = Cg * g.kh * g.kw, HW = g.Ho * g.Wo;
  check_shape(op, "input", x, {g.N, g.C, g.H, g.W});
  check_shape(op, "output gradient", gy, {g.N, g.O, g.Ho, g.Wo});
  const Tensor xc = contiguous_raw(x), gc = contiguous_raw(gy);
  Tensor gw = empty({g.O, Cg, g.kh, g.kw}, {.dtype = x.dtype()});
  if (gw.numel() == 0) return gw;
  if (g.N == 0 || HW == 0) {
    fill(gw, 0.0);
    return gw;
  }
  const bool direct = is_pointwise(g);
  const Tensor col = direct ? Tensor() : empty({G * Kg, HW}, {.dtype = x.dtype()});
  const ColRanges cr = col_ranges(g);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    const T* xp = static_cast<const T*>(xc.raw_data());
    for (int64_t n = 0; n < g.N; ++n) {
      const int64_t xoff = n * g.C * g.H * g.W, goff = n * g.O * HW;
      if (!direct) im2col<T>(xp + xoff, static_cast<T*>(col.raw_data()), g, g.C, cr);
      for (int64_t k = 0; k < G; ++k) {
        const Tensor bt = direct ? mat_t(xc, xoff + k * Kg * HW, Kg, HW) : mat_t(col, k * Kg * HW, Kg, HW);
        mm_into(mat(gw, k * Og * Kg, Og, Kg), mat(gc, goff + k * Og * HW, Og, HW), bt, 1, n == 0 ? 0 : 1);
      }
    }
  });
  return gw;
}

Tensor conv2d_bias_grad(const Tensor& gy) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&gy}), cuda::conv2d_bias_grad(gy));
  require_cpu("conv2d_bias_grad", {&gy});
  FM_CHECK(gy.dim() == 4, "conv2d_bias_grad: expected a 4-D gradient, got ", gy.describe());
  const int64_t N = gy.size(0), O = gy.size(1), HW = gy.size(2) * gy.size(3);
  const Tensor gc = contiguous_raw(gy);
  Tensor gb = empty({O}, {.dtype = gy.dtype()});
  dispatch_floating(gy.dtype(), "conv2d_bias_grad", [&]<class T>() {
    const T* p = static_cast<const T*>(gc.raw_data());
    T* out = gb.data_ptr<T>();
    for (int64_t o = 0; o < O; ++o) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* row = p + (n * O + o) * HW;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < HW; ++i) s += static_cast<double>(row[i]);
        acc += s;
      }
      out[o] = static_cast<T>(acc);
    }
  });
  return gb;
}

}  // namespace fm::kernels
