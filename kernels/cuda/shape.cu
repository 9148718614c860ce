// CUDA shape kernels (kernels/shape.h). Pure data movement (flip, roll, constant pad, cat,
// triangles, one-hot) is bit-identical to the CPU; unfold_backward sums in the CPU's order.
// shape map (flip, roll, pad_constant, cat v1): "output element -> input element" through
//   kernels/cuda/launch.h's ShapeMap. v1 one thread per output element; v2 one block per row
//   of the innermost dim (>= 32 long): the outer coordinates are split once per row, the
//   innermost one costs a subtraction and a compare (else v1).
// cat v2: one launch for all inputs (contiguous, of the output's dtype; else cat runs v1, one
//   shape-map launch per input): blockIdx.y picks the input, a grid-stride loop copies it.
// tril_triu, one_hot: one thread per output element (one kernel each).
// unfold_backward: v1 one thread per input element summing the windows that cover it, in
//   window order (no atomics). v2, for windows of 32 or more: neighbouring threads walk the
//   same window at once, over the union of their windows, so neighbouring positions read
//   neighbouring gradient elements: per warp along a line (inner == 1), or per 32 x 32 tile of
//   (position, inner index) transposed through shared memory so that the writes along inner
//   stay coalesced (inner > 1). Shorter windows run v1.
#include <climits>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

constexpr int kThreads = 256;


int64_t grid_for(int64_t n) { return cuda_geom::blocks_for(n, kThreads); }

// ---------------- shape map ----------------

// Input coordinate of output coordinate c along dim d; false where it falls outside the input.
__device__ __forceinline__ bool map_coord(const ShapeMap& m, int d, int64_t c, int64_t& ci) {
  ci = c - m.shift[d];
  if (m.wrap >> d & 1u) {
    if (ci < 0) ci += m.in_size[d];
    return true;
  }
  return ci >= 0 && ci < m.in_size[d];
}

template <class T>
__global__ void map_v1(T* out, const T* in, ShapeMap m, int64_t n, T fill) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    int64_t r = i, oo = 0, io = m.in_base;
    bool ok = true;
    for (int d = m.ndim - 1; d >= 0; --d) {
      const int64_t q = r / m.size[d], c = r - q * m.size[d];
      r = q;
      oo += c * m.out_stride[d];
      int64_t ci;
      ok = map_coord(m, d, c, ci) && ok;
      io += ci * m.in_stride[d];
    }
    out[oo] = ok ? in[io] : fill;
  }
}

template <class T>
__global__ void map_v2(T* out, const T* in, ShapeMap m, int64_t rows, T fill) {
  const int last = m.ndim - 1;
  const int64_t L = m.size[last];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    int64_t r = row, oo = 0, io = m.in_base;
    bool ok = true;
    for (int d = last - 1; d >= 0; --d) {
      const int64_t q = r / m.size[d], c = r - q * m.size[d];
      r = q;
      oo += c * m.out_stride[d];
      int64_t ci;
      ok = map_coord(m, d, c, ci) && ok;
      io += ci * m.in_stride[d];
    }
    for (int64_t c = threadIdx.x; c < L; c += blockDim.x) {
      int64_t ci;
      const bool here = map_coord(m, last, c, ci) && ok;
      out[oo + c * m.out_stride[last]] = here ? in[io + ci * m.in_stride[last]] : fill;
    }
  }
}

// ---------------- cat ----------------

template <class T>
__global__ void cat_v2(T* out, const int64_t* table, int64_t outer, int64_t total, int64_t inner) {
  const int64_t* e = table + 3 * int64_t{blockIdx.y};
  const T* in = reinterpret_cast<const T*>(e[0]);
  const int64_t run = e[1] * inner, at = e[2] * inner, numel = outer * run;
  for (int64_t j = global_thread(); j < numel; j += grid_threads()) {
    const int64_t o = j / run;
    out[o * total * inner + at + (j - o * run)] = in[j];
  }
}

// ---------------- triangles, one-hot ----------------

template <class T>
__global__ void tril_triu_kernel(T* out, const T* x, int64_t n, int64_t R, int64_t C, int64_t diagonal, bool lower) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t row = i / C, c = i - row * C, r = row % R;
    // lower keeps columns [0, r + diagonal + 1), upper [r + diagonal, C); c - r cannot overflow
    const bool keep = lower ? c - r <= diagonal : c - r >= diagonal;
    out[i] = keep ? x[i] : T(0);
  }
}

__global__ void one_hot_kernel(int64_t* out, const int64_t* idx, int64_t n, int64_t classes) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t e = i / classes, c = i - e * classes;
    out[i] = idx[e] == c ? 1 : 0;
  }
}

// ---------------- unfold_backward ----------------

// The windows w in [lo, hi] that cover position p: w * step <= p < w * step + size.
__device__ __forceinline__ void cover(int64_t p, int64_t windows, int64_t size, int64_t step, int64_t& lo,
                                      int64_t& hi) {
  hi = min(p / step, windows - 1);
  lo = p >= size ? (p - size) / step + 1 : 0;
}

template <class T>
__global__ void unfold_back_v1(T* out, const T* g, int64_t total, int64_t n, int64_t inner, int64_t windows,
                               int64_t size, int64_t step) {
  for (int64_t e = global_thread(); e < total; e += grid_threads()) {
    const int64_t row = e / inner, i = e - row * inner;
    const int64_t o = row / n, p = row - o * n;
    int64_t lo, hi;
    cover(p, windows, size, step, lo, hi);
    const T* gi = g + (o * windows * inner + i) * size + p;
    T acc = 0;
    for (int64_t w = lo; w <= hi; ++w) acc += gi[w * (inner * size - step)];
    out[e] = acc;
  }
}

__device__ __forceinline__ int64_t warp_min(int64_t v) {
  for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ int64_t warp_max(int64_t v) {
  for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// inner == 1: a warp walks the union of its lanes' windows in order, each lane adding the
// windows that cover it (still in window order); the lanes of one window read neighbouring
// elements.
template <class T>
__global__ void unfold_back_v2_line(T* out, const T* g, int64_t total, int64_t n, int64_t windows, int64_t size,
                                    int64_t step) {
  const int64_t lane = threadIdx.x & 31;
  const int64_t stride = grid_threads();
  for (int64_t base = global_thread() - lane; base < total; base += stride) {  // uniform across the warp
    const int64_t e = base + lane;
    // windows numbered across lines (o * windows + w), so that a warp straddling two lines
    // walks the end of one and the start of the next, not every window
    int64_t lo = LLONG_MAX, hi = -1, o = 0, p = 0;
    if (e < total) {
      o = e / n;
      p = e - o * n;
      cover(p, windows, size, step, lo, hi);
      lo += o * windows;
      hi += o * windows;
    }
    const int64_t wlo = warp_min(lo), whi = warp_max(hi);
    const T* gp = g + o * windows * size + p;
    T acc = 0;
    for (int64_t w = wlo; w <= whi; ++w)
      if (w >= lo && w <= hi) acc += gp[(w - o * windows) * (size - step)];
    if (e < total) out[e] = acc;
  }
}

// inner > 1: tiles of 32 positions x 32 inner indices, block (32, 8). Phase 1: lane x = position,
// each thread sums four inner indices over the tile's windows; phase 2 writes through shared
// memory with lane x = inner index.
template <class T>
__global__ void unfold_back_v2_tile(T* out, const T* g, int64_t outer, int64_t n, int64_t inner, int64_t windows,
                                    int64_t size, int64_t step) {
  __shared__ T tile[32][33];
  const int64_t pt = (n + 31) / 32, it = (inner + 31) / 32, tiles = outer * pt * it;
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int64_t b = blockIdx.x; b < tiles; b += gridDim.x) {
    const int64_t o = b / (pt * it), rest = b - o * pt * it, p0 = rest / it * 32, i0 = (rest % it) * 32;
    const int64_t p_last = min(p0 + 31, n - 1);
    int64_t wlo, unused, whi;
    cover(p0, windows, size, step, wlo, unused);
    cover(p_last, windows, size, step, unused, whi);
    const int64_t p = p0 + tx;
    int64_t lo = LLONG_MAX, hi = -1;
    if (p < n) cover(p, windows, size, step, lo, hi);
    for (int k = 0; k < 4; ++k) {
      const int ii = ty + 8 * k;
      const int64_t i = i0 + ii;
      T acc = 0;
      if (i < inner) {
        const T* gp = g + (o * windows * inner + i) * size + p;
        for (int64_t w = wlo; w <= whi; ++w)
          if (w >= lo && w <= hi) acc += gp[w * (inner * size - step)];
      }
      tile[ii][tx] = acc;
    }
    __syncthreads();
    for (int k = 0; k < 4; ++k) {
      const int pp = ty + 8 * k;
      const int64_t q = p0 + pp, i = i0 + tx;
      if (q < n && i < inner) out[(o * n + q) * inner + i] = tile[tx][pp];
    }
    __syncthreads();
  }
}

}  // namespace

template <class T>
void launch_shape_map(T* out, const T* in, const ShapeMap& m, int64_t n, T fill, Variant v, cudaStream_t s) {
  if (n == 0) return;
  const int64_t L = m.ndim > 0 ? m.size[m.ndim - 1] : 1;
  if (v == Variant::V2 && L >= 32) {
    int threads = 32;
    while (threads < kThreads && threads < L) threads *= 2;
    map_v2<T><<<cuda_geom::blocks_for(n / L, 1), threads, 0, s>>>(out, in, m, n / L, fill);
  } else {
    map_v1<T><<<grid_for(n), kThreads, 0, s>>>(out, in, m, n, fill);
  }
  FM_CUDA_CHECK_LAUNCH("shape copy (cuda)");
}

template <class T>
void launch_cat(T* out, const int64_t* table, int64_t inputs, int64_t max_numel, int64_t outer, int64_t total,
                int64_t inner, cudaStream_t s) {
  if (inputs == 0 || max_numel == 0) return;
  const dim3 grid(static_cast<unsigned>(cuda_geom::blocks_for(max_numel, kThreads, 1024)),
                  static_cast<unsigned>(inputs));
  cat_v2<T><<<grid, kThreads, 0, s>>>(out, table, outer, total, inner);
  FM_CUDA_CHECK_LAUNCH("cat (cuda)");
}

template <class T>
void launch_tril_triu(T* out, const T* x, int64_t n, int64_t R, int64_t C, int64_t diagonal, bool lower,
                      cudaStream_t s) {
  if (n == 0) return;
  tril_triu_kernel<T><<<grid_for(n), kThreads, 0, s>>>(out, x, n, R, C, diagonal, lower);
  FM_CUDA_CHECK_LAUNCH(lower ? "tril (cuda)" : "triu (cuda)");
}

void launch_one_hot(int64_t* out, const int64_t* idx, int64_t n, int64_t classes, cudaStream_t s) {
  if (n == 0 || classes == 0) return;
  one_hot_kernel<<<grid_for(n * classes), kThreads, 0, s>>>(out, idx, n * classes, classes);
  FM_CUDA_CHECK_LAUNCH("one_hot (cuda)");
}

template <class T>
void launch_unfold_backward(T* out, const T* g, int64_t outer, int64_t n, int64_t inner, int64_t windows,
                            int64_t size, int64_t step, Variant v, cudaStream_t s) {
  const int64_t total = outer * n * inner;
  if (total == 0) return;
  if (v == Variant::V2 && size >= 32 && inner == 1) {
    unfold_back_v2_line<T><<<grid_for(total), kThreads, 0, s>>>(out, g, total, n, windows, size, step);
  } else if (v == Variant::V2 && size >= 32) {
    const int64_t tiles = outer * ((n + 31) / 32) * ((inner + 31) / 32);
    unfold_back_v2_tile<T><<<cuda_geom::blocks_for(tiles, 1), dim3(32, 8), 0, s>>>(out, g, outer, n, inner, windows,
                                                                                   size, step);
  } else {
    unfold_back_v1<T><<<grid_for(total), kThreads, 0, s>>>(out, g, total, n, inner, windows, size, step);
  }
  FM_CUDA_CHECK_LAUNCH("unfold_backward (cuda)");
}

#define FM_SHAPE_INSTANTIATE(T)                                                                                  \
  template void launch_shape_map<T>(T*, const T*, const ShapeMap&, int64_t, T, Variant, cudaStream_t);          \
  template void launch_cat<T>(T*, const int64_t*, int64_t, int64_t, int64_t, int64_t, int64_t, cudaStream_t);   \
  template void launch_tril_triu<T>(T*, const T*, int64_t, int64_t, int64_t, int64_t, bool, cudaStream_t);
FM_SHAPE_INSTANTIATE(float)
FM_SHAPE_INSTANTIATE(double)
FM_SHAPE_INSTANTIATE(int64_t)
FM_SHAPE_INSTANTIATE(bool)
#undef FM_SHAPE_INSTANTIATE

template void launch_unfold_backward<float>(float*, const float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                            int64_t, Variant, cudaStream_t);
template void launch_unfold_backward<double>(double*, const double*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                             int64_t, Variant, cudaStream_t);

}  // namespace fm::kernels::cuda
