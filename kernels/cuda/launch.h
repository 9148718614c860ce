#pragma once
// Launchers of the CUDA kernels (kernels/cuda/*.cu), called by the tensor-level wrappers in
// kernels/cuda/*.cpp. They take raw pointers, a merged geometry (tensor/cuda_geometry.h) and
// an explicit stream, check the launch, and exist for float and double.
#include <cuda_runtime.h>

#include "kernels/elementwise_ops.h"
#include "tensor/cuda_geometry.h"

namespace fm::kernels::cuda {

// v1: the simplest correct kernel; v2: the tuned one. Both stay, selectable for the tests.
enum class Variant { V1 = 1, V2 = 2 };

enum class ReduceKind { Sum, Max, Min, Prod };

// out = op(x): operand 0 is out, 1 is x.
template <class T>
void launch_unary(UnaryOp op, T* out, const T* x, T p0, T p1, const cuda_geom::StridedGeom<2>& g, int64_t n,
                  Variant v, cudaStream_t s);
// out = op(a, b) broadcast: operands out, a, b. R is T, or bool for comparisons/logical ops.
template <class T, class R>
void launch_binary(BinaryOp op, R* out, const T* a, const T* b, const cuda_geom::StridedGeom<3>& g, int64_t n,
                   Variant v, cudaStream_t s);
// out = cond ? a : b, broadcast: operands out, cond, a, b (one thread per element).
template <class T>
void launch_where(T* out, const bool* cond, const T* a, const T* b, const cuda_geom::StridedGeom<4>& g, int64_t n,
                  cudaStream_t s);
template <class T>
void launch_fill(T* out, T value, const cuda_geom::StridedGeom<1>& g, int64_t n, cudaStream_t s);

// out[n_out] (contiguous) = reduce over g. v2 with splits > 1 reduces in two passes through
// `workspace` (n_out * splits * 8 bytes).
template <class T>
void launch_reduce(ReduceKind op, T* out, const T* x, const cuda_geom::ReduceGeom& g, Variant v, int64_t splits,
                   void* workspace, cudaStream_t s);
// How launch_reduce would split: the caller allocates the workspace for it.
int64_t reduce_splits_for(const cuda_geom::ReduceGeom& g, Variant v, int sms);

// Softmax over D of contiguous [outer, D, inner].
template <class T>
void launch_softmax(bool log, T* y, const T* x, int64_t outer, int64_t D, int64_t inner, Variant v, cudaStream_t s);
template <class T>
void launch_softmax_backward(bool log, T* out, const T* g, const T* y, int64_t outer, int64_t D, int64_t inner,
                             Variant v, cudaStream_t s);

}  // namespace fm::kernels::cuda
