#pragma once
// The per-thread work of the CUDA convolution kernels (kernels/cuda/conv.cu), written as
// __host__ __device__ functions so that tests/kernels/conv_cuda_plan_test.cpp runs exactly this
// code on the CPU: the test emulates each kernel thread by thread, phase by phase between its
// barriers, and compares with a direct convolution. The kernels add only the shared-memory
// declarations, the barriers and the launch.
//
// im2col_at / col2im_at: one column element / one input element of v1.
// igemm: the v2 forward tile. A block of kThreads = 64 threads computes a 64 (output channels
// of one group) x 64 (output positions of one image) tile of y, walking the reduction
// k = (c, ki, kj) in steps of kBK = 16. Per step each thread loads 16 weights and 16 gathered
// input values (zeros outside the input) into registers, then stores them to shared memory as
// As[k][m] and Bs[k][p]; with two buffers the loads of step t+1 are in flight while step t
// computes, and one barrier per step suffices. Each thread accumulates 8 x 8 outputs in
// registers: rows tm*4 + {0..3} and 32 + tm*4 + {0..3}, columns likewise with tn, so that the
// 16-byte shared loads of a quarter warp hit 32 distinct banks.
#include <cstdint>

#include "kernels/cuda/conv_plan.h"

namespace fm::kernels::cuda {

// col[b, r, j] of a chunk's buffer [images, C*kh*kw, Ho*Wo], r = (c, ki, kj) and j = (oh, ow);
// x points at the chunk's first image.
template <class T>
FM_CONV_HD T im2col_at(const ConvGeom& g, const T* x, int64_t b, int64_t r, int64_t j) {
  const int64_t khw = g.kh * g.kw, c = r / khw, kk = r - c * khw, ki = kk / g.kw, kj = kk - ki * g.kw;
  const int64_t oh = j / g.Wo, ow = j - oh * g.Wo;
  const int64_t ih = oh * g.sh - g.ph + ki * g.dh, iw = ow * g.sw - g.pw + kj * g.dw;
  if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return T(0);
  return x[((b * g.C + c) * g.H + ih) * g.W + iw];
}

// x[b, c, pix] = bias[c] (or 0) + the column entries that read it, in the order of the CPU's
// col2im (ki, then kj): a gather, so no two threads write one element and no atomics are needed.
template <class T>
FM_CONV_HD T col2im_at(const ConvGeom& g, const T* col, const T* bias, int64_t b, int64_t c, int64_t pix) {
  const int64_t ih = pix / g.W, iw = pix - ih * g.W, HW = g.Ho * g.Wo;
  const T* cb = col + (b * g.C + c) * g.kh * g.kw * HW;
  T acc = bias ? bias[c] : T(0);
  for (int64_t ki = 0; ki < g.kh; ++ki) {
    const int64_t t = ih + g.ph - ki * g.dh;  // = oh * sh
    if (t < 0 || t % g.sh != 0) continue;
    const int64_t oh = t / g.sh;
    if (oh >= g.Ho) continue;
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      const int64_t u = iw + g.pw - kj * g.dw;  // = ow * sw
      if (u < 0 || u % g.sw != 0) continue;
      const int64_t ow = u / g.sw;
      if (ow >= g.Wo) continue;
      acc += cb[(ki * g.kw + kj) * HW + oh * g.Wo + ow];
    }
  }
  return acc;
}

namespace igemm {

constexpr int kBM = static_cast<int>(igemm_shape::kBM), kBN = static_cast<int>(igemm_shape::kBN);
constexpr int kBK = 16, kThreads = 64;
constexpr int kAStride = kBM + 4;  // As rows padded: the transposing stores hit 2-way conflicts, not 16
constexpr int kASize = kBK * kAStride, kBSize = kBK * kBN;
constexpr int kLoads = kBM * kBK / kThreads;  // per thread and step, for A and for B alike
static_assert(kLoads == 16 && kBN == kThreads && kBM == 64 && kBK == 16, "the thread mappings assume these");

// One launch: every size the tile needs, as int (igemm_fits checked that they fit).
struct Args {
  const float* x = nullptr;
  const float* w = nullptr;
  const float* bias = nullptr;  // null: none
  float* y = nullptr;
  int C = 0, H = 0, W = 0, O = 0, Ho = 0, Wo = 0, kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int G = 1, Cg = 0, Og = 0, Kg = 0, khw = 1, HW = 0, tiles_p = 0;
  bool vec4 = false;  // HW % 4 == 0: a thread's 4 adjacent outputs are all in range or all out
};

inline Args make_args(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y) {
  Args a;
  a.x = x, a.w = w, a.bias = bias, a.y = y;
  auto i = [](int64_t v) { return static_cast<int>(v); };
  a.C = i(g.C), a.H = i(g.H), a.W = i(g.W), a.O = i(g.O), a.Ho = i(g.Ho), a.Wo = i(g.Wo);
  a.kh = i(g.kh), a.kw = i(g.kw), a.sh = i(g.sh), a.sw = i(g.sw), a.ph = i(g.ph), a.pw = i(g.pw);
  a.dh = i(g.dh), a.dw = i(g.dw), a.G = i(g.groups), a.Cg = i(g.Cg()), a.Og = i(g.Og()), a.Kg = i(g.Kg());
  a.khw = i(g.khw()), a.HW = i(g.HW()), a.tiles_p = i(igemm_grid(g).tiles_p);
  a.vec4 = g.HW() % 4 == 0;
  return a;
}

FM_CONV_HD int k_tiles(const Args& a) { return (a.Kg + kBK - 1) / kBK; }

// A block's image and group (as pointers) and the corner of its tile.
struct Block {
  const float* x;
  const float* w;
  const float* bias;
  float* y;
  int m0, p0;
};

FM_CONV_HD Block block_of(const Args& a, int bx, int by) {
  const int tile = bx % a.tiles_p, ng = bx / a.tiles_p, n = ng / a.G, g = ng - n * a.G;
  Block b;
  b.x = a.x + (int64_t{n} * a.C + int64_t{g} * a.Cg) * a.H * a.W;
  b.w = a.w + int64_t{g} * a.Og * a.Kg;
  b.bias = a.bias ? a.bias + g * a.Og : nullptr;
  b.y = a.y + (int64_t{n} * a.O + int64_t{g} * a.Og) * a.HW;
  b.m0 = by * kBM;
  b.p0 = tile * kBN;
  return b;
}

// The B column a thread gathers (its output position p0 + tid): where its receptive field starts.
struct Column {
  int ih0, iw0;
  bool valid;
};

FM_CONV_HD Column column_of(const Args& a, const Block& b, int tid) {
  const int pos = b.p0 + tid;
  if (pos >= a.HW) return {0, 0, false};
  const int oh = pos / a.Wo, ow = pos - oh * a.Wo;
  return {oh * a.sh - a.ph, ow * a.sw - a.pw, true};
}

// Weights w_g[m0 + m, k0 + k]: a warp's 32 threads read 2 rows x 16 consecutive k per load.
FM_CONV_HD void load_a(const Args& a, const Block& b, int tid, int k0, float (&r)[kLoads]) {
  const int k = k0 + (tid & 15), m = b.m0 + (tid >> 4);
  const bool k_ok = k < a.Kg;
  FM_CONV_UNROLL
  for (int i = 0; i < kLoads; ++i) {
    const int mi = m + 4 * i;
    r[i] = k_ok && mi < a.Og ? b.w[mi * a.Kg + k] : 0.f;
  }
}

FM_CONV_HD void store_a(int tid, const float (&r)[kLoads], float* As) {
  const int k = tid & 15, m = tid >> 4;
  FM_CONV_UNROLL
  for (int i = 0; i < kLoads; ++i) As[k * kAStride + m + 4 * i] = r[i];
}

// The input under rows k0 .. k0+15 of the thread's column. (c, ki, kj) of k advance together in
// every thread (same k), so the wrap-around branches do not diverge.
FM_CONV_HD void load_b(const Args& a, const Block& b, const Column& col, int k0, float (&r)[kLoads]) {
  int c = k0 / a.khw;
  const int rem = k0 - c * a.khw;
  int ki = rem / a.kw, kj = rem - ki * a.kw;
  int ih = col.ih0 + ki * a.dh, iw = col.iw0 + kj * a.dw;
  int base = c * a.H * a.W;
  FM_CONV_UNROLL
  for (int i = 0; i < kLoads; ++i) {
    const bool ok = col.valid && k0 + i < a.Kg && static_cast<unsigned>(ih) < static_cast<unsigned>(a.H) &&
                    static_cast<unsigned>(iw) < static_cast<unsigned>(a.W);
    r[i] = ok ? b.x[base + ih * a.W + iw] : 0.f;
    if (++kj == a.kw) {
      kj = 0, iw = col.iw0;
      if (++ki == a.kh) {
        ki = 0, ih = col.ih0, base += a.H * a.W;
      } else {
        ih += a.dh;
      }
    } else {
      iw += a.dw;
    }
  }
}

FM_CONV_HD void store_b(int tid, const float (&r)[kLoads], float* Bs) {
  FM_CONV_UNROLL
  for (int i = 0; i < kLoads; ++i) Bs[i * kBN + tid] = r[i];
}

FM_CONV_HD void load4(const float* p, float* out) {
#ifdef __CUDA_ARCH__
  const float4 v = *reinterpret_cast<const float4*>(p);
  out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
#else
  for (int i = 0; i < 4; ++i) out[i] = p[i];
#endif
}

FM_CONV_HD void store4(float* p, const float* v) {
#ifdef __CUDA_ARCH__
  *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
#else
  for (int i = 0; i < 4; ++i) p[i] = v[i];
#endif
}

// The thread's row (i < 8) or column (j < 8) within the tile.
FM_CONV_HD int lane_offset(int t, int i) { return (i < 4 ? 0 : 32 - 4) + t * 4 + i; }

FM_CONV_HD void compute(int tid, const float* As, const float* Bs, float (&acc)[64]) {
  const int tm = tid >> 3, tn = tid & 7;
  FM_CONV_UNROLL
  for (int k = 0; k < kBK; ++k) {
    float av[8], bv[8];
    load4(As + k * kAStride + tm * 4, av);
    load4(As + k * kAStride + 32 + tm * 4, av + 4);
    load4(Bs + k * kBN + tn * 4, bv);
    load4(Bs + k * kBN + 32 + tn * 4, bv + 4);
    FM_CONV_UNROLL
    for (int i = 0; i < 8; ++i) {
      FM_CONV_UNROLL
      for (int j = 0; j < 8; ++j) acc[i * 8 + j] += av[i] * bv[j];
    }
  }
}

// y = acc + bias, within the tile's bounds: 16-byte stores when HW % 4 == 0 (y starts each row
// of HW at a multiple of 4 floats then, and p is one too).
FM_CONV_HD void store_c(const Args& a, const Block& b, int tid, const float (&acc)[64]) {
  const int tm = tid >> 3, tn = tid & 7;
  FM_CONV_UNROLL
  for (int i = 0; i < 8; ++i) {
    const int m = b.m0 + lane_offset(tm, i);
    if (m >= a.Og) continue;
    const float bias = b.bias ? b.bias[m] : 0.f;
    float* row = b.y + m * a.HW;
    FM_CONV_UNROLL
    for (int h = 0; h < 2; ++h) {
      const int p = b.p0 + h * 32 + tn * 4;
      float v[4];
      for (int j = 0; j < 4; ++j) v[j] = acc[i * 8 + h * 4 + j] + bias;
      if (a.vec4) {
        if (p < a.HW) store4(row + p, v);
      } else {
        for (int j = 0; j < 4; ++j)
          if (p + j < a.HW) row[p + j] = v[j];
      }
    }
  }
}

}  // namespace igemm

}  // namespace fm::kernels::cuda
