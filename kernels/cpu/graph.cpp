// CPU message-passing kernels. Rows are processed in parallel (dynamic chunks of 16 rows, so a
// few high-degree nodes do not leave a thread idle); each row accumulates its entries in edge
// order into its own output row, with a vectorised loop over the features.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "kernels/graph.h"
#include "tensor/factory.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

namespace {

// x as a contiguous [n, F] matrix (a copy only when x is not already one).
Tensor as_matrix(const Tensor& x) {
  return contiguous_raw(x);
}

int64_t features_of(const Tensor& x) {
  int64_t f = 1;
  for (int64_t d = 1; d < x.dim(); ++d) f *= x.size(d);
  return f;
}

// The CSR matrix's tensors on the CPU too (a default-constructed Csr has none).
void require_cpu_csr(const char* op, const Csr& a) {
  for (const Tensor* t : {&a.ptr, &a.col, &a.eid})
    if (t->defined()) require_cpu(op, {t});
}

}  // namespace

Csr csr_from_edges(const Tensor& row0, const Tensor& col0, int64_t rows, int64_t cols) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&row0, &col0}), cuda::csr_from_edges(row0, col0, rows, cols));
  require_cpu("csr_from_edges", {&row0, &col0});
  const Tensor row = contiguous_raw(row0), col = contiguous_raw(col0);
  const int64_t E = row.numel();
  Csr a;
  a.rows = rows;
  a.cols = cols;
  a.ptr = zeros({rows + 1}, {.dtype = DType::Int64});
  a.col = empty({E}, {.dtype = DType::Int64});
  a.eid = empty({E}, {.dtype = DType::Int64});
  int64_t* ptr = a.ptr.data_ptr<int64_t>();
  int64_t* oc = a.col.data_ptr<int64_t>();
  int64_t* oe = a.eid.data_ptr<int64_t>();
  const int64_t* r = E ? row.data_ptr<int64_t>() : nullptr;
  const int64_t* c = E ? col.data_ptr<int64_t>() : nullptr;
  for (int64_t e = 0; e < E; ++e) ++ptr[r[e] + 1];
  for (int64_t i = 0; i < rows; ++i) ptr[i + 1] += ptr[i];
  std::vector<int64_t> cursor(ptr, ptr + rows);
  for (int64_t e = 0; e < E; ++e) {
    const int64_t p = cursor[r[e]]++;
    oc[p] = c[e];
    oe[p] = e;
  }
  return a;
}

Tensor spmm(const Csr& a, const Tensor& w0, const Tensor& x0) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x0, &w0, &a.ptr, &a.col, &a.eid}), cuda::spmm(a, w0, x0));
  require_cpu("spmm", {&x0});
  if (w0.defined()) require_cpu("spmm", {&w0});
  require_cpu_csr("spmm", a);
  const Tensor x = as_matrix(x0);
  const Tensor w = w0.defined() ? contiguous_raw(w0) : Tensor();
  const int64_t F = features_of(x);
  Shape out_shape = x.sizes();
  out_shape[0] = a.rows;
  Tensor out = empty(out_shape, {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() == 0) return out;
  const int64_t rows = a.rows;
  const int64_t* ptr = a.ptr.data_ptr<int64_t>();
  const int64_t* col = a.nnz() ? a.col.data_ptr<int64_t>() : nullptr;
  const int64_t* eid = a.nnz() ? a.eid.data_ptr<int64_t>() : nullptr;
  const bool par = (a.nnz() + rows) * F > kParallelGrain && rows > 1;
  dispatch_floating(x.dtype(), "spmm", [&]<class T>() {
    const T* xp = x.data_ptr<T>();
    const T* wp = w.defined() ? w.data_ptr<T>() : nullptr;
    T* op = out.data_ptr<T>();
#pragma omp parallel for schedule(dynamic, 16) if (par)
    for (int64_t r = 0; r < rows; ++r) {
      T* o = op + r * F;
      for (int64_t f = 0; f < F; ++f) o[f] = T(0);
      for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
        const T* xr = xp + col[k] * F;
        if (wp) {
          const T wk = wp[eid[k]];
#pragma omp simd
          for (int64_t f = 0; f < F; ++f) o[f] += wk * xr[f];
        } else {
#pragma omp simd
          for (int64_t f = 0; f < F; ++f) o[f] += xr[f];
        }
      }
    }
  });
  return out;
}

Tensor sddmm(const Csr& a, const Tensor& lhs0, const Tensor& rhs0) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&lhs0, &rhs0, &a.ptr, &a.col, &a.eid}), cuda::sddmm(a, lhs0, rhs0));
  require_cpu("sddmm", {&lhs0, &rhs0});
  require_cpu_csr("sddmm", a);
  const Tensor lhs = as_matrix(lhs0), rhs = as_matrix(rhs0);
  const int64_t F = features_of(lhs);
  const int64_t E = a.nnz();
  Tensor out = empty({E}, {.dtype = lhs.dtype(), .device = lhs.device()});
  if (E == 0) return out;
  const int64_t rows = a.rows;
  const int64_t* ptr = a.ptr.data_ptr<int64_t>();
  const int64_t* col = a.col.data_ptr<int64_t>();
  const int64_t* eid = a.eid.data_ptr<int64_t>();
  const bool par = (E + rows) * F > kParallelGrain && rows > 1;
  dispatch_floating(lhs.dtype(), "sddmm", [&]<class T>() {
    const T* lp = lhs.data_ptr<T>();
    const T* rp = rhs.data_ptr<T>();
    T* op = out.data_ptr<T>();
#pragma omp parallel for schedule(dynamic, 16) if (par)
    for (int64_t r = 0; r < rows; ++r) {
      const T* lr = lp + r * F;
      for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
        const T* rr = rp + col[k] * F;
        double acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t f = 0; f < F; ++f) acc += static_cast<double>(lr[f]) * static_cast<double>(rr[f]);
        op[eid[k]] = static_cast<T>(acc);
      }
    }
  });
  return out;
}

std::pair<Tensor, Tensor> segment_max(const Csr& a, const Tensor& x0) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x0, &a.ptr, &a.col, &a.eid}), cuda::segment_max(a, x0));
  require_cpu("segment_max", {&x0});
  require_cpu_csr("segment_max", a);
  const Tensor x = as_matrix(x0);
  const int64_t F = features_of(x);
  Shape out_shape = x.sizes();
  out_shape[0] = a.rows;
  Tensor out = empty(out_shape, {.dtype = x.dtype(), .device = x.device()});
  Tensor idx = empty(out_shape, {.dtype = DType::Int64, .device = x.device()});
  if (out.numel() == 0) return {out, idx};
  const int64_t rows = a.rows;
  const int64_t* ptr = a.ptr.data_ptr<int64_t>();
  const int64_t* col = a.nnz() ? a.col.data_ptr<int64_t>() : nullptr;
  const bool par = (a.nnz() + rows) * F > kParallelGrain && rows > 1;
  dispatch_floating(x.dtype(), "segment_max", [&]<class T>() {
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    int64_t* ip = idx.data_ptr<int64_t>();
#pragma omp parallel for schedule(dynamic, 1) if (par)
    for (int64_t r = 0; r < rows; ++r) {
      T* o = op + r * F;
      int64_t* oi = ip + r * F;
      if (ptr[r] == ptr[r + 1]) {
        for (int64_t f = 0; f < F; ++f) {
          o[f] = T(0);
          oi[f] = -1;
        }
        continue;
      }
      {
        const int64_t c = col[ptr[r]];
        const T* xr = xp + c * F;
        for (int64_t f = 0; f < F; ++f) {
          o[f] = xr[f];
          oi[f] = c;
        }
      }
      for (int64_t k = ptr[r] + 1; k < ptr[r + 1]; ++k) {
        const int64_t c = col[k];
        const T* xr = xp + c * F;
        for (int64_t f = 0; f < F; ++f) {
          const T v = xr[f];
          if (v > o[f] || (std::isnan(v) && !std::isnan(o[f]))) {
            o[f] = v;
            oi[f] = c;
          }
        }
      }
    }
  });
  return {out, idx};
}

std::pair<int64_t, int64_t> index_min_max(const Tensor& idx0) {
  const char* op = "index_min_max";
  FM_CHECK(idx0.dtype() == DType::Int64 && idx0.numel() > 0, op, ": expected a non-empty int64 tensor, got ",
           idx0.describe());
  FM_CUDA_DISPATCH(cuda::any_cuda({&idx0}), cuda::index_min_max(op, idx0));
  require_cpu(op, {&idx0});
  const Tensor idx = contiguous_raw(idx0);
  const int64_t* p = idx.data_ptr<int64_t>();
  const int64_t n = idx.numel();
  int64_t lo = p[0], hi = p[0];
  for (int64_t i = 1; i < n; ++i) {
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
  }
  return {lo, hi};
}

}  // namespace fm::kernels
