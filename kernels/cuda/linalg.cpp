// CUDA matrix products through cuBLAS (sgemm/dgemm, strided-batched for bmm). cuBLAS is
// column-major: a row-major C[m, n] is the column-major C^T, so C = A B is computed as
// C^T = B^T A^T with the operands swapped. A row-major operand (unit column stride) is then
// read untransposed, a column-major one (a transposed view such as x.t()) transposed; any
// other layout is copied to contiguous on the device first. TF32 follows
// set_cuda_matmul_allow_tf32 (tensor/cuda.h).
#ifdef FERMATA_WITH_CUDA
#include "kernels/cuda/common.h"
#include "kernels/elementwise.h"

namespace fm::kernels::cuda {

namespace {

// A matrix (the last two dims of t) as cuBLAS reads it for the swapped product.
struct GemmOperand {
  Tensor t;
  cublasOperation_t op;
  int64_t ld;
};

GemmOperand gemm_operand(const Tensor& x) {
  const int64_t nd = x.dim();
  const int64_t r = x.size(nd - 2), c = x.size(nd - 1), s0 = x.stride(nd - 2), s1 = x.stride(nd - 1);
  if (s1 == 1 && (s0 >= std::max<int64_t>(c, 1) || r == 1)) return {x, CUBLAS_OP_N, std::max<int64_t>(r == 1 ? c : s0, 1)};
  if (s0 == 1 && (s1 >= std::max<int64_t>(r, 1) || c == 1)) return {x, CUBLAS_OP_T, std::max<int64_t>(c == 1 ? r : s1, 1)};
  Tensor cx = contiguous_raw(x, true);
  return {cx, CUBLAS_OP_N, std::max<int64_t>(c, 1)};
}

void check_operands(const Tensor& a, const Tensor& b, int64_t nd, const char* op) {
  FM_CHECK(a.dim() == nd && b.dim() == nd, op, ": expected ", nd, "-D tensors, got ", a.describe(), " and ",
           b.describe());
  FM_CHECK(a.size(nd - 1) == b.size(nd - 2), op, ": shapes ", shape_str(a.sizes()), " and ", shape_str(b.sizes()),
           " cannot be multiplied (", a.size(nd - 1), " != ", b.size(nd - 2), ")");
  FM_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", a.describe(), " and ", b.describe());
  FM_CHECK(is_floating(a.dtype()), op, ": expected float32 or float64 matrices, got ", a.describe());
}

void check_int(int64_t v, const char* op) {
  FM_CHECK(v <= std::numeric_limits<int>::max(), op, ": dimension ", v, " exceeds cuBLAS's 32-bit sizes");
}

// out[batch][m, n] = alpha * a @ b + beta * out, out contiguous; batch strides in elements.
void gemm(const char* op, const Tensor& out, const Tensor& a, const Tensor& b, int64_t batch, double alpha,
          double beta) {
  const int nd = static_cast<int>(a.dim());
  const int64_t m = a.size(nd - 2), k = a.size(nd - 1), n = b.size(nd - 1);
  for (int64_t v : {m, k, n, batch}) check_int(v, op);
  const int dev = same_cuda_device(op, {&out, &a, &b});
  const GemmOperand A = gemm_operand(a), B = gemm_operand(b);
  const int64_t sa = nd == 3 ? A.t.stride(0) : 0, sb = nd == 3 ? B.t.stride(0) : 0;
  CudaDeviceGuard guard(dev);
  cublasHandle_t h = cuda_cublas_handle(dev);
  // swapped: C^T[n, m] = op(B)[n, k] op(A)[k, m]
  if (a.dtype() == DType::Float32) {
    const float al = static_cast<float>(alpha), be = static_cast<float>(beta);
    FM_CUBLAS_CHECK(cublasSgemmStridedBatched(h, B.op, A.op, static_cast<int>(n), static_cast<int>(m),
                                              static_cast<int>(k), &al, static_cast<const float*>(B.t.raw_data()),
                                              static_cast<int>(B.ld), sb, static_cast<const float*>(A.t.raw_data()),
                                              static_cast<int>(A.ld), sa, &be, static_cast<float*>(out.raw_data()),
                                              static_cast<int>(n), m * n, static_cast<int>(batch)),
                    op);
  } else {
    FM_CUBLAS_CHECK(cublasDgemmStridedBatched(h, B.op, A.op, static_cast<int>(n), static_cast<int>(m),
                                              static_cast<int>(k), &alpha, static_cast<const double*>(B.t.raw_data()),
                                              static_cast<int>(B.ld), sb, static_cast<const double*>(A.t.raw_data()),
                                              static_cast<int>(A.ld), sa, &beta, static_cast<double*>(out.raw_data()),
                                              static_cast<int>(n), m * n, static_cast<int>(batch)),
                    op);
  }
}

}  // namespace

void mm_into(const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta) {
  check_operands(a, b, 2, "mm");
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  FM_CHECK(out.sizes() == (Shape{m, n}) && out.is_contiguous() && out.dtype() == a.dtype(), "mm: output ",
           out.describe(), " must be a contiguous ", a.dtype(), "[", m, ", ", n, "]");
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == 0) cuda::fill(out, 0.0);
    else if (beta != 1) cuda::unary_into(UnaryOp::MulScalar, out, out, beta, 0);
    return;
  }
  gemm("mm", out, a, b, 1, alpha, beta);
}

Tensor mm(const Tensor& a, const Tensor& b) {
  check_operands(a, b, 2, "mm");
  Tensor out = empty({a.size(0), b.size(1)}, {.dtype = a.dtype(), .device = a.device()});
  mm_into(out, a, b, 1, 0);
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_operands(a, b, 3, "bmm");
  FM_CHECK(a.size(0) == b.size(0), "bmm: batch sizes differ: ", a.describe(), " and ", b.describe());
  const int64_t B = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
  Tensor out = empty({B, m, n}, {.dtype = a.dtype(), .device = a.device()});
  if (out.numel() == 0) return out;
  if (k == 0) {
    cuda::fill(out, 0.0);
    return out;
  }
  gemm("bmm", out, a, b, B, 1, 0);
  return out;
}

}  // namespace fm::kernels::cuda
#endif
