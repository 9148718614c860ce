// CUDA indexing kernels: the index range check's min/max reduction, index_select, gather,
// scatter / scatter_add and index_add. Duplicate targets are handled without atomics, in the
// CPU's order (kernels/cpu/index.cpp), so results are deterministic and scatter's sums and
// last writes are bit-identical to the CPU's.
// min/max: blocks reduce slices into partials, one block reduces those (no variants).
// index_select: v1 one thread per output element; v2 copies rows of 16-byte packs when a row
//   is a whole number of aligned packs (else v1).
// gather: one thread per output element over the strided geometry (one kernel).
// scatter: v1 one thread per line (every coordinate but dim), walking the index along dim in
//   order; v2 one warp per line taking 32 index positions at a time: __match_any_sync groups
//   the lanes with the same target, the highest lane writes (last write wins) or the lowest
//   adds the group's values in lane order (the CPU's order). v2 runs when the index is dense
//   along dim or the lines are too few to fill the device; otherwise v1.
// index_add: v1 one thread per (outer, inner) column walking k in order; v2 (few columns, many
//   indices, as in an embedding's gradient) sorts (index, k) stably with CUB's radix sort, and
//   one thread per (outer, target, inner) adds its run of the sorted list: still in k order.
#include <cub/device/device_radix_sort.cuh>

#include <bit>
#include <climits>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

using cuda_geom::StridedGeom;

constexpr int kThreads = 256;


int64_t grid_for(int64_t n) { return cuda_geom::blocks_for(n, kThreads); }

// dst + v, or dst || v for bool (the CPU's accumulate()).
template <class T>
__device__ __forceinline__ T acc_add(T d, T v) {
  if constexpr (std::is_same_v<T, bool>) return d || v;
  else return d + v;
}
// d + a * r, or d || (r && a) for bool (index_add's row update on the CPU).
template <class T>
__device__ __forceinline__ T axpy(T d, T a, T r) {
  if constexpr (std::is_same_v<T, bool>) return d || (r && a);
  else return d + a * r;
}

// ---------------- min / max of the indices ----------------

struct MinOp {
  __device__ int64_t operator()(int64_t a, int64_t b) const { return a < b ? a : b; }
};
struct MaxOp {
  __device__ int64_t operator()(int64_t a, int64_t b) const { return a > b ? a : b; }
};

__global__ void minmax_partial(int64_t* ws, const int64_t* idx, int64_t n) {
  __shared__ int64_t smem[32];
  int64_t lo = LLONG_MAX, hi = LLONG_MIN;
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t v = idx[i];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  lo = block_reduce(lo, MinOp{}, int64_t{LLONG_MAX}, smem);
  hi = block_reduce(hi, MaxOp{}, int64_t{LLONG_MIN}, smem);
  if (threadIdx.x == 0) ws[2 * blockIdx.x] = lo, ws[2 * blockIdx.x + 1] = hi;
}

__global__ void minmax_final(int64_t* out, const int64_t* ws, int blocks) {
  __shared__ int64_t smem[32];
  int64_t lo = LLONG_MAX, hi = LLONG_MIN;
  for (int b = threadIdx.x; b < blocks; b += blockDim.x) {
    lo = ws[2 * b] < lo ? ws[2 * b] : lo;
    hi = ws[2 * b + 1] > hi ? ws[2 * b + 1] : hi;
  }
  lo = block_reduce(lo, MinOp{}, int64_t{LLONG_MAX}, smem);
  hi = block_reduce(hi, MaxOp{}, int64_t{LLONG_MIN}, smem);
  if (threadIdx.x == 0) out[0] = lo, out[1] = hi;
}

// ---------------- index_select ----------------

template <class T>
__global__ void index_select_v1(T* out, const T* x, const int64_t* idx, int64_t n, int64_t N, int64_t K,
                                int64_t inner) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t row = i / inner, j = i - row * inner;
    const int64_t o = row / K, k = row - o * K;
    out[i] = x[(o * N + idx[k]) * inner + j];
  }
}

// Rows of `packs` 16-byte packs.
template <class T>
__global__ void index_select_v2(Pack<T>* __restrict__ out, const Pack<T>* __restrict__ x,
                                const int64_t* __restrict__ idx, int64_t n, int64_t N, int64_t K, int64_t packs) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t row = i / packs, j = i - row * packs;
    const int64_t o = row / K, k = row - o * K;
    out[i] = x[(o * N + idx[k]) * packs + j];
  }
}

// ---------------- gather ----------------

template <class T>
__global__ void gather_kernel(T* out, const int64_t* idx, const T* x, StridedGeom<3> g, int64_t n, int64_t xdim) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    int64_t off[3];
    g.offsets(i, off);
    out[off[0]] = x[off[2] + idx[off[1]] * xdim];
  }
}

// ---------------- scatter ----------------

template <class T, bool Acc>
__global__ void scatter_v1(T* out, const int64_t* idx, const T* src, StridedGeom<3> g, int64_t lines, int64_t K,
                           int64_t odim, int64_t idim, int64_t sdim) {
  for (int64_t line = global_thread(); line < lines; line += grid_threads()) {
    int64_t off[3];
    g.offsets(line, off);
    T* o = out + off[0];
    const int64_t* ip = idx + off[1];
    const T* sp = src + off[2];
    for (int64_t j = 0; j < K; ++j) {
      T& d = o[ip[j * idim] * odim];
      const T v = sp[j * sdim];
      d = Acc ? acc_add(d, v) : v;
    }
  }
}

// One warp per line; every loop bound is uniform across the warp (the shuffles need all lanes).
template <class T, bool Acc>
__global__ void scatter_v2(T* out, const int64_t* idx, const T* src, StridedGeom<3> g, int64_t lines, int64_t K,
                           int64_t odim, int64_t idim, int64_t sdim) {
  const int lane = threadIdx.x & 31;
  const int64_t warp = global_thread() >> 5, warps = grid_threads() >> 5;
  for (int64_t line = warp; line < lines; line += warps) {
    int64_t off[3];
    g.offsets(line, off);
    T* o = out + off[0];
    const int64_t* ip = idx + off[1];
    const T* sp = src + off[2];
    for (int64_t base = 0; base < K; base += 32) {
      const int64_t j = base + lane;
      // lanes past the end get distinct negative keys that match nothing
      const int64_t k = j < K ? ip[j * idim] : -1 - lane;
      const unsigned same = __match_any_sync(0xffffffffu, static_cast<unsigned long long>(k));
      if (j < K) {
        if (!Acc) {
          if ((same >> lane) == 1u) o[k * odim] = sp[j * sdim];  // the group's last position wins
        } else if ((same & ((1u << lane) - 1u)) == 0u) {
          // the group's first lane adds the group's values in position order
          T d = o[k * odim];
          for (unsigned m = same; m != 0u; m &= m - 1u) d = acc_add(d, sp[(base + __ffs(m) - 1) * sdim]);
          o[k * odim] = d;
        }
      }
      __syncwarp();  // this chunk's writes land before the next chunk's
    }
  }
}

// ---------------- index_add ----------------

template <class T>
__global__ void index_add_v1(T* out, const T* src, const int64_t* idx, int64_t cols, int64_t N, int64_t K,
                             int64_t inner, T alpha) {
  for (int64_t c = global_thread(); c < cols; c += grid_threads()) {
    const int64_t o = c / inner, i = c - o * inner;
    T* dst = out + o * N * inner + i;
    const T* s = src + o * K * inner + i;
    for (int64_t k = 0; k < K; ++k) {
      T& d = dst[idx[k] * inner];
      d = axpy(d, alpha, s[k * inner]);
    }
  }
}

__global__ void iota_kernel(int64_t* v, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) v[i] = i;
}

// keys: the indices sorted; perm: their positions k, increasing within a run of equal keys.
template <class T>
__global__ void index_add_v2(T* out, const T* src, const unsigned long long* keys, const int64_t* perm,
                             int64_t n, int64_t N, int64_t K, int64_t inner, T alpha) {
  for (int64_t e = global_thread(); e < n; e += grid_threads()) {
    const int64_t row = e / inner, i = e - row * inner;
    const int64_t o = row / K, p = row - o * K;
    const unsigned long long t = keys[p];
    if (p > 0 && keys[p - 1] == t) continue;  // not the head of its run
    T* dst = out + (o * N + static_cast<int64_t>(t)) * inner + i;
    const T* s = src + o * K * inner + i;
    T d = *dst;
    for (int64_t q = p; q < K && keys[q] == t; ++q) d = axpy(d, alpha, s[perm[q] * inner]);
    *dst = d;
  }
}

// v2 only pays for its sort when the columns alone leave the device mostly idle.
bool index_add_sorts(int64_t outer, int64_t K, int64_t inner, Variant v) {
  return v == Variant::V2 && K >= 32 && outer * inner < 16384;
}

constexpr size_t kAlign = 256;
size_t align_up(size_t b) { return (b + kAlign - 1) / kAlign * kAlign; }

int sort_bits(int64_t N) {
  return std::max(1, static_cast<int>(std::bit_width(static_cast<uint64_t>(N > 0 ? N - 1 : 0))));
}

size_t cub_sort_bytes(int64_t K, int64_t N) {
  size_t bytes = 0;
  FM_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, static_cast<const unsigned long long*>(nullptr),
                                                static_cast<unsigned long long*>(nullptr),
                                                static_cast<const int64_t*>(nullptr), static_cast<int64_t*>(nullptr),
                                                K, 0, sort_bits(N)),
                "index_add (cuda)");
  return bytes;
}

// Workspace layout: sorted keys [K], positions [K], sorted positions [K], CUB's scratch.
size_t sort_layout_bytes(int64_t K) { return 3 * align_up(static_cast<size_t>(K) * 8); }

}  // namespace

void launch_index_min_max(int64_t* out, const int64_t* idx, int64_t n, int64_t* ws, cudaStream_t s) {
  if (n <= 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>(kIndexMinMaxBlocks, grid_for(n)));
  minmax_partial<<<blocks, kThreads, 0, s>>>(ws, idx, n);
  minmax_final<<<1, kThreads, 0, s>>>(out, ws, blocks);
  FM_CUDA_CHECK_LAUNCH("index range check (cuda)");
}

template <class T>
void launch_index_select(T* out, const T* x, const int64_t* idx, int64_t outer, int64_t N, int64_t K, int64_t inner,
                         Variant v, cudaStream_t s) {
  const int64_t n = outer * K * inner;
  if (n == 0) return;
  constexpr int P = Pack<T>::N;
  if (v == Variant::V2 && inner % P == 0 && cuda_geom::aligned_to({out, x}, 16)) {
    const int64_t packs = inner / P;
    index_select_v2<T><<<grid_for(n / P), kThreads, 0, s>>>(reinterpret_cast<Pack<T>*>(out),
                                                            reinterpret_cast<const Pack<T>*>(x), idx, n / P, N, K,
                                                            packs);
  } else {
    index_select_v1<T><<<grid_for(n), kThreads, 0, s>>>(out, x, idx, n, N, K, inner);
  }
  FM_CUDA_CHECK_LAUNCH("index_select (cuda)");
}

template <class T>
void launch_gather(T* out, const int64_t* idx, const T* x, const StridedGeom<3>& g, int64_t n, int64_t xdim,
                   cudaStream_t s) {
  if (n == 0) return;
  gather_kernel<T><<<grid_for(n), kThreads, 0, s>>>(out, idx, x, g, n, xdim);
  FM_CUDA_CHECK_LAUNCH("gather (cuda)");
}

template <class T>
void launch_scatter(bool accumulate, T* out, const int64_t* idx, const T* src, const StridedGeom<3>& g, int64_t lines,
                    int64_t K, int64_t odim, int64_t idim, int64_t sdim, Variant v, cudaStream_t s) {
  if (lines == 0 || K == 0) return;
  const bool warps = v == Variant::V2 && (idim == 1 || idim == -1 || lines < 4096);
  if (warps) {
    const int64_t grid = cuda_geom::blocks_for(lines, kThreads / 32);
    if (accumulate) scatter_v2<T, true><<<grid, kThreads, 0, s>>>(out, idx, src, g, lines, K, odim, idim, sdim);
    else scatter_v2<T, false><<<grid, kThreads, 0, s>>>(out, idx, src, g, lines, K, odim, idim, sdim);
  } else {
    const int64_t grid = grid_for(lines);
    if (accumulate) scatter_v1<T, true><<<grid, kThreads, 0, s>>>(out, idx, src, g, lines, K, odim, idim, sdim);
    else scatter_v1<T, false><<<grid, kThreads, 0, s>>>(out, idx, src, g, lines, K, odim, idim, sdim);
  }
  FM_CUDA_CHECK_LAUNCH(accumulate ? "scatter_add (cuda)" : "scatter (cuda)");
}

size_t index_add_workspace(int64_t outer, int64_t N, int64_t K, int64_t inner, Variant v) {
  if (!index_add_sorts(outer, K, inner, v)) return 0;
  return sort_layout_bytes(K) + align_up(cub_sort_bytes(K, N));
}

template <class T>
void launch_index_add(T* out, const T* src, const int64_t* idx, int64_t outer, int64_t N, int64_t K, int64_t inner,
                      T alpha, void* ws, size_t ws_bytes, Variant v, cudaStream_t s) {
  if (outer == 0 || K == 0 || inner == 0) return;
  const char* op = "index_add (cuda)";
  if (!index_add_sorts(outer, K, inner, v)) {
    index_add_v1<T><<<grid_for(outer * inner), kThreads, 0, s>>>(out, src, idx, outer * inner, N, K, inner, alpha);
    FM_CUDA_CHECK_LAUNCH(op);
    return;
  }
  const size_t run = align_up(static_cast<size_t>(K) * 8);
  size_t scratch = cub_sort_bytes(K, N);
  FM_CHECK(ws != nullptr && ws_bytes >= 3 * run + scratch, op, ": workspace of ", ws_bytes, " bytes, needs ",
           3 * run + scratch);
  char* base = static_cast<char*>(ws);
  auto* keys = reinterpret_cast<unsigned long long*>(base);
  auto* pos = reinterpret_cast<int64_t*>(base + run);
  auto* perm = reinterpret_cast<int64_t*>(base + 2 * run);
  iota_kernel<<<grid_for(K), kThreads, 0, s>>>(pos, K);
  FM_CUDA_CHECK_LAUNCH(op);
  // the indices are in [0, N) (checked), so their low bits order them as unsigned keys
  const auto* unsigned_idx = reinterpret_cast<const unsigned long long*>(idx);
  FM_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(base + 3 * run, scratch, unsigned_idx, keys, pos, perm, K, 0,
                                                sort_bits(N), s),
                op);
  const int64_t n = outer * K * inner;
  index_add_v2<T><<<grid_for(n), kThreads, 0, s>>>(out, src, keys, perm, n, N, K, inner, alpha);
  FM_CUDA_CHECK_LAUNCH(op);
}

#define FM_INDEX_INSTANTIATE(T)                                                                                     \
  template void launch_index_select<T>(T*, const T*, const int64_t*, int64_t, int64_t, int64_t, int64_t, Variant,  \
                                       cudaStream_t);                                                               \
  template void launch_gather<T>(T*, const int64_t*, const T*, const StridedGeom<3>&, int64_t, int64_t,            \
                                 cudaStream_t);                                                                     \
  template void launch_scatter<T>(bool, T*, const int64_t*, const T*, const StridedGeom<3>&, int64_t, int64_t,     \
                                  int64_t, int64_t, int64_t, Variant, cudaStream_t);                                \
  template void launch_index_add<T>(T*, const T*, const int64_t*, int64_t, int64_t, int64_t, int64_t, T, void*,    \
                                    size_t, Variant, cudaStream_t);
FM_INDEX_INSTANTIATE(float)
FM_INDEX_INSTANTIATE(double)
FM_INDEX_INSTANTIATE(int64_t)
FM_INDEX_INSTANTIATE(bool)
#undef FM_INDEX_INSTANTIATE

}  // namespace fm::kernels::cuda
