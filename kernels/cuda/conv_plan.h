#pragma once
// The host side of the CUDA convolution (kernels/cuda/conv.cpp, conv.cu), in plain C++ so that
// it is unit-tested without a GPU (tests/kernels/conv_cuda_plan_test.cpp): the geometry the
// launchers take, which path a forward pass runs, how many images share an im2col buffer, the
// strided-batched GEMMs of each pass, and the launch grids.
//
// The GEMMs are row-major (C[m, n] = op(A) op(B), each operand at an element offset from a
// base pointer that the caller names), so that the test can run them with a plain loop and the
// caller maps them onto cuBLAS's column-major calls in one place.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

// Functions the kernels call as well (ConvGeom's members, kernels/cuda/conv_tile.h).
#if defined(__CUDACC__)
#define FM_CONV_HD __host__ __device__ __forceinline__
#define FM_CONV_UNROLL _Pragma("unroll")
#else
#define FM_CONV_HD inline
#define FM_CONV_UNROLL
#endif

namespace fm::kernels::cuda {

// kernels::ConvGeometry without the tensor headers (nvcc compiles this into the kernels).
struct ConvGeom {
  int64_t N = 0, C = 0, H = 0, W = 0;
  int64_t O = 0, Ho = 0, Wo = 0;
  int64_t kh = 1, kw = 1;
  int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int64_t groups = 1;

  FM_CONV_HD int64_t Cg() const { return C / groups; }
  FM_CONV_HD int64_t Og() const { return O / groups; }
  FM_CONV_HD int64_t khw() const { return kh * kw; }
  FM_CONV_HD int64_t Kg() const { return Cg() * kh * kw; }  // the reduction length per group
  FM_CONV_HD int64_t HW() const { return Ho * Wo; }          // output positions per image
  FM_CONV_HD int64_t plane() const { return H * W; }         // input positions per image
  FM_CONV_HD int64_t col_rows() const { return C * kh * kw; }
};

// 1x1, stride 1, no padding, same size: the input already is the im2col matrix.
inline bool conv_is_pointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.Ho == g.H && g.Wo == g.W;
}

// The im2col buffer is capped so that a large batch does not need N times the memory of one
// image's columns; below the cap, images share a buffer so that G == 1 runs one batched GEMM
// per chunk instead of one per image.
constexpr int64_t kConvColumnBudgetBytes = int64_t{64} << 20;

inline int64_t conv_chunk_images(const ConvGeom& g, int64_t elem_bytes,
                                 int64_t budget_bytes = kConvColumnBudgetBytes) {
  const int64_t per_image = std::max<int64_t>(g.col_rows() * g.HW() * elem_bytes, 1);
  return std::clamp<int64_t>(budget_bytes / per_image, 1, std::max<int64_t>(g.N, 1));
}

// One strided-batched, row-major product: for b < batch,
//   C[c_off + b*c_stride] = op(A[a_off + b*a_stride]) op(B[b_off + b*b_stride]) + beta * C,
// op(A) [m, k] (ta: A is stored [k, m]), op(B) [k, n] (tb: B is stored [n, k]).
struct GemmStep {
  bool ta = false, tb = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t a_off = 0, lda = 0, a_stride = 0;
  int64_t b_off = 0, ldb = 0, b_stride = 0;
  int64_t c_off = 0, ldc = 0, c_stride = 0;
  int64_t batch = 1;
  double beta = 0;
};

// The (image, group) products of a chunk of `nb` images starting at n0, batched over images
// (one step per group: the weight repeats with stride 0) or over groups (one step per image),
// whichever gives fewer steps. `direct`: the input itself is the column matrix (pointwise), so
// column offsets are offsets into x of the whole batch, not into a chunk buffer.
//
// forward:    y[n, g] (A: w_g [Og, Kg], B: col [Kg, HW], C: y [Og, HW])
inline std::vector<GemmStep> conv_forward_gemms(const ConvGeom& g, int64_t n0, int64_t nb, bool direct,
                                                double beta) {
  const int64_t G = g.groups, Og = g.Og(), Kg = g.Kg(), HW = g.HW();
  const int64_t col_image = g.col_rows() * HW, col_base = direct ? n0 * col_image : 0;
  std::vector<GemmStep> steps;
  auto step = [&](int64_t n, int64_t k) {
    GemmStep s;
    s.m = Og, s.n = HW, s.k = Kg, s.beta = beta;
    s.a_off = k * Og * Kg, s.lda = Kg;
    s.b_off = col_base + (n - n0) * col_image + k * Kg * HW, s.ldb = HW;
    s.c_off = n * g.O * HW + k * Og * HW, s.ldc = HW;
    return s;
  };
  if (G <= nb) {
    for (int64_t k = 0; k < G; ++k) {
      GemmStep s = step(n0, k);
      s.batch = nb, s.a_stride = 0, s.b_stride = col_image, s.c_stride = g.O * HW;
      steps.push_back(s);
    }
  } else {
    for (int64_t n = n0; n < n0 + nb; ++n) {
      GemmStep s = step(n, 0);
      s.batch = G, s.a_stride = Og * Kg, s.b_stride = Kg * HW, s.c_stride = Og * HW;
      steps.push_back(s);
    }
  }
  return steps;
}

// input gradient: col[n, g] = w_g^T gy[n, g] (A: w_g stored [Og, Kg], B: gy [Og, HW],
// C: col [Kg, HW]); with `direct` C is gx itself.
inline std::vector<GemmStep> conv_input_grad_gemms(const ConvGeom& g, int64_t n0, int64_t nb, bool direct,
                                                   double beta) {
  const int64_t G = g.groups, Og = g.Og(), Kg = g.Kg(), HW = g.HW();
  const int64_t col_image = g.col_rows() * HW, col_base = direct ? n0 * col_image : 0;
  std::vector<GemmStep> steps;
  auto step = [&](int64_t n, int64_t k) {
    GemmStep s;
    s.ta = true, s.m = Kg, s.n = HW, s.k = Og, s.beta = beta;
    s.a_off = k * Og * Kg, s.lda = Kg;
    s.b_off = n * g.O * HW + k * Og * HW, s.ldb = HW;
    s.c_off = col_base + (n - n0) * col_image + k * Kg * HW, s.ldc = HW;
    return s;
  };
  if (G <= nb) {
    for (int64_t k = 0; k < G; ++k) {
      GemmStep s = step(n0, k);
      s.batch = nb, s.a_stride = 0, s.b_stride = g.O * HW, s.c_stride = col_image;
      steps.push_back(s);
    }
  } else {
    for (int64_t n = n0; n < n0 + nb; ++n) {
      GemmStep s = step(n, 0);
      s.batch = G, s.a_stride = Og * Kg, s.b_stride = Og * HW, s.c_stride = Kg * HW;
      steps.push_back(s);
    }
  }
  return steps;
}

// weight gradient: gw_g += gy[n, g] col[n, g]^T (A: gy [Og, HW], B: col stored [Kg, HW],
// C: gw_g [Og, Kg]). Every image adds into the same gw_g, so images cannot be a batch (the
// batch members would race on C): one step per image, batched over groups, the first image of
// the whole pass with beta 0 and every later one accumulating in the GEMM (beta 1).
inline std::vector<GemmStep> conv_weight_grad_gemms(const ConvGeom& g, int64_t n0, int64_t nb, bool direct) {
  const int64_t G = g.groups, Og = g.Og(), Kg = g.Kg(), HW = g.HW();
  const int64_t col_image = g.col_rows() * HW, col_base = direct ? n0 * col_image : 0;
  std::vector<GemmStep> steps;
  for (int64_t n = n0; n < n0 + nb; ++n) {
    GemmStep s;
    s.tb = true, s.m = Og, s.n = Kg, s.k = HW, s.beta = n == 0 ? 0 : 1;
    s.a_off = n * g.O * HW, s.lda = HW, s.a_stride = Og * HW;
    s.b_off = col_base + (n - n0) * col_image, s.ldb = HW, s.b_stride = Kg * HW;
    s.c_off = 0, s.ldc = Kg, s.c_stride = Og * Kg;
    s.batch = G;
    steps.push_back(s);
  }
  return steps;
}

// A grid for the kernels that loop over (plane z, row y, column x) with x in blocks of
// `threads`: grid-stride in every dimension, so the caps only bound the grid, not the sizes.
struct ConvGrid {
  int64_t x = 1, y = 1, z = 1;
};
inline ConvGrid conv_grid(int64_t cols, int64_t rows, int64_t planes, int64_t threads) {
  auto clip = [](int64_t v, int64_t cap) { return std::clamp<int64_t>(v, 1, cap); };
  return {clip((cols + threads - 1) / threads, int64_t{1} << 20), clip(rows, 65535), clip(planes, 65535)};
}

// The v2 forward: an implicit GEMM (kernels/cuda/conv_tile.h) tiles [Og x HW] of each image and
// group into 64 x 64 blocks. It is float32-only and exact FP32; it runs when
//  - the offsets inside one image and group fit in 32 bits (the kernel indexes with int),
//  - a 64-row tile is at least a quarter full (Og >= 16: depthwise and other thin groups would
//    waste most of each tile, and cuBLAS handles their small products better),
//  - the input is not already the column matrix (1x1: plain cuBLAS GEMM, no gather to save),
//  - TF32 is not allowed: then cuBLAS on tensor cores beats FP32 FMA.
namespace igemm_shape {
constexpr int64_t kBM = 64, kBN = 64;
}
struct IgemmGrid {
  int64_t tiles_p = 0, tiles_m = 0, blocks_x = 0;  // blockIdx.x = (image*G + group)*tiles_p + tile
};
inline IgemmGrid igemm_grid(const ConvGeom& g) {
  IgemmGrid r;
  r.tiles_p = (g.HW() + igemm_shape::kBN - 1) / igemm_shape::kBN;
  r.tiles_m = (g.Og() + igemm_shape::kBM - 1) / igemm_shape::kBM;
  r.blocks_x = g.N * g.groups * r.tiles_p;
  return r;
}

inline bool igemm_fits(const ConvGeom& g) {
  constexpr int64_t lim = std::numeric_limits<int32_t>::max();
  const IgemmGrid grid = igemm_grid(g);
  const int64_t dims[] = {g.C, g.H, g.W, g.O, g.Ho, g.Wo, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw};
  for (int64_t d : dims)
    if (d > lim / 4) return false;
  // the reach of a position (ih = oh*sh - ph + ki*dh) must not overflow either
  if (g.Ho * g.sh + g.kh * g.dh + g.ph > lim || g.Wo * g.sw + g.kw * g.dw + g.pw > lim) return false;
  // (Cg + 16): the last k step runs its channel counter up to 16 rows past the end
  return (g.Cg() + 16) * g.plane() < lim && g.Og() * g.Kg() < lim && g.Og() * g.HW() < lim && g.HW() + igemm_shape::kBN < lim &&
         grid.blocks_x < lim && grid.tiles_m <= 65535;
}

enum class ConvForwardPath { Gemm, ImplicitGemm };

inline ConvForwardPath conv_forward_path(const ConvGeom& g, bool float32, bool v2, bool tf32) {
  if (!float32 || !v2 || tf32 || conv_is_pointwise(g) || g.Og() < 16 || g.Kg() == 0 || !igemm_fits(g))
    return ConvForwardPath::Gemm;
  return ConvForwardPath::ImplicitGemm;
}

}  // namespace fm::kernels::cuda
