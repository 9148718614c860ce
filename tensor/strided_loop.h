#pragma once
// The one loop every CPU kernel over strided tensors runs on (a small TensorIterator).
// Dimensions that are contiguous with respect to each other in every operand are merged, so a
// contiguous tensor becomes one flat loop; the element range is split across OpenMP threads,
// and the multi-index is computed by division once per chunk, never per element.
#include <omp.h>

#include <array>
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace fm {

template <int N>
struct StridedLayout {
  std::vector<int64_t> sizes;                  // after coalescing, outermost first
  std::array<std::vector<int64_t>, N> strides;  // in bytes, per operand
};

// Merges adjacent dims that are laid out contiguously in every operand and drops size-1 dims.
template <int N>
StridedLayout<N> coalesce(const Shape& sizes, const std::array<Shape, N>& byte_strides) {
  StridedLayout<N> out;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    bool merge = !out.sizes.empty();
    if (merge) {
      for (int k = 0; k < N; ++k)
        if (out.strides[k].back() != byte_strides[k][d] * sizes[d]) merge = false;
    }
    if (merge) {
      out.sizes.back() *= sizes[d];
      for (int k = 0; k < N; ++k) out.strides[k].back() = byte_strides[k][d];
    } else {
      out.sizes.push_back(sizes[d]);
      for (int k = 0; k < N; ++k) out.strides[k].push_back(byte_strides[k][d]);
    }
  }
  return out;
}

// Below this many elements a loop runs on one thread: starting threads costs more than it saves.
inline constexpr int64_t kParallelGrain = 32768;

// Calls inner(ptrs, inner_strides, n) over runs of the innermost dimension. `ptrs` point at
// the first element of the run for each operand; `inner_strides` are in bytes.
template <int N, class F>
void for_each_strided(const Shape& sizes, std::array<char*, N> base,
                      const std::array<Shape, N>& byte_strides, F&& inner,
                      int64_t grain = kParallelGrain) {
  const StridedLayout<N> L = coalesce<N>(sizes, byte_strides);
  const int64_t numel = shape_numel(sizes);
  if (numel == 0) return;
  const int nd = static_cast<int>(L.sizes.size());
  if (nd == 0) {
    std::array<int64_t, N> s{};
    inner(base, s, int64_t{1});
    return;
  }
  const int64_t inner_n = L.sizes[nd - 1];
  std::array<int64_t, N> inner_s;
  for (int k = 0; k < N; ++k) inner_s[k] = L.strides[k][nd - 1];

  auto run_range = [&](int64_t begin, int64_t end) {
    // multi-index of `begin`
    std::vector<int64_t> idx(nd);
    int64_t rem = begin;
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = rem % L.sizes[d];
      rem /= L.sizes[d];
    }
    std::array<char*, N> p;
    for (int k = 0; k < N; ++k) {
      int64_t off = 0;
      for (int d = 0; d < nd; ++d) off += idx[d] * L.strides[k][d];
      p[k] = base[k] + off;
    }
    int64_t pos = begin;
    while (pos < end) {
      const int64_t n = std::min(inner_n - idx[nd - 1], end - pos);
      inner(p, inner_s, n);
      pos += n;
      // advance the odometer by n along the innermost dim, carrying outward
      idx[nd - 1] += n;
      for (int k = 0; k < N; ++k) p[k] += n * inner_s[k];
      for (int d = nd - 1; d > 0 && idx[d] == L.sizes[d]; --d) {
        idx[d] = 0;
        ++idx[d - 1];
        for (int k = 0; k < N; ++k)
          p[k] += L.strides[k][d - 1] - L.sizes[d] * L.strides[k][d];
      }
    }
  };

  const int threads = numel >= grain ? omp_get_max_threads() : 1;
  if (threads <= 1) {
    run_range(0, numel);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    const int64_t chunk = (numel + nt - 1) / nt;
    const int64_t b = std::min<int64_t>(numel, chunk * t);
    const int64_t e = std::min<int64_t>(numel, b + chunk);
    if (b < e) run_range(b, e);
  }
}

template <int N>
std::array<Shape, N> byte_strides_of(const std::array<const Tensor*, N>& ts) {
  std::array<Shape, N> out;
  for (int k = 0; k < N; ++k) {
    out[k] = ts[k]->strides();
    for (auto& s : out[k]) s *= static_cast<int64_t>(ts[k]->element_size());
  }
  return out;
}

inline char* byte_ptr(const Tensor& t) { return static_cast<char*>(t.raw_data()); }

}  // namespace fm
