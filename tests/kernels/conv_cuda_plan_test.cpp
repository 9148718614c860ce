// The host side of the CUDA convolution on the CPU (kernels/cuda/conv_plan.h, conv_tile.h):
// - v1's passes as conv.cpp runs them (im2col_at/col2im_at per element, then the planned
//   strided-batched GEMMs run by a bounds-checked loop) equal a direct convolution, with column
//   buffers split into chunks of images;
// - v2's implicit-GEMM tile, emulated thread by thread and barrier interval by barrier interval
//   with the kernel's own per-thread functions, equals it too (shared memory and outputs start
//   as NaN, so a value read before it was written, or an output never written, shows);
// - the path choice, chunk sizes and grids.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cuda/conv_plan.h"
#include "kernels/cuda/conv_tile.h"

using namespace fm::kernels::cuda;

namespace {

std::string name(const ConvGeom& g) {
  std::ostringstream os;
  os << "N" << g.N << " C" << g.C << " " << g.H << "x" << g.W << " -> O" << g.O << " " << g.Ho << "x" << g.Wo << " k"
     << g.kh << "x" << g.kw << " s" << g.sh << "," << g.sw << " p" << g.ph << "," << g.pw << " d" << g.dh << ","
     << g.dw << " g" << g.groups;
  return os.str();
}

ConvGeom geom(int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t kh, int64_t kw, int64_t sh = 1,
              int64_t sw = 1, int64_t ph = 0, int64_t pw = 0, int64_t dh = 1, int64_t dw = 1, int64_t groups = 1,
              int64_t Ho = -1, int64_t Wo = -1) {
  ConvGeom g;
  g.N = N, g.C = C, g.H = H, g.W = W, g.O = O, g.kh = kh, g.kw = kw, g.sh = sh, g.sw = sw, g.ph = ph, g.pw = pw;
  g.dh = dh, g.dw = dw, g.groups = groups;
  g.Ho = Ho >= 0 ? Ho : (H + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
  g.Wo = Wo >= 0 ? Wo : (W + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  return g;
}

// Small twins of the music shapes and the odd ones: tile edges (Og 65 and 33, HW 65), groups,
// depthwise, conv1d, asymmetric and negative trailing padding, stride, dilation.
std::vector<ConvGeom> cases() {
  return {
      geom(2, 1, 20, 22, 20, 3, 3, 1, 1, 1, 1),                       // MusicCNN's first 3x3
      geom(3, 5, 24, 9, 33, 12, 1, 1, 1, 5, 0, 1, 1, 1, 24, 9),       // 12x1 "same": 5 above, 6 below
      geom(2, 6, 7, 13, 17, 1, 7, 1, 1, 0, 3),                        // 1x7 pad 3
      geom(2, 1, 12, 14, 32, 3, 3),                                   // HarmonicCNN's 3x3, no pad
      geom(3, 19, 5, 7, 18, 1, 1),                                    // pointwise
      geom(3, 8, 5, 7, 12, 1, 1, 1, 1, 0, 0, 1, 1, 2),                // pointwise, groups 2: batched over images
      geom(1, 8, 5, 7, 12, 1, 1, 1, 1, 0, 0, 1, 1, 4),                // pointwise, groups 4: batched over groups
      geom(2, 3, 17, 23, 65, 5, 3, 2, 2, 2, 1),                       // 5x3, stride 2
      geom(2, 4, 15, 16, 33, 3, 3, 1, 1, 2, 2, 2, 2),                 // dilation 2
      geom(2, 3, 9, 11, 20, 4, 2, 1, 1, 1, 0, 1, 1, 1, 9, 11),        // even kernel "same": asymmetric
      geom(2, 6, 13, 13, 34, 3, 3, 1, 1, 1, 1, 1, 1, 2),              // groups 2, Og 17
      geom(3, 8, 8, 8, 40, 3, 3, 1, 1, 1, 1, 1, 1, 2),                // groups 2, Og 20, HW 64
      geom(2, 5, 9, 10, 5, 3, 3, 2, 2, 1, 1, 1, 1, 5),                // depthwise
      geom(2, 7, 1, 101, 65, 1, 9, 1, 3, 0, 4, 1, 2),                 // conv1d
      geom(2, 4, 12, 12, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 5, 5),        // trailing rows never read
      geom(2, 4, 9, 9, 16, 1, 1, 2, 2),                               // 1x1 with stride: not pointwise
      geom(2, 9, 5, 13, 65, 3, 3, 1, 1, 1, 1),                        // Og 65, HW 65, Kg 81
      geom(1, 16, 6, 6, 64, 1, 1, 1, 1, 0, 0, 1, 1, 1, 6, 6),         // pointwise, Kg = one k step
      geom(2, 32, 4, 5, 96, 3, 3, 1, 1, 1, 1, 1, 1, 4),               // groups 4, Og 24, Kg 72
  };
}

std::vector<double> random_vec(int64_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = u(rng);
  return v;
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// The receptive-field read of output (oh, ow) at kernel tap (ki, kj), or false outside the input.
bool reads(const ConvGeom& g, int64_t oh, int64_t ow, int64_t ki, int64_t kj, int64_t& ih, int64_t& iw) {
  ih = oh * g.sh - g.ph + ki * g.dh;
  iw = ow * g.sw - g.pw + kj * g.dw;
  return ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
}

// Direct convolutions (kernels/conv.h's definitions), in double.
std::vector<double> direct_forward(const ConvGeom& g, const std::vector<double>& x, const std::vector<double>& w,
                                   const std::vector<double>* bias) {
  std::vector<double> y(static_cast<size_t>(g.N * g.O * g.HW()));
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t oh = 0; oh < g.Ho; ++oh)
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          double acc = bias ? (*bias)[o] : 0;
          const int64_t grp = o / g.Og();
          for (int64_t c = 0; c < g.Cg(); ++c)
            for (int64_t ki = 0; ki < g.kh; ++ki)
              for (int64_t kj = 0; kj < g.kw; ++kj) {
                int64_t ih, iw;
                if (!reads(g, oh, ow, ki, kj, ih, iw)) continue;
                acc += x[((n * g.C + grp * g.Cg() + c) * g.H + ih) * g.W + iw] * w[((o * g.Cg() + c) * g.kh + ki) * g.kw + kj];
              }
          y[((n * g.O + o) * g.Ho + oh) * g.Wo + ow] = acc;
        }
  return y;
}

std::vector<double> direct_input_grad(const ConvGeom& g, const std::vector<double>& gy, const std::vector<double>& w,
                                      const std::vector<double>* bias) {
  std::vector<double> gx(static_cast<size_t>(g.N * g.C * g.plane()));
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t p = 0; p < g.plane(); ++p) gx[(n * g.C + c) * g.plane() + p] = bias ? (*bias)[c] : 0;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t oh = 0; oh < g.Ho; ++oh)
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          const double v = gy[((n * g.O + o) * g.Ho + oh) * g.Wo + ow];
          const int64_t grp = o / g.Og();
          for (int64_t c = 0; c < g.Cg(); ++c)
            for (int64_t ki = 0; ki < g.kh; ++ki)
              for (int64_t kj = 0; kj < g.kw; ++kj) {
                int64_t ih, iw;
                if (!reads(g, oh, ow, ki, kj, ih, iw)) continue;
                gx[((n * g.C + grp * g.Cg() + c) * g.H + ih) * g.W + iw] += v * w[((o * g.Cg() + c) * g.kh + ki) * g.kw + kj];
              }
        }
  return gx;
}

std::vector<double> direct_weight_grad(const ConvGeom& g, const std::vector<double>& x, const std::vector<double>& gy) {
  std::vector<double> gw(static_cast<size_t>(g.O * g.Kg()), 0.0);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t oh = 0; oh < g.Ho; ++oh)
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          const double v = gy[((n * g.O + o) * g.Ho + oh) * g.Wo + ow];
          const int64_t grp = o / g.Og();
          for (int64_t c = 0; c < g.Cg(); ++c)
            for (int64_t ki = 0; ki < g.kh; ++ki)
              for (int64_t kj = 0; kj < g.kw; ++kj) {
                int64_t ih, iw;
                if (!reads(g, oh, ow, ki, kj, ih, iw)) continue;
                gw[((o * g.Cg() + c) * g.kh + ki) * g.kw + kj] += v * x[((n * g.C + grp * g.Cg() + c) * g.H + ih) * g.W + iw];
              }
        }
  return gw;
}

// A planned step by definition, every access bounds-checked; C is not read when beta is 0 (as
// cuBLAS, whose output may be uninitialised then). Also the layouts cuBLAS accepts: leading
// dimensions at least the stored row length, batch members' outputs disjoint.
template <class T>
void run_step(const GemmStep& s, const std::vector<T>& A, const std::vector<T>& B, std::vector<T>& C) {
  ASSERT_GE(s.lda, s.ta ? s.m : s.k);
  ASSERT_GE(s.ldb, s.tb ? s.k : s.n);
  ASSERT_GE(s.ldc, s.n);
  if (s.batch > 1) {
    ASSERT_GE(s.c_stride, s.m * s.ldc) << "batch members would write the same outputs";
  }
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j) {
        double acc = 0;
        for (int64_t kk = 0; kk < s.k; ++kk) {
          const int64_t ai = s.a_off + b * s.a_stride + (s.ta ? kk * s.lda + i : i * s.lda + kk);
          const int64_t bi = s.b_off + b * s.b_stride + (s.tb ? j * s.ldb + kk : kk * s.ldb + j);
          acc += static_cast<double>(A.at(static_cast<size_t>(ai))) * static_cast<double>(B.at(static_cast<size_t>(bi)));
        }
        T& c = C.at(static_cast<size_t>(s.c_off + b * s.c_stride + i * s.ldc + j));
        c = static_cast<T>(s.beta == 0 ? acc : acc + s.beta * static_cast<double>(c));
      }
}

// conv.cpp's v1 passes on the CPU, with a column budget of `budget` bytes.
struct V1 {
  const ConvGeom& g;
  int64_t budget;
  bool direct() const { return conv_is_pointwise(g); }
  int64_t chunk() const { return direct() ? g.N : conv_chunk_images(g, sizeof(double), budget); }

  void im2col(std::vector<double>& col, const std::vector<double>& x, int64_t n0, int64_t cnt) const {
    std::fill(col.begin(), col.end(), NAN);
    for (int64_t b = 0; b < cnt; ++b)
      for (int64_t r = 0; r < g.col_rows(); ++r)
        for (int64_t j = 0; j < g.HW(); ++j)
          col.at(static_cast<size_t>((b * g.col_rows() + r) * g.HW() + j)) =
              im2col_at(g, x.data() + n0 * g.C * g.plane(), b, r, j);
  }

  std::vector<double> forward(const std::vector<double>& x, const std::vector<double>& w,
                              const std::vector<double>* bias) const {
    std::vector<double> y(static_cast<size_t>(g.N * g.O * g.HW()), NAN);
    if (bias || g.Kg() == 0)
      for (size_t i = 0; i < y.size(); ++i) y[i] = bias ? (*bias)[(i / g.HW()) % g.O] : 0;
    const int64_t nb = chunk();
    std::vector<double> col(direct() ? 0 : static_cast<size_t>(nb * g.col_rows() * g.HW()));
    for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
      const int64_t cnt = std::min(nb, g.N - n0);
      if (!direct()) im2col(col, x, n0, cnt);
      for (const GemmStep& s : conv_forward_gemms(g, n0, cnt, direct(), bias ? 1 : 0))
        run_step(s, w, direct() ? x : col, y);
    }
    return y;
  }

  std::vector<double> input_grad(const std::vector<double>& gy, const std::vector<double>& w,
                                 const std::vector<double>* bias) const {
    std::vector<double> gx(static_cast<size_t>(g.N * g.C * g.plane()), NAN);
    if (direct() && bias)
      for (size_t i = 0; i < gx.size(); ++i) gx[i] = (*bias)[(i / g.plane()) % g.C];
    const int64_t nb = chunk();
    std::vector<double> col(direct() ? 0 : static_cast<size_t>(nb * g.col_rows() * g.HW()));
    for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
      const int64_t cnt = std::min(nb, g.N - n0);
      std::fill(col.begin(), col.end(), NAN);
      for (const GemmStep& s : conv_input_grad_gemms(g, n0, cnt, direct(), direct() && bias ? 1 : 0))
        run_step(s, w, gy, direct() ? gx : col);
      if (direct()) continue;
      for (int64_t b = 0; b < cnt; ++b)
        for (int64_t c = 0; c < g.C; ++c)
          for (int64_t p = 0; p < g.plane(); ++p)
            gx.at(static_cast<size_t>(((n0 + b) * g.C + c) * g.plane() + p)) =
                col2im_at(g, col.data(), bias ? bias->data() : nullptr, b, c, p);
    }
    return gx;
  }

  std::vector<double> weight_grad(const std::vector<double>& x, const std::vector<double>& gy) const {
    std::vector<double> gw(static_cast<size_t>(g.O * g.Kg()), NAN);
    const int64_t nb = chunk();
    std::vector<double> col(direct() ? 0 : static_cast<size_t>(nb * g.col_rows() * g.HW()));
    for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
      const int64_t cnt = std::min(nb, g.N - n0);
      if (!direct()) im2col(col, x, n0, cnt);
      for (const GemmStep& s : conv_weight_grad_gemms(g, n0, cnt, direct())) run_step(s, gy, direct() ? x : col, gw);
    }
    return gw;
  }
};

// conv.cu's conv_igemm_kernel, one block at a time: each barrier interval runs its threads one
// after another, so a thread that wrote a shared buffer another thread still reads in the same
// interval changes that thread's result.
std::vector<float> emulate_igemm(const ConvGeom& g, const std::vector<float>& x, const std::vector<float>& w,
                                 const std::vector<float>* bias) {
  using namespace igemm;
  std::vector<float> y(static_cast<size_t>(g.N * g.O * g.HW()), NAN);
  const Args a = make_args(g, x.data(), w.data(), bias ? bias->data() : nullptr, y.data());
  const IgemmGrid grid = igemm_grid(g);
  std::vector<float> As(2 * kASize), Bs(2 * kBSize);
  struct Regs {
    float v[kLoads];
  };
  struct Acc {
    float v[64];
  };
  std::vector<Regs> ra(kThreads), rb(kThreads);
  std::vector<Acc> acc(kThreads);
  std::vector<Column> col(kThreads);
  for (int by = 0; by < grid.tiles_m; ++by)
    for (int bx = 0; bx < grid.blocks_x; ++bx) {
      std::fill(As.begin(), As.end(), NAN);
      std::fill(Bs.begin(), Bs.end(), NAN);
      const Block b = block_of(a, bx, by);
      for (int tid = 0; tid < kThreads; ++tid) {
        col[tid] = column_of(a, b, tid);
        std::fill(std::begin(acc[tid].v), std::end(acc[tid].v), 0.f);
        load_a(a, b, tid, 0, ra[tid].v);
        load_b(a, b, col[tid], 0, rb[tid].v);
        store_a(tid, ra[tid].v, As.data());
        store_b(tid, rb[tid].v, Bs.data());
      }
      const int tiles = k_tiles(a);
      for (int t = 0; t < tiles; ++t) {
        const bool next = t + 1 < tiles;
        for (int tid = 0; tid < kThreads; ++tid) {
          if (next) {
            load_a(a, b, tid, (t + 1) * kBK, ra[tid].v);
            load_b(a, b, col[tid], (t + 1) * kBK, rb[tid].v);
          }
          compute(tid, As.data() + (t & 1) * kASize, Bs.data() + (t & 1) * kBSize, acc[tid].v);
          if (next) {
            store_a(tid, ra[tid].v, As.data() + ((t + 1) & 1) * kASize);
            store_b(tid, rb[tid].v, Bs.data() + ((t + 1) & 1) * kBSize);
          }
        }
      }
      for (int tid = 0; tid < kThreads; ++tid) store_c(a, b, tid, acc[tid].v);
    }
  return y;
}

template <class T>
double rel_err(const std::vector<T>& got, const std::vector<double>& ref) {
  EXPECT_EQ(got.size(), ref.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(static_cast<double>(got[i]))) return NAN;
    const double d = static_cast<double>(got[i]) - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

}  // namespace

TEST(ConvCudaPlan, V1PassesEqualTheDirectConvolutionForEveryChunking) {
  std::mt19937_64 rng(12345);
  for (const ConvGeom& g : cases()) {
    const std::vector<double> x = random_vec(g.N * g.C * g.plane(), rng), w = random_vec(g.O * g.Kg(), rng);
    const std::vector<double> gy = random_vec(g.N * g.O * g.HW(), rng);
    const std::vector<double> bo = random_vec(g.O, rng), bc = random_vec(g.C, rng);
    const int64_t image = g.col_rows() * g.HW() * int64_t{sizeof(double)};
    // one image per chunk, two (an uneven split when N is odd), and the whole batch
    for (int64_t budget : {int64_t{1}, 2 * image, kConvColumnBudgetBytes}) {
      const V1 v1{g, budget};
      std::ostringstream what_os;
      what_os << name(g) << ", chunks of " << v1.chunk();
      const std::string what = what_os.str();
      for (bool with_bias : {false, true}) {
        EXPECT_LT(rel_err(v1.forward(x, w, with_bias ? &bo : nullptr), direct_forward(g, x, w, with_bias ? &bo : nullptr)),
                  1e-13)
            << "forward " << what << (with_bias ? " with bias" : "");
        EXPECT_LT(rel_err(v1.input_grad(gy, w, with_bias ? &bc : nullptr),
                          direct_input_grad(g, gy, w, with_bias ? &bc : nullptr)),
                  1e-13)
            << "input grad " << what << (with_bias ? " with bias" : "");
      }
      EXPECT_LT(rel_err(v1.weight_grad(x, gy), direct_weight_grad(g, x, gy)), 1e-13) << "weight grad " << what;
    }
  }
}

TEST(ConvCudaPlan, ImplicitGemmTileEqualsTheDirectConvolution) {
  std::mt19937_64 rng(777);
  for (const ConvGeom& g : cases()) {
    ASSERT_TRUE(igemm_fits(g)) << name(g);
    const std::vector<double> x = random_vec(g.N * g.C * g.plane(), rng), w = random_vec(g.O * g.Kg(), rng);
    const std::vector<double> bias = random_vec(g.O, rng);
    // the references from the float-rounded inputs, so that only the float sums differ
    const std::vector<float> xf = cast<float>(x), wf = cast<float>(w), bf = cast<float>(bias);
    const std::vector<double> xr(xf.begin(), xf.end()), wr(wf.begin(), wf.end()), br(bf.begin(), bf.end());
    for (bool with_bias : {false, true}) {
      const std::vector<float> y = emulate_igemm(g, xf, wf, with_bias ? &bf : nullptr);
      EXPECT_LT(rel_err(y, direct_forward(g, xr, wr, with_bias ? &br : nullptr)), 1e-6)
          << name(g) << (with_bias ? " with bias" : "");
    }
  }
}

TEST(ConvCudaPlan, ImplicitGemmRunsForFloat32V2WithoutTf32OnFullEnoughTiles) {
  const ConvGeom music = geom(8, 64, 64, 65, 128, 12, 1, 1, 1, 5, 0, 1, 1, 1, 64, 65);
  EXPECT_EQ(conv_forward_path(music, true, true, false), ConvForwardPath::ImplicitGemm);
  EXPECT_EQ(conv_forward_path(geom(8, 256, 64, 65, 256, 3, 3, 1, 1, 1, 1), true, true, false),
            ConvForwardPath::ImplicitGemm);
  EXPECT_EQ(conv_forward_path(geom(8, 1, 128, 130, 32, 3, 3), true, true, false), ConvForwardPath::ImplicitGemm);
  EXPECT_EQ(conv_forward_path(music, false, true, false), ConvForwardPath::Gemm);  // float64
  EXPECT_EQ(conv_forward_path(music, true, false, false), ConvForwardPath::Gemm);  // v1
  EXPECT_EQ(conv_forward_path(music, true, true, true), ConvForwardPath::Gemm);    // TF32: cuBLAS tensor cores
  EXPECT_EQ(conv_forward_path(geom(8, 192, 16, 17, 128, 1, 1), true, true, false), ConvForwardPath::Gemm);  // 1x1
  EXPECT_EQ(conv_forward_path(geom(8, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 64), true, true, false),
            ConvForwardPath::Gemm);  // depthwise
  // an image too large for 32-bit offsets inside the tile
  EXPECT_FALSE(igemm_fits(geom(1, 4096, 1024, 1024, 64, 3, 3, 1, 1, 1, 1)));
  EXPECT_EQ(conv_forward_path(geom(1, 4096, 1024, 1024, 64, 3, 3, 1, 1, 1, 1), true, true, false),
            ConvForwardPath::Gemm);
}

TEST(ConvCudaPlan, GridsAndChunks) {
  const ConvGeom g = geom(8, 256, 64, 65, 256, 3, 3, 1, 1, 1, 1);
  const IgemmGrid ig = igemm_grid(g);
  EXPECT_EQ(ig.tiles_p, (64 * 65 + 63) / 64);
  EXPECT_EQ(ig.tiles_m, 4);
  EXPECT_EQ(ig.blocks_x, 8 * ig.tiles_p);
  const ConvGeom grouped = geom(3, 8, 8, 8, 40, 3, 3, 1, 1, 1, 1, 1, 1, 2);
  EXPECT_EQ(igemm_grid(grouped).blocks_x, 3 * 2 * 1);
  EXPECT_EQ(igemm_grid(grouped).tiles_m, 1);

  // 256 ch 3x3 at 64x65: 38 MB of float columns per image, so one image per 64 MiB chunk
  EXPECT_EQ(conv_chunk_images(g, 4), 1);
  EXPECT_EQ(conv_chunk_images(geom(8, 64, 64, 65, 128, 12, 1, 1, 1, 5, 0, 1, 1, 1, 64, 65), 4), 5);
  EXPECT_EQ(conv_chunk_images(geom(8, 1, 128, 130, 64, 3, 3, 1, 1, 1, 1), 4), 8);  // capped at N
  EXPECT_EQ(conv_chunk_images(geom(0, 1, 4, 4, 1, 3, 3), 4), 1);

  const ConvGrid small = conv_grid(100, 3, 2, 256);
  EXPECT_EQ(small.x, 1);
  EXPECT_EQ(small.y, 3);
  EXPECT_EQ(small.z, 2);
  const ConvGrid big = conv_grid(int64_t{1} << 40, 100000, 70000, 256);
  EXPECT_EQ(big.x, int64_t{1} << 20);
  EXPECT_EQ(big.y, 65535);
  EXPECT_EQ(big.z, 65535);
}

TEST(ConvCudaPlan, GemmsBatchOverTheLongerOfImagesAndGroups) {
  const ConvGeom dw = geom(2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16);
  const auto f = conv_forward_gemms(dw, 0, 2, false, 0);
  ASSERT_EQ(f.size(), 2u);  // per image, batched over 16 groups
  EXPECT_EQ(f[0].batch, 16);
  const ConvGeom plain = geom(5, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1);
  const auto p = conv_forward_gemms(plain, 0, 5, false, 0);
  ASSERT_EQ(p.size(), 1u);  // one step, batched over the images with the weight repeated
  EXPECT_EQ(p[0].batch, 5);
  EXPECT_EQ(p[0].a_stride, 0);
  // the weight gradient accumulates: beta 0 for the first image of the pass only
  const auto wg = conv_weight_grad_gemms(plain, 3, 2, false);
  ASSERT_EQ(wg.size(), 2u);
  EXPECT_EQ(wg[0].beta, 1);
  EXPECT_EQ(conv_weight_grad_gemms(plain, 0, 1, false)[0].beta, 0);
}
