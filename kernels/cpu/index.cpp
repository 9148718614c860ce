// CPU indexing kernels. index_select/index_add work on [outer, N, inner] views of contiguous
// data, a row of `inner` elements at a time. gather/scatter run on the strided loop over the
// index's shape, with the coordinate along `dim` replaced by the index value. Writes that may
// collide (scatter, scatter_add, index_add) are split across threads by target, never by
// source, so there are no races and sums come out the same for any thread count.
#include <omp.h>

#include <algorithm>
#include <cstdlib>

#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "kernels/index.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

namespace {

struct Split3 {
  int64_t outer = 1, n = 1, inner = 1;
};

Split3 split_at(const Shape& s, int64_t dim) {
  Split3 r;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < dim) r.outer *= s[d];
    else if (d == dim) r.n = s[d];
    else r.inner *= s[d];
  }
  return r;
}

template <class T>
inline void accumulate(T& dst, T v) {
  if constexpr (std::is_same_v<T, bool>) dst = dst || v;
  else dst += v;
}

}  // namespace

void check_index_range(const char* op, const Tensor& index, int64_t size, int64_t dim,
                       const std::string& context) {
  FM_CHECK(index.dtype() == DType::Int64, op, ": indices must be int64, got ", index.describe(),
           " (", context, ")");
  FM_CUDA_DISPATCH(cuda::any_cuda({&index}), cuda::check_index_range(op, index, size, dim, context));
  require_cpu(op, {&index});
  const Tensor idx = contiguous_raw(index);
  const int64_t n = idx.numel();
  if (n == 0) return;
  const int64_t* p = idx.data_ptr<int64_t>();
  int64_t lo = p[0], hi = p[0];
#pragma omp parallel for reduction(min : lo) reduction(max : hi) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
  }
  if (lo >= 0 && hi < size) return;
  for (int64_t i = 0; i < n; ++i)
    if (p[i] < 0 || p[i] >= size) {
      if (dim >= 0)
        fail(op, ": index ", p[i], " (at flat position ", i, " of the indices) is out of range for "
             "dimension ", dim, " with size ", size, "; expected a value in [0, ", size, ") (",
             context, ")");
      fail(op, ": index ", p[i], " (at flat position ", i, " of the indices) is out of range; "
           "expected a value in [0, ", size, ") (", context, ")");
    }
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x, &index}), cuda::index_select(x, dim, index));
  require_cpu("index_select", {&x, &index});
  const Tensor xc = contiguous_raw(x);
  const Tensor ic = contiguous_raw(index);
  const int64_t K = ic.numel();
  Shape out_shape = x.sizes();
  out_shape[dim] = K;
  Tensor out = empty(out_shape, {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() == 0) return out;
  const Split3 s = split_at(x.sizes(), dim);
  const int64_t outer = s.outer, N = s.n, inner = s.inner;
  const int64_t* ip = ic.data_ptr<int64_t>();
  dispatch_all(x.dtype(), "index_select", [&]<class T>() {
    const T* src = xc.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    if (inner == 1) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * K > kParallelGrain)
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < K; ++k) dst[o * K + k] = src[o * N + ip[k]];
    } else {
#pragma omp parallel for collapse(2) schedule(static) if (outer * K * inner > kParallelGrain)
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < K; ++k) {
          const T* a = src + (o * N + ip[k]) * inner;
          std::copy(a, a + inner, dst + (o * K + k) * inner);
        }
    }
  });
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x, &index}), cuda::gather(x, dim, index));
  require_cpu("gather", {&x, &index});
  Tensor out = empty(index.sizes(), {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() == 0) return out;
  std::array<Shape, 3> st = byte_strides_of<3>({&out, &index, &x});
  const int64_t xdim = st[2][dim];  // bytes per step of the index value
  st[2][dim] = 0;
  FM_DISPATCH_ALL(x.dtype(), "gather", [&] {
    using T = scalar_t;
    for_each_strided<3>(index.sizes(), {byte_ptr(out), byte_ptr(index), byte_ptr(x)}, st,
                        [xdim](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n) {
                          if (s[0] == sizeof(T) && s[1] == sizeof(int64_t)) {
                            T* o = reinterpret_cast<T*>(p[0]);
                            const int64_t* ip = reinterpret_cast<const int64_t*>(p[1]);
                            for (int64_t i = 0; i < n; ++i)
                              o[i] = *reinterpret_cast<const T*>(p[2] + i * s[2] + ip[i] * xdim);
                          } else {
                            for (int64_t i = 0; i < n; ++i) {
                              const int64_t k = *reinterpret_cast<const int64_t*>(p[1] + i * s[1]);
                              *reinterpret_cast<T*>(p[0] + i * s[0]) =
                                  *reinterpret_cast<const T*>(p[2] + i * s[2] + k * xdim);
                            }
                          }
                        });
  });
  return out;
}

void scatter_(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src0, bool accumulate_) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&out, &index, &src0}), cuda::scatter_(out, dim, index, src0, accumulate_));
  require_cpu(accumulate_ ? "scatter_add" : "scatter", {&out, &index, &src0});
  if (index.numel() == 0) return;
  const Tensor src = src0.dtype() == out.dtype() ? src0 : to_raw(src0, out.dtype(), src0.device());
  // iterate over every coordinate but `dim`; the loop along dim runs inside, in order, so each
  // target element is written by one thread only
  Shape iter = index.sizes();
  const int64_t K = iter[dim];
  iter[dim] = 1;
  std::array<Shape, 3> st = byte_strides_of<3>({&out, &index, &src});
  const int64_t odim = st[0][dim], idim = st[1][dim], sdim = st[2][dim];
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(K, 1));
  FM_DISPATCH_ALL(out.dtype(), accumulate_ ? "scatter_add" : "scatter", [&] {
    using T = scalar_t;
    for_each_strided<3>(
        iter, {byte_ptr(out), byte_ptr(index), byte_ptr(src)}, st,
        [=](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n) {
          auto one = [&](int64_t i, int64_t j) {
            const int64_t k = *reinterpret_cast<const int64_t*>(p[1] + i * s[1] + j * idim);
            const T v = *reinterpret_cast<const T*>(p[2] + i * s[2] + j * sdim);
            T& o = *reinterpret_cast<T*>(p[0] + i * s[0] + k * odim);
            if (accumulate_) accumulate(o, v);
            else o = v;
          };
          // walk the index along its smaller stride; either way each target sees its writes
          // in increasing j
          if (std::abs(s[1]) <= std::abs(idim)) {
            for (int64_t j = 0; j < K; ++j)
              for (int64_t i = 0; i < n; ++i) one(i, j);
          } else {
            for (int64_t i = 0; i < n; ++i)
              for (int64_t j = 0; j < K; ++j) one(i, j);
          }
        },
        grain);
  });
}

void scatter_value_(const Tensor& out, int64_t dim, const Tensor& index, double value) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&out, &index}), cuda::scatter_value_(out, dim, index, value));
  Tensor v = empty({}, {.dtype = out.dtype(), .device = out.device()});
  fill(v, value);
  scatter_(out, dim, index, make_view(v, index.sizes(), Shape(index.dim(), 0), 0), false);
}

void index_add_(const Tensor& out0, int64_t dim, const Tensor& index, const Tensor& src0, double alpha) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&out0, &index, &src0}), cuda::index_add_(out0, dim, index, src0, alpha));
  require_cpu("index_add", {&out0, &index, &src0});
  if (!out0.is_contiguous()) {
    Tensor tmp = contiguous_raw(out0, true);
    index_add_(tmp, dim, index, src0, alpha);
    copy_into(out0, tmp);
    return;
  }
  const Tensor& out = out0;
  const Tensor src = contiguous_raw(to_raw(src0, out.dtype(), src0.device()));
  const Tensor ic = contiguous_raw(index);
  const int64_t K = ic.numel();
  const Split3 s = split_at(out.sizes(), dim);
  const int64_t outer = s.outer, N = s.n, inner = s.inner;
  if (K == 0 || outer == 0 || inner == 0) return;
  const int64_t* ip = ic.data_ptr<int64_t>();
  dispatch_all(out.dtype(), "index_add", [&]<class T>() {
    T* dst = out.data_ptr<T>();
    const T* sp = src.data_ptr<T>();
    const T a = static_cast<T>(alpha);
    auto add_row = [&](T* d, const T* r, int64_t len) {
      if constexpr (std::is_same_v<T, bool>) {
        for (int64_t i = 0; i < len; ++i) d[i] = d[i] || (r[i] && a);
      } else if (alpha == 1) {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) d[i] += r[i];
      } else {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) d[i] += a * r[i];
      }
    };
    const int64_t work = outer * K * inner;
    const int threads = work > kParallelGrain ? omp_get_max_threads() : 1;
    const int64_t block = std::min<int64_t>(inner, 2048);
    const int64_t nb = (inner + block - 1) / block;
    if (threads <= 1 || outer * nb >= threads) {
      // each (outer, column block) owns distinct targets
#pragma omp parallel for collapse(2) schedule(static) if (threads > 1)
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t b = 0; b < nb; ++b) {
          const int64_t i0 = b * block, len = std::min(block, inner - i0);
          for (int64_t k = 0; k < K; ++k)
            add_row(dst + (o * N + ip[k]) * inner + i0, sp + (o * K + k) * inner + i0, len);
        }
    } else {
      // few outer rows (e.g. an embedding gradient): each thread owns a range of target rows
#pragma omp parallel num_threads(threads)
      {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t lo = N * t / nt, hi = N * (t + 1) / nt;
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t k = 0; k < K; ++k) {
            const int64_t r = ip[k];
            if (r < lo || r >= hi) continue;
            add_row(dst + (o * N + r) * inner, sp + (o * K + k) * inner, inner);
          }
      }
    }
  });
}

}  // namespace fm::kernels
