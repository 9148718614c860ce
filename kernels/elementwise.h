#pragma once
// Elementwise kernels with NumPy broadcasting. No autograd here: autograd/elementwise.cpp
// composes these into differentiable ops. The entry points dispatch on the device.
#include "kernels/elementwise_ops.h"
#include "tensor/tensor.h"

namespace fm::kernels {

const char* unary_name(UnaryOp op);
const char* binary_name(BinaryOp op);
bool is_comparison(BinaryOp op);

// Output shape of broadcasting a and b (NumPy rules); `op` names the caller in the error.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// y = op(x). Floating ops need a floating x; LogicalNot returns bool.
Tensor unary(UnaryOp op, const Tensor& x, double p0 = 0, double p1 = 0);
// out = op(a, b) broadcast, computed in the promoted dtype; comparisons and logical ops return bool.
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
// Writes op(a, b) into `out` (same shape as the broadcast), e.g. for in-place updates.
void binary_into(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
void unary_into(UnaryOp op, const Tensor& out, const Tensor& x, double p0 = 0, double p1 = 0);
// cond ? a : b, broadcast over all three.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
void fill(const Tensor& t, double value);

// Throws, naming the op and the device, when a tensor is not on the CPU and the CUDA backend
// has no kernel for the op yet.
void require_cpu(const char* op, std::initializer_list<const Tensor*> ts);

}  // namespace fm::kernels
