#pragma once
// The elementwise op codes, apart from kernels/elementwise.h so that the CUDA kernels (compiled
// by nvcc without the tensor headers) switch on the same enums.
#include <cstdint>

namespace fm::kernels {

enum class UnaryOp {
  Neg, Exp, Log, Log1p, Sqrt, Rsqrt, Abs, Sign, Sin, Cos, Tanh, Sigmoid, Relu, Gelu, GeluTanh,
  Silu, Erf, Reciprocal, Square, LogicalNot,
  // parametric (p0, p1)
  LeakyRelu,  // p0 = negative slope
  Elu,        // p0 = alpha
  Softplus,   // p0 = beta, p1 = threshold
  Clamp,      // p0 = min, p1 = max (NaN bounds are absent)
  PowScalar,  // p0 = exponent
  AddScalar,  // p0
  MulScalar,  // p0
  RsubScalar, // p0 - x
  RdivScalar, // p0 / x
  RpowScalar, // p0 ^ x
};

enum class BinaryOp {
  Add, Sub, Mul, Div, Pow, Minimum, Maximum,
  Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr, LogicalXor,
};

}  // namespace fm::kernels
