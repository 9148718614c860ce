#pragma once
// Host-side geometry for the CUDA kernels, in plain C++ so that it is unit-tested on the CPU
// (tests/tensor/cuda_geometry_test.cpp): strided offsets for up to kMaxDims dims after merging
// dims that are contiguous in every operand, the split of a reduction into kept and reduced
// dims, and launch sizes. The structs are passed to kernels by value; offsets() is callable on
// both sides.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "tensor/error.h"

#ifdef __CUDACC__
#define FM_HOST_DEVICE __host__ __device__
#else
#define FM_HOST_DEVICE
#endif

namespace fm::cuda_geom {

constexpr int kMaxDims = 8;

// N operands sharing one iteration shape; strides in elements (0 for broadcast dims).
template <int N>
struct StridedGeom {
  int ndim = 0;
  int64_t size[kMaxDims] = {};
  int64_t stride[N][kMaxDims] = {};

  // Element offsets of the linear (row-major) index i in each operand.
  FM_HOST_DEVICE void offsets(int64_t i, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t s = size[d];
      const int64_t q = i / s, r = i - q * s;
      i = q;
      for (int k = 0; k < N; ++k) off[k] += r * stride[k][d];
    }
  }
};

// Drops size-1 dims and merges neighbours d, d+1 where every operand has
// stride[d] == stride[d+1] * size[d+1] (one run of memory in all of them). Returns the merged
// geometry; fails naming `op` when more than kMaxDims dims remain.
template <int N>
StridedGeom<N> make_geom(const std::vector<int64_t>& sizes, const std::array<std::vector<int64_t>, N>& strides,
                         const char* op) {
  std::vector<int64_t> sz;
  std::vector<std::array<int64_t, N>> st;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    std::array<int64_t, N> s{};
    for (int k = 0; k < N; ++k) s[k] = strides[k][d];
    if (!sz.empty()) {
      bool merge = true;
      for (int k = 0; k < N; ++k) merge = merge && st.back()[k] == s[k] * sizes[d];
      if (merge) {
        sz.back() *= sizes[d];
        st.back() = s;
        continue;
      }
    }
    sz.push_back(sizes[d]);
    st.push_back(s);
  }
  FM_CHECK(static_cast<int>(sz.size()) <= kMaxDims, op, ": the CUDA kernels index at most ", kMaxDims,
           " dims after merging contiguous ones; this layout needs ", sz.size());
  StridedGeom<N> g;
  g.ndim = static_cast<int>(sz.size());
  for (int d = 0; d < g.ndim; ++d) {
    g.size[d] = sz[d];
    for (int k = 0; k < N; ++k) g.stride[k][d] = st[d][k];
  }
  return g;
}

// Strides (elements) of a tensor of shape `sizes`/`strides` broadcast to `out` (NumPy rules:
// aligned at the right, size-1 dims get stride 0).
inline std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides,
                                              const std::vector<int64_t>& out) {
  std::vector<int64_t> s(out.size(), 0);
  const size_t off = out.size() - sizes.size();
  for (size_t d = 0; d < sizes.size(); ++d) s[off + d] = sizes[d] == 1 ? 0 : strides[d];
  return s;
}

// True when every operand is one dense run in the iteration order (geometry merged to at most
// one dim with unit strides): the kernels may index all of them by i.
template <int N>
bool all_contiguous(const StridedGeom<N>& g) {
  if (g.ndim == 0) return true;
  if (g.ndim > 1) return false;
  for (int k = 0; k < N; ++k)
    if (g.stride[k][0] != 1) return false;
  return true;
}

// A reduction: output element o (row-major over the kept dims) reduces input elements
// kept.offsets(o) + red.offsets(j) for j < n_red.
struct ReduceGeom {
  StridedGeom<1> kept;
  StridedGeom<1> red;
  int64_t n_out = 1;
  int64_t n_red = 1;
};

inline ReduceGeom make_reduce_geom(const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides,
                                   const std::vector<bool>& mask, const char* op) {
  std::vector<int64_t> ks, kt, rs, rt;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (mask[d]) rs.push_back(sizes[d]), rt.push_back(strides[d]);
    else ks.push_back(sizes[d]), kt.push_back(strides[d]);
  }
  ReduceGeom g;
  g.kept = make_geom<1>(ks, {kt}, op);
  g.red = make_geom<1>(rs, {rt}, op);
  for (int64_t s : ks) g.n_out *= s;
  for (int64_t s : rs) g.n_red *= s;
  return g;
}

// Blocks for n items at `per_block` items per block, capped (grid-stride loops cover the rest).
inline int64_t blocks_for(int64_t n, int64_t per_block, int64_t cap = int64_t{1} << 20) {
  return std::max<int64_t>(1, std::min<int64_t>(cap, (n + per_block - 1) / per_block));
}

// Whether pointers (in bytes) allow `width`-byte vector access: all aligned to it.
inline bool aligned_to(std::initializer_list<const void*> ptrs, int width) {
  for (const void* p : ptrs)
    if (reinterpret_cast<uintptr_t>(p) % static_cast<uintptr_t>(width) != 0) return false;
  return true;
}

// How many blocks of a two-pass reduction work on each output: enough to give every
// multiprocessor a few blocks when the outputs alone do not, each block taking at least
// `min_per_block` inputs; 1 means one pass.
inline int64_t reduce_splits(int64_t n_out, int64_t n_red, int sms, int64_t min_per_block = 4096) {
  const int64_t want_blocks = int64_t{4} * sms;
  if (n_out >= want_blocks) return 1;
  const int64_t by_work = n_red / min_per_block;
  const int64_t by_fill = (want_blocks + n_out - 1) / n_out;
  return std::max<int64_t>(1, std::min<int64_t>({by_work, by_fill, 1024}));
}

}  // namespace fm::cuda_geom
