#include <cblas.h>
#include <omp.h>

#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "kernels/linalg.h"

namespace fm::kernels {

namespace {

// How BLAS can read a 2-D operand: row-major as is (ld = stride(0)), or row-major transposed
// (a column-major layout, ld = stride(1)). Anything else is copied to contiguous first.
struct BlasOperand {
  Tensor t;
  CBLAS_TRANSPOSE trans;
  int64_t ld;
};

BlasOperand blas_operand(const Tensor& x) {
  const int64_t r = x.size(0), c = x.size(1);
  if (x.stride(1) == 1 && (x.stride(0) >= std::max<int64_t>(c, 1) || r == 1))
    return {x, CblasNoTrans, std::max<int64_t>(r == 1 ? c : x.stride(0), 1)};
  if (x.stride(0) == 1 && (x.stride(1) >= std::max<int64_t>(r, 1) || c == 1))
    return {x, CblasTrans, std::max<int64_t>(c == 1 ? r : x.stride(1), 1)};
  Tensor cx = contiguous_raw(x, true);
  return {cx, CblasNoTrans, std::max<int64_t>(c, 1)};
}

void check_mm(const Tensor& a, const Tensor& b, const char* op) {
  require_cpu(op, {&a, &b});
  FM_CHECK(a.dim() == 2 && b.dim() == 2, op, ": expected 2-D matrices, got ", a.describe(), " and ",
           b.describe());
  FM_CHECK(a.size(1) == b.size(0), op, ": shapes ", shape_str(a.sizes()), " and ",
           shape_str(b.sizes()), " cannot be multiplied (", a.size(1), " != ", b.size(0), ")");
  FM_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", a.describe(), " and ", b.describe());
  FM_CHECK(is_floating(a.dtype()), op, ": expected float32 or float64 matrices, got ", a.describe());
}

}  // namespace

void mm_into(const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&out, &a, &b}), cuda::mm_into(out, a, b, alpha, beta));
  check_mm(a, b, "mm");
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  FM_CHECK(out.sizes() == (Shape{m, n}) && out.is_contiguous() && out.dtype() == a.dtype(),
           "mm: output ", out.describe(), " must be a contiguous ", a.dtype(), "[", m, ", ", n, "]");
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == 0) fill(out, 0.0);
    else if (beta != 1) unary_into(UnaryOp::MulScalar, out, out, beta);
    return;
  }
  const BlasOperand A = blas_operand(a), B = blas_operand(b);
  if (a.dtype() == DType::Float32) {
    cblas_sgemm(CblasRowMajor, A.trans, B.trans, m, n, k, static_cast<float>(alpha),
                static_cast<const float*>(A.t.raw_data()), A.ld, static_cast<const float*>(B.t.raw_data()),
                B.ld, static_cast<float>(beta), static_cast<float*>(out.raw_data()), n);
  } else {
    cblas_dgemm(CblasRowMajor, A.trans, B.trans, m, n, k, alpha,
                static_cast<const double*>(A.t.raw_data()), A.ld, static_cast<const double*>(B.t.raw_data()),
                B.ld, beta, static_cast<double*>(out.raw_data()), n);
  }
}

Tensor mm(const Tensor& a, const Tensor& b) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&a, &b}), cuda::mm(a, b));
  check_mm(a, b, "mm");
  Tensor out = empty({a.size(0), b.size(1)}, {.dtype = a.dtype()});
  mm_into(out, a, b);
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&a, &b}), cuda::bmm(a, b));
  require_cpu("bmm", {&a, &b});
  FM_CHECK(a.dim() == 3 && b.dim() == 3, "bmm: expected 3-D tensors, got ", a.describe(), " and ",
           b.describe());
  FM_CHECK(a.size(0) == b.size(0), "bmm: batch sizes differ: ", a.describe(), " and ", b.describe());
  FM_CHECK(a.size(2) == b.size(1), "bmm: shapes ", shape_str(a.sizes()), " and ", shape_str(b.sizes()),
           " cannot be multiplied (", a.size(2), " != ", b.size(1), ")");
  const int64_t B = a.size(0), m = a.size(1), n = b.size(2);
  Tensor out = empty({B, m, n}, {.dtype = a.dtype()});
  auto mat = [](const Tensor& t, int64_t i) {
    return make_view(t, {t.size(1), t.size(2)}, {t.stride(1), t.stride(2)}, t.storage_offset() + i * t.stride(0));
  };
  // Small matrices, at least one per thread: one GEMM per matrix with the batch split across
  // threads (OpenMP OpenBLAS runs single-threaded inside a parallel region) instead of every
  // small GEMM paying for its own thread team.
  const bool split_batch = B >= omp_get_max_threads() && m * n * a.size(2) <= (int64_t{1} << 24);
#pragma omp parallel for if (split_batch) schedule(static)
  for (int64_t i = 0; i < B; ++i) mm_into(mat(out, i), mat(a, i), mat(b, i));
  return out;
}

}  // namespace fm::kernels
