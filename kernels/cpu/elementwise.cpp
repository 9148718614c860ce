// CPU elementwise kernels. Each op is a scalar functor; the loop below picks a contiguous,
// scalar-broadcast or general strided inner loop so the compiler vectorises the common cases.
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/fast_math.h"
#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

namespace {

template <class T, class F>
void unary_loop(const Tensor& out, const Tensor& x, F f) {
  for_each_strided<2>(out.sizes(), {byte_ptr(out), byte_ptr(x)}, byte_strides_of<2>({&out, &x}),
                      [&](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
                        T* o = reinterpret_cast<T*>(p[0]);
                        const T* a = reinterpret_cast<const T*>(p[1]);
                        if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
#pragma omp simd
                          for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
                        } else {
                          for (int64_t i = 0; i < n; ++i)
                            *reinterpret_cast<T*>(p[0] + i * s[0]) =
                                f(*reinterpret_cast<const T*>(p[1] + i * s[1]));
                        }
                      });
}

// float32 ops with a vectorised implementation (kernels/cpu/fast_math.h): contiguous runs go
// through it 16 lanes at a time, strided elements one by one through the same arithmetic.
template <class VF>
void unary_loop_vec(const Tensor& out, const Tensor& x, VF vf) {
  for_each_strided<2>(out.sizes(), {byte_ptr(out), byte_ptr(x)}, byte_strides_of<2>({&out, &x}),
                      [&](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
                        if (s[0] == sizeof(float) && s[1] == sizeof(float)) {
                          vec::map(reinterpret_cast<const float*>(p[1]), reinterpret_cast<float*>(p[0]), n, vf);
                        } else {
                          for (int64_t i = 0; i < n; ++i)
                            *reinterpret_cast<float*>(p[0] + i * s[0]) =
                                vec::apply1(*reinterpret_cast<const float*>(p[1] + i * s[1]), vf);
                        }
                      });
}

template <class T>
void unary_typed(UnaryOp op, const Tensor& out, const Tensor& x, T p0, T p1) {
  using std::abs;
  switch (op) {
    case UnaryOp::Neg: return unary_loop<T>(out, x, [](T v) { return -v; });
    case UnaryOp::Abs: return unary_loop<T>(out, x, [](T v) { return v < 0 ? -v : v; });
    case UnaryOp::Sign: return unary_loop<T>(out, x, [](T v) { return static_cast<T>((v > 0) - (v < 0)); });
    case UnaryOp::Square: return unary_loop<T>(out, x, [](T v) { return v * v; });
    // NaN propagates (v != v), as in PyTorch
    case UnaryOp::Relu: return unary_loop<T>(out, x, [](T v) { return v > 0 || v != v ? v : T(0); });
    case UnaryOp::Clamp:
      return unary_loop<T>(out, x, [=](T v) {
        if (std::isnan(static_cast<double>(v))) return v;
        if (!std::isnan(static_cast<double>(p0)) && v < p0) v = p0;
        if (!std::isnan(static_cast<double>(p1)) && v > p1) v = p1;
        return v;
      });
    case UnaryOp::AddScalar: return unary_loop<T>(out, x, [=](T v) { return v + p0; });
    case UnaryOp::MulScalar: return unary_loop<T>(out, x, [=](T v) { return v * p0; });
    case UnaryOp::RsubScalar: return unary_loop<T>(out, x, [=](T v) { return p0 - v; });
    default: break;
  }
  if constexpr (std::is_same_v<T, float>) {
    switch (op) {
      case UnaryOp::Exp: return unary_loop_vec(out, x, [](vec::vfloat v) { return vec::exp(v); });
      case UnaryOp::Gelu: return unary_loop_vec(out, x, [](vec::vfloat v) { return vec::gelu(v); });
      default: break;
    }
  }
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case UnaryOp::Exp: return unary_loop<T>(out, x, [](T v) { return std::exp(v); });
      case UnaryOp::Log: return unary_loop<T>(out, x, [](T v) { return std::log(v); });
      case UnaryOp::Log1p: return unary_loop<T>(out, x, [](T v) { return std::log1p(v); });
      case UnaryOp::Sqrt: return unary_loop<T>(out, x, [](T v) { return std::sqrt(v); });
      case UnaryOp::Rsqrt: return unary_loop<T>(out, x, [](T v) { return T(1) / std::sqrt(v); });
      case UnaryOp::Sin: return unary_loop<T>(out, x, [](T v) { return std::sin(v); });
      case UnaryOp::Cos: return unary_loop<T>(out, x, [](T v) { return std::cos(v); });
      case UnaryOp::Tanh: return unary_loop<T>(out, x, [](T v) { return std::tanh(v); });
      case UnaryOp::Erf: return unary_loop<T>(out, x, [](T v) { return std::erf(v); });
      case UnaryOp::Reciprocal: return unary_loop<T>(out, x, [](T v) { return T(1) / v; });
      case UnaryOp::Sigmoid:
        return unary_loop<T>(out, x, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
      case UnaryOp::Silu: return unary_loop<T>(out, x, [](T v) { return v / (T(1) + std::exp(-v)); });
      case UnaryOp::Gelu:
        return unary_loop<T>(out, x, [](T v) { return T(0.5) * v * (T(1) + std::erf(v * T(M_SQRT1_2))); });
      case UnaryOp::GeluTanh:
        return unary_loop<T>(out, x, [](T v) {
          const T k = T(0.7978845608028654);  // sqrt(2/pi)
          return T(0.5) * v * (T(1) + std::tanh(k * (v + T(0.044715) * v * v * v)));
        });
      case UnaryOp::LeakyRelu: return unary_loop<T>(out, x, [=](T v) { return v > 0 ? v : v * p0; });
      case UnaryOp::Elu: return unary_loop<T>(out, x, [=](T v) { return v > 0 ? v : p0 * std::expm1(v); });
      case UnaryOp::Softplus:
        // PyTorch: linear above threshold/beta for numerical stability
        return unary_loop<T>(out, x, [=](T v) {
          return v * p0 > p1 ? v : std::log1p(std::exp(v * p0)) / p0;
        });
      case UnaryOp::PowScalar:
        if (p0 == T(2)) return unary_loop<T>(out, x, [](T v) { return v * v; });
        if (p0 == T(0.5)) return unary_loop<T>(out, x, [](T v) { return std::sqrt(v); });
        return unary_loop<T>(out, x, [=](T v) { return std::pow(v, p0); });
      case UnaryOp::RdivScalar: return unary_loop<T>(out, x, [=](T v) { return p0 / v; });
      case UnaryOp::RpowScalar: return unary_loop<T>(out, x, [=](T v) { return std::pow(p0, v); });
      default: break;
    }
  } else {
    if (op == UnaryOp::PowScalar)
      return unary_loop<T>(out, x, [=](T v) {
        T r = 1;
        for (int64_t e = static_cast<int64_t>(p0); e > 0; --e) r *= v;
        return r;
      });
  }
  fail(unary_name(op), ": not defined for dtype ", x.dtype());
}

template <class T, class R, class F>
void binary_loop(const Tensor& out, const Tensor& a, const Tensor& b, const std::array<Shape, 3>& st,
                 F f) {
  for_each_strided<3>(out.sizes(), {byte_ptr(out), byte_ptr(a), byte_ptr(b)}, st,
                      [&](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n) {
                        R* o = reinterpret_cast<R*>(p[0]);
                        const T* x = reinterpret_cast<const T*>(p[1]);
                        const T* y = reinterpret_cast<const T*>(p[2]);
                        constexpr int64_t ts = sizeof(T), rs = sizeof(R);
                        if (s[0] == rs && s[1] == ts && s[2] == ts) {
#pragma omp simd
                          for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
                        } else if (s[0] == rs && s[1] == ts && s[2] == 0) {
                          const T yv = *y;
#pragma omp simd
                          for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
                        } else if (s[0] == rs && s[1] == 0 && s[2] == ts) {
                          const T xv = *x;
#pragma omp simd
                          for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
                        } else {
                          for (int64_t i = 0; i < n; ++i)
                            *reinterpret_cast<R*>(p[0] + i * s[0]) =
                                f(*reinterpret_cast<const T*>(p[1] + i * s[1]),
                                  *reinterpret_cast<const T*>(p[2] + i * s[2]));
                        }
                      });
}

// Byte strides of `t` viewed at `out_shape` (broadcast dims get stride 0).
Shape broadcast_byte_strides(const Tensor& t, const Shape& out_shape) {
  Shape s(out_shape.size(), 0);
  const int64_t off = static_cast<int64_t>(out_shape.size()) - t.dim();
  for (int64_t d = 0; d < t.dim(); ++d)
    s[off + d] = t.size(d) == 1 ? 0 : t.stride(d) * static_cast<int64_t>(t.element_size());
  return s;
}

template <class T>
void binary_typed(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  const std::array<Shape, 3> st = {broadcast_byte_strides(out, out.sizes()),
                                   broadcast_byte_strides(a, out.sizes()),
                                   broadcast_byte_strides(b, out.sizes())};
  switch (op) {
    case BinaryOp::Add: return binary_loop<T, T>(out, a, b, st, [](T x, T y) { return x + y; });
    case BinaryOp::Sub: return binary_loop<T, T>(out, a, b, st, [](T x, T y) { return x - y; });
    case BinaryOp::Mul: return binary_loop<T, T>(out, a, b, st, [](T x, T y) { return x * y; });
    case BinaryOp::Div:
      if constexpr (std::is_integral_v<T>) fail("div: integer division is not supported; convert to float");
      else return binary_loop<T, T>(out, a, b, st, [](T x, T y) { return x / y; });
    case BinaryOp::Pow:
      if constexpr (std::is_integral_v<T>) fail("pow: integer tensors are not supported; convert to float");
      else return binary_loop<T, T>(out, a, b, st, [](T x, T y) { return std::pow(x, y); });
    case BinaryOp::Minimum:
      return binary_loop<T, T>(out, a, b, st, [](T x, T y) {
        if constexpr (std::is_floating_point_v<T>) if (x != x || y != y) return x + y;  // NaN propagates
        return x < y ? x : y;
      });
    case BinaryOp::Maximum:
      return binary_loop<T, T>(out, a, b, st, [](T x, T y) {
        if constexpr (std::is_floating_point_v<T>) if (x != x || y != y) return x + y;
        return x > y ? x : y;
      });
    case BinaryOp::Eq: return binary_loop<T, bool>(out, a, b, st, [](T x, T y) { return x == y; });
    case BinaryOp::Ne: return binary_loop<T, bool>(out, a, b, st, [](T x, T y) { return x != y; });
    case BinaryOp::Lt: return binary_loop<T, bool>(out, a, b, st, [](T x, T y) { return x < y; });
    case BinaryOp::Le: return binary_loop<T, bool>(out, a, b, st, [](T x, T y) { return x <= y; });
    case BinaryOp::Gt: return binary_loop<T, bool>(out, a, b, st, [](T x, T y) { return x > y; });
    case BinaryOp::Ge: return binary_loop<T, bool>(out, a, b, st, [](T x, T y) { return x >= y; });
    case BinaryOp::LogicalAnd:
      return binary_loop<T, bool>(out, a, b, st, [](T x, T y) { return x != T(0) && y != T(0); });
    case BinaryOp::LogicalOr:
      return binary_loop<T, bool>(out, a, b, st, [](T x, T y) { return x != T(0) || y != T(0); });
    case BinaryOp::LogicalXor:
      return binary_loop<T, bool>(out, a, b, st, [](T x, T y) { return (x != T(0)) != (y != T(0)); });
  }
}

}  // namespace

const char* unary_name(UnaryOp op) {
  static const char* names[] = {"neg", "exp", "log", "log1p", "sqrt", "rsqrt", "abs", "sign",
                                "sin", "cos", "tanh", "sigmoid", "relu", "gelu", "gelu(tanh)",
                                "silu", "erf", "reciprocal", "square", "logical_not",
                                "leaky_relu", "elu", "softplus", "clamp", "pow", "add", "mul",
                                "rsub", "rdiv", "rpow"};
  return names[static_cast<int>(op)];
}

const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "pow", "minimum", "maximum",
                                "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
                                "logical_or", "logical_xor"};
  return names[static_cast<int>(op)];
}

bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

void require_cpu(const char* op, std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    FM_CHECK(t->device().is_cpu(), op, ": got ", t->describe(),
             "; this op has no CUDA kernel in this build yet (the CUDA backend issue adds it)");
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    FM_CHECK(x == y || x == 1 || y == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
             " cannot be broadcast together (dimension ", i, ": ", x, " vs ", y, ")");
    out[i] = x == 1 ? y : x;
  }
  return out;
}

void unary_into(UnaryOp op, const Tensor& out, const Tensor& x, double p0, double p1) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&out, &x}), cuda::unary_into(op, out, x, p0, p1));
  require_cpu(unary_name(op), {&out, &x});
  FM_CHECK(out.sizes() == x.sizes(), unary_name(op), ": output ", out.describe(), " and input ",
           x.describe(), " differ in shape");
  if (op == UnaryOp::LogicalNot) {
    FM_CHECK(out.dtype() == DType::Bool, "logical_not: output must be bool");
    Tensor xb = to_raw(x, DType::Bool, x.device());
    return unary_loop<bool>(out, xb, [](bool v) { return !v; });
  }
  Tensor xs = x.dtype() == out.dtype() ? x : to_raw(x, out.dtype(), x.device());
  FM_DISPATCH_NUMERIC(out.dtype(), unary_name(op), [&] {
    unary_typed<scalar_t>(op, out, xs, static_cast<scalar_t>(p0), static_cast<scalar_t>(p1));
  });
}

Tensor unary(UnaryOp op, const Tensor& x, double p0, double p1) {
  DType dt = op == UnaryOp::LogicalNot ? DType::Bool : x.dtype();
  Tensor out = empty(x.sizes(), {.dtype = dt, .device = x.device()});
  unary_into(op, out, x, p0, p1);
  return out;
}

void binary_into(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&out, &a, &b}), cuda::binary_into(op, out, a, b));
  require_cpu(binary_name(op), {&out, &a, &b});
  const Shape shape = broadcast_shapes(a.sizes(), b.sizes(), binary_name(op));
  FM_CHECK(out.sizes() == shape, binary_name(op), ": output ", out.describe(),
           " does not match the broadcast shape ", shape_str(shape));
  DType ct = promote_types(a.dtype(), b.dtype());
  if (op >= BinaryOp::LogicalAnd) ct = DType::Bool;
  if (ct == DType::Bool && op < BinaryOp::Eq) ct = DType::Int64;  // arithmetic on bools
  const Tensor x = a.dtype() == ct ? a : to_raw(a, ct, a.device());
  const Tensor y = b.dtype() == ct ? b : to_raw(b, ct, b.device());
  const bool cmp = is_comparison(op);
  const DType want = cmp ? DType::Bool : ct;
  if (out.dtype() != want) {
    Tensor tmp = empty(out.sizes(), {.dtype = want});
    binary_into(op, tmp, x, y);
    copy_into(out, tmp);
    return;
  }
  FM_DISPATCH_ALL(ct, binary_name(op), [&] {
    if constexpr (std::is_same_v<scalar_t, bool>) {
      FM_CHECK(cmp, binary_name(op), ": not defined for bool tensors");
      binary_typed<bool>(op, out, x, y);
    } else {
      binary_typed<scalar_t>(op, out, x, y);
    }
  });
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const Shape shape = broadcast_shapes(a.sizes(), b.sizes(), binary_name(op));
  DType ct = promote_types(a.dtype(), b.dtype());
  if (ct == DType::Bool && op < BinaryOp::Eq) ct = DType::Int64;
  Tensor out = empty(shape, {.dtype = is_comparison(op) ? DType::Bool : ct, .device = a.device()});
  binary_into(op, out, a, b);
  return out;
}

namespace {
// cond ? a : b as a bit select, which vectorises (GCC keeps `c ? a : b` on floats as a branch,
// and a branch on a random condition mispredicts half the time: ~5 ns an element). Exact for
// every value, NaNs and infinities included.
template <class T>
inline T select_bits(bool c, T a, T b) {
  using U = std::conditional_t<sizeof(T) == 8, uint64_t,
                               std::conditional_t<sizeof(T) == 4, uint32_t,
                                                  std::conditional_t<sizeof(T) == 2, uint16_t, uint8_t>>>;
  const U m = static_cast<U>(U{0} - static_cast<U>(c));
  return std::bit_cast<T>(static_cast<U>((std::bit_cast<U>(a) & m) | (std::bit_cast<U>(b) & static_cast<U>(~m))));
}
}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&cond, &a, &b}), cuda::where(cond, a, b));
  require_cpu("where", {&cond, &a, &b});
  const Shape shape =
      broadcast_shapes(cond.sizes(), broadcast_shapes(a.sizes(), b.sizes(), "where"), "where");
  const DType ct = promote_types(a.dtype(), b.dtype());
  const Tensor c = to_raw(cond, DType::Bool, cond.device());
  const Tensor x = to_raw(a, ct, a.device()), y = to_raw(b, ct, b.device());
  Tensor out = empty(shape, {.dtype = ct, .device = a.device()});
  const std::array<Shape, 4> st = {broadcast_byte_strides(out, shape), broadcast_byte_strides(c, shape),
                                   broadcast_byte_strides(x, shape), broadcast_byte_strides(y, shape)};
  FM_DISPATCH_ALL(ct, "where", [&] {
    using T = scalar_t;
    for_each_strided<4>(shape, {byte_ptr(out), byte_ptr(c), byte_ptr(x), byte_ptr(y)}, st,
                        [](std::array<char*, 4> p, std::array<int64_t, 4> s, int64_t n) {
                          // Contiguous out and cond, each value contiguous or one scalar (ReLU's
                          // gradient is where(y <= 0, 0, g)): typed loops of bit selects.
                          constexpr int64_t e = sizeof(T);
                          if (s[0] == e && s[1] == 1 && (s[2] == e || s[2] == 0) && (s[3] == e || s[3] == 0)) {
                            T* o = reinterpret_cast<T*>(p[0]);
                            const bool* c = reinterpret_cast<const bool*>(p[1]);
                            const T* a = reinterpret_cast<const T*>(p[2]);
                            const T* b = reinterpret_cast<const T*>(p[3]);
                            if (s[2] == 0 && s[3] == e) {
                              const T av = *a;
                              for (int64_t i = 0; i < n; ++i) o[i] = select_bits<T>(c[i], av, b[i]);
                            } else if (s[2] == e && s[3] == 0) {
                              const T bv = *b;
                              for (int64_t i = 0; i < n; ++i) o[i] = select_bits<T>(c[i], a[i], bv);
                            } else if (s[2] == e && s[3] == e) {
                              for (int64_t i = 0; i < n; ++i) o[i] = select_bits<T>(c[i], a[i], b[i]);
                            } else {
                              const T av = *a, bv = *b;
                              for (int64_t i = 0; i < n; ++i) o[i] = select_bits<T>(c[i], av, bv);
                            }
                            return;
                          }
                          for (int64_t i = 0; i < n; ++i)
                            *reinterpret_cast<T*>(p[0] + i * s[0]) =
                                *reinterpret_cast<const bool*>(p[1] + i * s[1])
                                    ? *reinterpret_cast<const T*>(p[2] + i * s[2])
                                    : *reinterpret_cast<const T*>(p[3] + i * s[3]);
                        });
  });
  return out;
}

void fill(const Tensor& t, double value) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&t}), cuda::fill(t, value));
  require_cpu("fill_", {&t});
  FM_DISPATCH_ALL(t.dtype(), "fill_", [&] {
    const scalar_t v = static_cast<scalar_t>(value);
    unary_loop<scalar_t>(t, t, [v](scalar_t) { return v; });
  });
}

}  // namespace fm::kernels
