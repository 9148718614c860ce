// CUDA message-passing kernels (kernels/graph.h; the reference is kernels/cpu/graph.cpp). No
// atomics: every output element is written by one thread (or one group of lanes), summing the
// row's entries in entry order, so results do not depend on scheduling.
// csr_from_edges: a stable CUB radix sort of the row indices carrying the edge ids (so edges keep
//   their list order within a row, as the CPU's counting sort does), then col[k] = col_in[eid[k]].
//   ptr: v1 a binary search per row in the sorted rows; v2 one thread per sorted position
//   writing the starts of the rows that open there (O(E + rows)), or v1 when rows outnumber E.
// spmm: v1 one thread per (row, feature) walking the row's entries. v2 a group of 1..32 lanes
//   per row (as many as cover F, in 16-byte packs when F and the pointers allow), the group
//   loading up to one (col, weight) pair per lane at a time and broadcasting them by shuffles;
//   each lane sums its features over the entries. Both add in the CPU's order, fma for weighted
//   terms as the CPU's contracted loop does.
// sddmm: v1 one thread per entry (its row found by a binary search in ptr) summing over F in
//   double. v2 a group of 1..32 lanes per entry, features across lanes (packs when aligned),
//   double partial sums merged by a shuffle reduction.
// segment_max: v1 one thread per (row, feature); v2 spmm's row groups with packed loads. Both
//   walk the entries in order: the first maximum wins, NaN wins, an empty row gives 0 and -1.
#include <cub/device/device_radix_sort.cuh>

#include <algorithm>
#include <bit>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

constexpr int kThreads = 256;


int64_t grid_for(int64_t n) { return cuda_geom::blocks_for(n, kThreads); }

// V values of T in one access (V = 1, or 16 bytes' worth).
template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

template <class T, int V>
__device__ __forceinline__ Vec<T, V> load_vec(const T* p) {
  return *reinterpret_cast<const Vec<T, V>*>(p);
}

// Lanes per row / entry in v2: the smallest power of two covering `units`, at most 32.
int group_lanes(int64_t units) {
  int t = 1;
  while (t < 32 && t < units) t *= 2;
  return t;
}

// The lanes of this thread's group of `lanes` (a power of two) inside its warp.
__device__ __forceinline__ unsigned group_mask(int lanes) {
  if (lanes == 32) return 0xffffffffu;
  const int first = (threadIdx.x & 31) & ~(lanes - 1);
  return ((1u << lanes) - 1) << first;
}

// The row r holding entry k: ptr[r] <= k < ptr[r + 1] (the last such r when rows are empty).
__device__ __forceinline__ int64_t row_of(const int64_t* __restrict__ ptr, int64_t rows, int64_t k) {
  int64_t lo = 0, hi = rows;  // ptr[lo] <= k < ptr[hi]
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (ptr[mid] <= k) lo = mid;
    else hi = mid;
  }
  return lo;
}

// ----- csr_from_edges -----

__global__ void iota_kernel(int64_t* v, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) v[i] = i;
}

__global__ void gather_cols(int64_t* __restrict__ out, const int64_t* __restrict__ col, const int64_t* __restrict__ eid,
                            int64_t E) {
  for (int64_t k = global_thread(); k < E; k += grid_threads()) out[k] = col[eid[k]];
}

// ptr[r] = the first position whose sorted row is >= r, for r in [0, rows].
__global__ void csr_ptr_search(int64_t* __restrict__ ptr, const unsigned long long* __restrict__ keys, int64_t E,
                               int64_t rows) {
  for (int64_t r = global_thread(); r <= rows; r += grid_threads()) {
    int64_t lo = 0, hi = E;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (static_cast<int64_t>(keys[mid]) < r) lo = mid + 1;
      else hi = mid;
    }
    ptr[r] = lo;
  }
}

// Position k (0..E) opens the rows (key[k-1], key[k]] (key[-1] = -1, key[E] = rows): each
// ptr entry is written once.
__global__ void csr_ptr_bounds(int64_t* __restrict__ ptr, const unsigned long long* __restrict__ keys, int64_t E,
                               int64_t rows) {
  for (int64_t k = global_thread(); k <= E; k += grid_threads()) {
    const int64_t prev = k == 0 ? -1 : static_cast<int64_t>(keys[k - 1]);
    const int64_t key = k == E ? rows : static_cast<int64_t>(keys[k]);
    const int64_t cur = key < rows ? key : rows;
    for (int64_t r = prev + 1; r <= cur; ++r) ptr[r] = k;
  }
}

constexpr size_t kAlign = 256;
size_t align_up(size_t b) { return (b + kAlign - 1) / kAlign * kAlign; }

int sort_bits(int64_t rows) {
  return std::max(1, static_cast<int>(std::bit_width(static_cast<uint64_t>(rows > 0 ? rows - 1 : 0))));
}

size_t cub_sort_bytes(int64_t E, int64_t rows) {
  size_t bytes = 0;
  FM_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, static_cast<const unsigned long long*>(nullptr),
                                                static_cast<unsigned long long*>(nullptr),
                                                static_cast<const int64_t*>(nullptr), static_cast<int64_t*>(nullptr),
                                                E, 0, sort_bits(rows)),
                "csr_from_edges (cuda)");
  return bytes;
}

// ----- spmm -----

template <class T, bool W>
__global__ void spmm_v1(T* __restrict__ out, const T* __restrict__ x, const T* __restrict__ w,
                        const int64_t* __restrict__ ptr, const int64_t* __restrict__ col,
                        const int64_t* __restrict__ eid, int64_t rows, int64_t F) {
  const int64_t n = rows * F;
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t r = i / F, f = i - r * F;
    T acc = T(0);
    for (int64_t k = ptr[r], e = ptr[r + 1]; k < e; ++k) {
      const T xv = x[col[k] * F + f];
      acc = W ? fma(w[eid[k]], xv, acc) : acc + xv;
    }
    out[i] = acc;
  }
}

// Groups of `lanes` lanes, one row each; lane l of a group owns the packs l, l + lanes, ... of
// the row's FV = F / V packs.
template <class T, int V, bool W>
__global__ void spmm_v2(T* __restrict__ out, const T* __restrict__ x, const T* __restrict__ w,
                        const int64_t* __restrict__ ptr, const int64_t* __restrict__ col,
                        const int64_t* __restrict__ eid, int64_t rows, int64_t F, int lanes) {
  const int lane = threadIdx.x & (lanes - 1);
  const unsigned mask = group_mask(lanes);
  const int64_t FV = F / V;
  const int64_t stride = grid_threads() / lanes;
  for (int64_t r = global_thread() / lanes; r < rows; r += stride) {
    const int64_t b = ptr[r], e = ptr[r + 1];
    for (int64_t f0 = 0; f0 < FV; f0 += lanes) {  // the same trip count for the whole group
      const int64_t f = f0 + lane;
      const bool mine = f < FV;
      Vec<T, V> acc;
#pragma unroll
      for (int i = 0; i < V; ++i) acc.v[i] = T(0);
      for (int64_t k0 = b; k0 < e; k0 += lanes) {
        const int m = static_cast<int>(e - k0 < lanes ? e - k0 : lanes);
        int64_t c = 0;
        T wk = T(1);
        if (lane < m) {
          c = col[k0 + lane];
          if (W) wk = w[eid[k0 + lane]];
        }
        for (int j = 0; j < m; ++j) {
          const int64_t cj = __shfl_sync(mask, c, j, lanes);
          const T wj = W ? __shfl_sync(mask, wk, j, lanes) : T(1);
          if (mine) {
            const Vec<T, V> xv = load_vec<T, V>(x + cj * F + f * V);
#pragma unroll
            for (int i = 0; i < V; ++i) acc.v[i] = W ? fma(wj, xv.v[i], acc.v[i]) : acc.v[i] + xv.v[i];
          }
        }
      }
      if (mine) *reinterpret_cast<Vec<T, V>*>(out + r * F + f * V) = acc;
    }
  }
}

// ----- sddmm -----

template <class T>
__global__ void sddmm_v1(T* __restrict__ out, const T* __restrict__ lhs, const T* __restrict__ rhs,
                         const int64_t* __restrict__ ptr, const int64_t* __restrict__ col,
                         const int64_t* __restrict__ eid, int64_t rows, int64_t nnz, int64_t F) {
  for (int64_t k = global_thread(); k < nnz; k += grid_threads()) {
    const T* l = lhs + row_of(ptr, rows, k) * F;
    const T* rr = rhs + col[k] * F;
    double acc = 0;
    for (int64_t f = 0; f < F; ++f) acc = fma(static_cast<double>(l[f]), static_cast<double>(rr[f]), acc);
    out[eid[k]] = static_cast<T>(acc);
  }
}

template <class T, int V>
__global__ void sddmm_v2(T* __restrict__ out, const T* __restrict__ lhs, const T* __restrict__ rhs,
                         const int64_t* __restrict__ ptr, const int64_t* __restrict__ col,
                         const int64_t* __restrict__ eid, int64_t rows, int64_t nnz, int64_t F, int lanes) {
  const int lane = threadIdx.x & (lanes - 1);
  const unsigned mask = group_mask(lanes);
  const int64_t FV = F / V;
  const int64_t stride = grid_threads() / lanes;
  for (int64_t k = global_thread() / lanes; k < nnz; k += stride) {
    const T* l = lhs + row_of(ptr, rows, k) * F;
    const T* rr = rhs + col[k] * F;
    double acc = 0;
    for (int64_t f = lane; f < FV; f += lanes) {
      const Vec<T, V> a = load_vec<T, V>(l + f * V), b = load_vec<T, V>(rr + f * V);
#pragma unroll
      for (int i = 0; i < V; ++i) acc = fma(static_cast<double>(a.v[i]), static_cast<double>(b.v[i]), acc);
    }
    for (int o = lanes / 2; o > 0; o >>= 1) acc += __shfl_xor_sync(mask, acc, o, lanes);
    if (lane == 0) out[eid[k]] = static_cast<T>(acc);
  }
}

// ----- segment_max -----

template <class T>
__device__ __forceinline__ bool takes_over(T v, T m) {
  return v > m || (isnan(v) && !isnan(m));
}

template <class T>
__global__ void segment_max_v1(T* __restrict__ out, int64_t* __restrict__ idx, const T* __restrict__ x,
                               const int64_t* __restrict__ ptr, const int64_t* __restrict__ col, int64_t rows,
                               int64_t F) {
  const int64_t n = rows * F;
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t r = i / F, f = i - r * F;
    const int64_t b = ptr[r], e = ptr[r + 1];
    if (b == e) {
      out[i] = T(0);
      idx[i] = -1;
      continue;
    }
    int64_t mi = col[b];
    T m = x[mi * F + f];
    for (int64_t k = b + 1; k < e; ++k) {
      const int64_t c = col[k];
      const T v = x[c * F + f];
      if (takes_over(v, m)) m = v, mi = c;
    }
    out[i] = m;
    idx[i] = mi;
  }
}

template <class T, int V>
__global__ void segment_max_v2(T* __restrict__ out, int64_t* __restrict__ idx, const T* __restrict__ x,
                               const int64_t* __restrict__ ptr, const int64_t* __restrict__ col, int64_t rows,
                               int64_t F, int lanes) {
  const int lane = threadIdx.x & (lanes - 1);
  const unsigned mask = group_mask(lanes);
  const int64_t FV = F / V;
  const int64_t stride = grid_threads() / lanes;
  for (int64_t r = global_thread() / lanes; r < rows; r += stride) {
    const int64_t b = ptr[r], e = ptr[r + 1];
    for (int64_t f0 = 0; f0 < FV; f0 += lanes) {
      const int64_t f = f0 + lane;
      const bool mine = f < FV;
      Vec<T, V> m;
      int64_t mi[V];
#pragma unroll
      for (int i = 0; i < V; ++i) m.v[i] = T(0), mi[i] = -1;
      for (int64_t k0 = b; k0 < e; k0 += lanes) {
        const int cnt = static_cast<int>(e - k0 < lanes ? e - k0 : lanes);
        const int64_t c = lane < cnt ? col[k0 + lane] : 0;
        for (int j = 0; j < cnt; ++j) {
          const int64_t cj = __shfl_sync(mask, c, j, lanes);
          if (mine) {
            const Vec<T, V> xv = load_vec<T, V>(x + cj * F + f * V);
            const bool first = k0 + j == b;
#pragma unroll
            for (int i = 0; i < V; ++i)
              if (first || takes_over(xv.v[i], m.v[i])) m.v[i] = xv.v[i], mi[i] = cj;
          }
        }
      }
      if (mine) {
        *reinterpret_cast<Vec<T, V>*>(out + r * F + f * V) = m;
#pragma unroll
        for (int i = 0; i < V; ++i) idx[r * F + f * V + i] = mi[i];
      }
    }
  }
}

// 16-byte packs when F is a whole number of them and every row pointer is 16-byte aligned.
template <class T>
bool packs_fit(int64_t F, std::initializer_list<const void*> ptrs) {
  constexpr int P = 16 / sizeof(T);
  return F % P == 0 && cuda_geom::aligned_to(ptrs, 16);
}

}  // namespace

size_t csr_from_edges_workspace(int64_t E, int64_t rows) {
  if (E == 0) return 0;
  return 2 * align_up(static_cast<size_t>(E) * 8) + align_up(cub_sort_bytes(E, rows));
}

void launch_csr_from_edges(int64_t* ptr, int64_t* col_out, int64_t* eid, const int64_t* row, const int64_t* col,
                           int64_t E, int64_t rows, void* ws, size_t ws_bytes, Variant v, cudaStream_t s) {
  const char* op = "csr_from_edges (cuda)";
  if (E == 0) {
    csr_ptr_search<<<grid_for(rows + 1), kThreads, 0, s>>>(ptr, nullptr, 0, rows);  // ptr = 0 everywhere
    FM_CUDA_CHECK_LAUNCH(op);
    return;
  }
  const size_t run = align_up(static_cast<size_t>(E) * 8);
  size_t scratch = cub_sort_bytes(E, rows);
  FM_CHECK(ws != nullptr && ws_bytes >= 2 * run + scratch, op, ": workspace of ", ws_bytes, " bytes, needs ",
           2 * run + scratch);
  char* base = static_cast<char*>(ws);
  auto* keys = reinterpret_cast<unsigned long long*>(base);
  auto* pos = reinterpret_cast<int64_t*>(base + run);
  iota_kernel<<<grid_for(E), kThreads, 0, s>>>(pos, E);
  FM_CUDA_CHECK_LAUNCH(op);
  // the rows are in [0, rows) (checked by the callers), so their low bits order them
  const auto* unsigned_rows = reinterpret_cast<const unsigned long long*>(row);
  FM_CUDA_CHECK(
      cub::DeviceRadixSort::SortPairs(base + 2 * run, scratch, unsigned_rows, keys, pos, eid, E, 0, sort_bits(rows), s),
      op);
  gather_cols<<<grid_for(E), kThreads, 0, s>>>(col_out, col, eid, E);
  FM_CUDA_CHECK_LAUNCH(op);
  if (v == Variant::V2 && rows <= E) csr_ptr_bounds<<<grid_for(E + 1), kThreads, 0, s>>>(ptr, keys, E, rows);
  else csr_ptr_search<<<grid_for(rows + 1), kThreads, 0, s>>>(ptr, keys, E, rows);
  FM_CUDA_CHECK_LAUNCH(op);
}

template <class T>
void launch_spmm(T* out, const T* x, const T* w, const int64_t* ptr, const int64_t* col, const int64_t* eid,
                 int64_t rows, int64_t F, Variant v, cudaStream_t s) {
  if (rows == 0 || F == 0) return;
  const bool W = w != nullptr;
  if (v == Variant::V1) {
    const int64_t grid = grid_for(rows * F);
    if (W) spmm_v1<T, true><<<grid, kThreads, 0, s>>>(out, x, w, ptr, col, eid, rows, F);
    else spmm_v1<T, false><<<grid, kThreads, 0, s>>>(out, x, w, ptr, col, eid, rows, F);
  } else if (packs_fit<T>(F, {out, x})) {
    constexpr int P = 16 / sizeof(T);
    const int lanes = group_lanes(F / P);
    const int64_t grid = cuda_geom::blocks_for(rows, kThreads / lanes);
    if (W) spmm_v2<T, P, true><<<grid, kThreads, 0, s>>>(out, x, w, ptr, col, eid, rows, F, lanes);
    else spmm_v2<T, P, false><<<grid, kThreads, 0, s>>>(out, x, w, ptr, col, eid, rows, F, lanes);
  } else {
    const int lanes = group_lanes(F);
    const int64_t grid = cuda_geom::blocks_for(rows, kThreads / lanes);
    if (W) spmm_v2<T, 1, true><<<grid, kThreads, 0, s>>>(out, x, w, ptr, col, eid, rows, F, lanes);
    else spmm_v2<T, 1, false><<<grid, kThreads, 0, s>>>(out, x, w, ptr, col, eid, rows, F, lanes);
  }
  FM_CUDA_CHECK_LAUNCH("spmm (cuda)");
}

template <class T>
void launch_sddmm(T* out, const T* lhs, const T* rhs, const int64_t* ptr, const int64_t* col, const int64_t* eid,
                  int64_t rows, int64_t nnz, int64_t F, Variant v, cudaStream_t s) {
  if (rows == 0 || nnz == 0) return;
  if (v == Variant::V1) {
    sddmm_v1<T><<<grid_for(nnz), kThreads, 0, s>>>(out, lhs, rhs, ptr, col, eid, rows, nnz, F);
  } else if (packs_fit<T>(F, {lhs, rhs})) {
    constexpr int P = 16 / sizeof(T);
    const int lanes = group_lanes(F / P);
    sddmm_v2<T, P><<<cuda_geom::blocks_for(nnz, kThreads / lanes), kThreads, 0, s>>>(out, lhs, rhs, ptr, col, eid,
                                                                                      rows, nnz, F, lanes);
  } else {
    const int lanes = group_lanes(F);
    sddmm_v2<T, 1><<<cuda_geom::blocks_for(nnz, kThreads / lanes), kThreads, 0, s>>>(out, lhs, rhs, ptr, col, eid,
                                                                                      rows, nnz, F, lanes);
  }
  FM_CUDA_CHECK_LAUNCH("sddmm (cuda)");
}

template <class T>
void launch_segment_max(T* out, int64_t* idx, const T* x, const int64_t* ptr, const int64_t* col, int64_t rows,
                        int64_t F, Variant v, cudaStream_t s) {
  if (rows == 0 || F == 0) return;
  if (v == Variant::V1) {
    segment_max_v1<T><<<grid_for(rows * F), kThreads, 0, s>>>(out, idx, x, ptr, col, rows, F);
  } else if (packs_fit<T>(F, {out, x})) {
    constexpr int P = 16 / sizeof(T);
    const int lanes = group_lanes(F / P);
    segment_max_v2<T, P><<<cuda_geom::blocks_for(rows, kThreads / lanes), kThreads, 0, s>>>(out, idx, x, ptr, col,
                                                                                             rows, F, lanes);
  } else {
    const int lanes = group_lanes(F);
    segment_max_v2<T, 1><<<cuda_geom::blocks_for(rows, kThreads / lanes), kThreads, 0, s>>>(out, idx, x, ptr, col,
                                                                                             rows, F, lanes);
  }
  FM_CUDA_CHECK_LAUNCH("segment_max (cuda)");
}

#define FM_GRAPH_INSTANTIATE(T)                                                                                 \
  template void launch_spmm<T>(T*, const T*, const T*, const int64_t*, const int64_t*, const int64_t*, int64_t, \
                               int64_t, Variant, cudaStream_t);                                                 \
  template void launch_sddmm<T>(T*, const T*, const T*, const int64_t*, const int64_t*, const int64_t*, int64_t, \
                                int64_t, int64_t, Variant, cudaStream_t);                                       \
  template void launch_segment_max<T>(T*, int64_t*, const T*, const int64_t*, const int64_t*, int64_t, int64_t,  \
                                      Variant, cudaStream_t);
FM_GRAPH_INSTANTIATE(float)
FM_GRAPH_INSTANTIATE(double)
#undef FM_GRAPH_INSTANTIATE

}  // namespace fm::kernels::cuda
