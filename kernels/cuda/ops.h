#pragma once
// The CUDA side of the kernels/*.h entry points. Each entry point that has a CUDA kernel
// starts with
//   FM_CUDA_DISPATCH(x.device().is_cuda(), cuda::op(...));
// which, in a CUDA build, returns cuda::op(...) for CUDA tensors; in a build without CUDA it
// is nothing (no CUDA tensor can exist there). Ops without a CUDA kernel keep require_cpu(),
// whose error names the device.
#include <utility>
#include <vector>

#include "kernels/elementwise_ops.h"
#include "tensor/tensor.h"

#ifdef FERMATA_WITH_CUDA
#define FM_CUDA_DISPATCH(cond, call) \
  do {                               \
    if (cond) return call;           \
  } while (0)
#else
#define FM_CUDA_DISPATCH(cond, call) \
  do {                               \
  } while (0)
#endif

namespace fm::kernels {
enum class ReduceOp;
}

namespace fm::kernels::cuda {

// Which variant the CUDA entry points launch: 1 = the simple kernels, 2 = the tuned ones (the
// default). The gpu tests run both; FERMATA_CUDA_KERNELS=1 in the environment picks v1.
void set_kernel_variant(int v);
int kernel_variant();

// Any tensor of `ts` on CUDA (the dispatch condition of the entry points).
bool any_cuda(std::initializer_list<const Tensor*> ts);

void unary_into(UnaryOp op, const Tensor& out, const Tensor& x, double p0, double p1);
void binary_into(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
void fill(const Tensor& t, double value);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<bool>& mask, bool keepdim);
Tensor softmax(const Tensor& x, int64_t dim, bool log);
Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t dim, bool log);
void mm_into(const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta);
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);

}  // namespace fm::kernels::cuda
