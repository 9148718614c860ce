// CPU reductions. The reduced dims are brought innermost by a permutation; when that makes
// each output's inputs one contiguous run, each output is a vectorised loop over the run
// ("inner" reduction). When the reduced dims are outermost and the kept ones are contiguous,
// rows are accumulated into the output ("outer" reduction, vectorised along the kept dims).
// Anything else is copied into the inner layout first.
#include <omp.h>

#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

std::vector<bool> reduction_mask(const std::vector<int64_t>& dims, int64_t ndim, const char* op) {
  std::vector<bool> mask(ndim, dims.empty());
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, ndim, op);
    if (ndim == 0) continue;
    FM_CHECK(!mask[w], op, ": dimension ", d, " appears more than once in the list of dims");
    mask[w] = true;
  }
  return mask;
}

Shape reduced_shape(const Shape& in, const std::vector<bool>& mask, bool keepdim) {
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!mask[d]) out.push_back(in[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

namespace {

template <class T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, T>;

template <class T>
struct SumOp {
  using A = acc_t<T>;
  static A init() { return A(0); }
  static A combine(A a, T v) { return a + v; }
  static A merge(A a, A b) { return a + b; }
};
template <class T>
struct ProdOp {
  using A = acc_t<T>;
  static A init() { return A(1); }
  static A combine(A a, T v) { return a * v; }
  static A merge(A a, A b) { return a * b; }
};
template <class T>
struct MaxOp {
  using A = T;
  static A init() {
    if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::lowest();
  }
  static A combine(A a, T v) {
    if constexpr (std::is_floating_point_v<T>) if (v != v || a != a) return a != a ? a : v;
    return v > a ? v : a;
  }
  static A merge(A a, A b) { return combine(a, b); }
};
template <class T>
struct MinOp {
  using A = T;
  static A init() {
    if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::max();
  }
  static A combine(A a, T v) {
    if constexpr (std::is_floating_point_v<T>) if (v != v || a != a) return a != a ? a : v;
    return v < a ? v : a;
  }
  static A merge(A a, A b) { return combine(a, b); }
};

// Reduces a contiguous run. Sums use 8 independent accumulators so the loop vectorises.
template <class T, class Op>
typename Op::A reduce_run(const T* p, int64_t n) {
  using A = typename Op::A;
  constexpr int L = 8;
  A acc[L];
  for (int k = 0; k < L; ++k) acc[k] = Op::init();
  int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int k = 0; k < L; ++k) acc[k] = Op::combine(acc[k], p[i + k]);
  A r = Op::init();
  for (int k = 0; k < L; ++k) r = Op::merge(r, acc[k]);
  for (; i < n; ++i) r = Op::combine(r, p[i]);
  return r;
}

// float32 sums: 32 double accumulators, widened and added a vector at a time (the generic loop
// above does not vectorise the float -> double conversion), so the result keeps the accuracy
// of double accumulation at the speed of a vector loop.
template <>
double reduce_run<float, SumOp<float>>(const float* p, int64_t n) {
  constexpr int L = 32;
  double acc[L] = {};
  int64_t i = 0;
  for (; i + L <= n; i += L)
#pragma omp simd
    for (int k = 0; k < L; ++k) acc[k] += static_cast<double>(p[i + k]);
  double r = 0;
  for (int k = 0; k < L; ++k) r += acc[k];
  for (; i < n; ++i) r += p[i];
  return r;
}

template <class T, class Op>
void inner_reduce(const T* x, T* out, int64_t outer, int64_t run) {
  using A = typename Op::A;
  if (outer >= omp_get_max_threads() || outer * run < kParallelGrain) {
#pragma omp parallel for if (outer * run >= kParallelGrain) schedule(static)
    for (int64_t i = 0; i < outer; ++i) out[i] = static_cast<T>(reduce_run<T, Op>(x + i * run, run));
    return;
  }
  // few long runs: split each run across threads
  for (int64_t i = 0; i < outer; ++i) {
    const T* p = x + i * run;
    A total = Op::init();
#pragma omp parallel
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t chunk = (run + nt - 1) / nt;
      const int64_t b = std::min<int64_t>(run, chunk * t), e = std::min<int64_t>(run, b + chunk);
      const A part = b < e ? reduce_run<T, Op>(p + b, e - b) : Op::init();
#pragma omp critical
      total = Op::merge(total, part);
    }
    out[i] = static_cast<T>(total);
  }
}

// x is [rows, cols] contiguous; out[c] = reduce over rows of x[r, c].
template <class T, class Op>
void outer_reduce(const T* x, T* out, int64_t rows, int64_t cols) {
  using A = typename Op::A;
  const int nt = rows * cols >= kParallelGrain ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(nt)
  {
    // each thread owns a slice of columns, walking rows in order (streams through memory)
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t chunk = (cols + n - 1) / n;
    const int64_t cb = std::min<int64_t>(cols, chunk * t), ce = std::min<int64_t>(cols, cb + chunk);
    constexpr int64_t B = 256;
    A acc[B];
    for (int64_t c0 = cb; c0 < ce; c0 += B) {
      const int64_t w = std::min<int64_t>(B, ce - c0);
      for (int64_t j = 0; j < w; ++j) acc[j] = Op::init();
      for (int64_t r = 0; r < rows; ++r) {
        const T* row = x + r * cols + c0;
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) acc[j] = Op::combine(acc[j], row[j]);
      }
      for (int64_t j = 0; j < w; ++j) out[c0 + j] = static_cast<T>(acc[j]);
    }
  }
}

template <class T, class Op>
Tensor reduce_typed(const Tensor& x, const std::vector<bool>& mask, bool keepdim) {
  const int64_t nd = x.dim();
  Tensor out = empty(reduced_shape(x.sizes(), mask, keepdim), {.dtype = x.dtype()});
  int64_t kept = 1, red = 1;
  for (int64_t d = 0; d < nd; ++d) (mask[d] ? red : kept) *= x.size(d);
  T* o = out.data_ptr<T>();
  if (out.numel() == 0) return out;
  if (red == 0) {
    fm::kernels::fill(out, static_cast<double>(Op::init()));
    return out;
  }
  // Is x contiguous with all reduced dims leading (outer) or trailing (inner)?
  if (x.is_contiguous()) {
    bool trailing = true, leading = true;
    bool seen_red = false, seen_kept = false;
    for (int64_t d = 0; d < nd; ++d) {
      if (x.size(d) == 1) continue;
      if (mask[d]) {
        if (seen_kept) leading = false;
        seen_red = true;
      } else {
        if (seen_red) trailing = false;
        seen_kept = true;
      }
    }
    const T* p = x.data_ptr<T>();
    if (trailing) {
      inner_reduce<T, Op>(p, o, kept, red);
      return out;
    }
    if (leading) {
      outer_reduce<T, Op>(p, o, red, kept);
      return out;
    }
  }
  // permute reduced dims innermost, copy to contiguous, inner-reduce
  Shape perm_sizes, perm_strides;
  for (int64_t d = 0; d < nd; ++d)
    if (!mask[d]) perm_sizes.push_back(x.size(d)), perm_strides.push_back(x.stride(d));
  for (int64_t d = 0; d < nd; ++d)
    if (mask[d]) perm_sizes.push_back(x.size(d)), perm_strides.push_back(x.stride(d));
  Tensor xp = contiguous_raw(make_view(x, perm_sizes, perm_strides, x.storage_offset()), true);
  inner_reduce<T, Op>(xp.data_ptr<T>(), o, kept, red);
  return out;
}

// Per row: the extreme value and its first index; a NaN is the extreme (PyTorch's rule).
template <class T>
void arg_extreme(const T* p, T* vp, int64_t* ip, int64_t outer, int64_t run, bool is_max) {
#pragma omp parallel for if (outer * run >= kParallelGrain) schedule(static)
  for (int64_t i = 0; i < outer; ++i) {
    const T* r = p + i * run;
    int64_t best = 0;
    T bv = r[0];
    for (int64_t j = 1; j < run; ++j) {
      const T v = r[j];
      if constexpr (std::is_floating_point_v<T>) {
        if (bv != bv) break;
        if (v != v) {
          bv = v;
          best = j;
          break;
        }
      }
      if (is_max ? v > bv : v < bv) {
        bv = v;
        best = j;
      }
    }
    vp[i] = bv;
    ip[i] = best;
  }
}

}  // namespace

Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<bool>& mask, bool keepdim) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x}), cuda::reduce(op, x, mask, keepdim));
  require_cpu("reduce", {&x});
  FM_CHECK(static_cast<int64_t>(mask.size()) == x.dim(), "reduce: mask of ", mask.size(),
           " dims for a tensor of ", x.dim());
  Tensor xs = x.dtype() == DType::Bool ? to_raw(x, DType::Int64, x.device()) : x;
  Tensor out;
  FM_DISPATCH_NUMERIC(xs.dtype(), "reduce", [&] {
    using T = scalar_t;
    switch (op) {
      case ReduceOp::Sum: out = reduce_typed<T, SumOp<T>>(xs, mask, keepdim); break;
      case ReduceOp::Prod: out = reduce_typed<T, ProdOp<T>>(xs, mask, keepdim); break;
      case ReduceOp::Max: out = reduce_typed<T, MaxOp<T>>(xs, mask, keepdim); break;
      case ReduceOp::Min: out = reduce_typed<T, MinOp<T>>(xs, mask, keepdim); break;
    }
  });
  return out;
}

std::pair<Tensor, Tensor> reduce_with_index(ReduceOp op, const Tensor& x, int64_t dim, bool keepdim) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x}), cuda::reduce_with_index(op, x, dim, keepdim));
  require_cpu(op == ReduceOp::Max ? "max" : "min", {&x});
  const char* name = op == ReduceOp::Max ? "max" : "min";
  FM_CHECK(op == ReduceOp::Max || op == ReduceOp::Min, "reduce_with_index: only max and min");
  const int64_t nd = x.dim();
  const int64_t d = wrap_dim(dim, nd, name);
  FM_CHECK(nd == 0 || x.size(d) > 0, name, ": cannot reduce over dimension ", dim,
           " of size 0 in ", x.describe());
  std::vector<bool> mask(nd, false);
  if (nd) mask[d] = true;
  // move `dim` innermost: [outer..., dim]
  Shape ps, pt;
  for (int64_t k = 0; k < nd; ++k)
    if (k != d) ps.push_back(x.size(k)), pt.push_back(x.stride(k));
  if (nd) ps.push_back(x.size(d)), pt.push_back(x.stride(d));
  Tensor xp = contiguous_raw(make_view(x, ps, pt, x.storage_offset()));
  const int64_t run = nd ? x.size(d) : 1;
  const int64_t outer = x.numel() / std::max<int64_t>(run, 1);
  const Shape oshape = reduced_shape(x.sizes(), mask, keepdim);
  Tensor values = empty(oshape, {.dtype = x.dtype()});
  Tensor indices = empty(oshape, {.dtype = DType::Int64});
  int64_t* ip = indices.data_ptr<int64_t>();
  FM_DISPATCH_NUMERIC(x.dtype(), name, [&] {
    arg_extreme<scalar_t>(xp.data_ptr<scalar_t>(), values.data_ptr<scalar_t>(), ip, outer, run,
                          op == ReduceOp::Max);
  });
  return {values, indices};
}

}  // namespace fm::kernels
