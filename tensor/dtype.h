#pragma once
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string_view>

#include "tensor/error.h"

namespace fm {

enum class DType : uint8_t { Float32, Float64, Int64, Bool };

inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kInt64 = DType::Int64;
inline constexpr DType kBool = DType::Bool;

constexpr size_t element_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
  }
  return "?";
}

constexpr bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

// PyTorch's promotion for the dtypes we have: bool < int64 < float32 < float64.
constexpr DType promote_types(DType a, DType b) {
  auto rank = [](DType t) {
    switch (t) {
      case DType::Bool: return 0;
      case DType::Int64: return 1;
      case DType::Float32: return 2;
      case DType::Float64: return 3;
    }
    return 0;
  };
  return rank(a) >= rank(b) ? a : b;
}

inline std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };

}  // namespace fm

// Runs the body with `scalar_t` bound to the C++ type of the dtype.
#define FM_DISPATCH_CASE(DT, T, ...) \
  case DT: {                         \
    using scalar_t = T;              \
    __VA_ARGS__();                   \
    break;                           \
  }
#define FM_DISPATCH_ALL(dtype, op, ...)                                        \
  [&] {                                                                       \
    switch (dtype) {                                                          \
      FM_DISPATCH_CASE(::fm::DType::Float32, float, __VA_ARGS__)              \
      FM_DISPATCH_CASE(::fm::DType::Float64, double, __VA_ARGS__)             \
      FM_DISPATCH_CASE(::fm::DType::Int64, int64_t, __VA_ARGS__)              \
      FM_DISPATCH_CASE(::fm::DType::Bool, bool, __VA_ARGS__)                  \
    }                                                                         \
  }()
#define FM_DISPATCH_NUMERIC(dtype, op, ...)                                    \
  [&] {                                                                       \
    switch (dtype) {                                                          \
      FM_DISPATCH_CASE(::fm::DType::Float32, float, __VA_ARGS__)              \
      FM_DISPATCH_CASE(::fm::DType::Float64, double, __VA_ARGS__)             \
      FM_DISPATCH_CASE(::fm::DType::Int64, int64_t, __VA_ARGS__)              \
      default: ::fm::fail(op, ": dtype ", dtype, " is not supported (expected float32, float64 or int64)"); \
    }                                                                         \
  }()
#define FM_DISPATCH_FLOATING(dtype, op, ...)                                   \
  [&] {                                                                       \
    switch (dtype) {                                                          \
      FM_DISPATCH_CASE(::fm::DType::Float32, float, __VA_ARGS__)              \
      FM_DISPATCH_CASE(::fm::DType::Float64, double, __VA_ARGS__)             \
      default: ::fm::fail(op, ": dtype ", dtype, " is not supported (expected float32 or float64)"); \
    }                                                                         \
  }()

namespace fm {
// Function form of the dispatch, for bodies that contain `#pragma omp` (a pragma cannot sit
// inside a macro argument): dispatch_floating(dt, "op", [&]<class T>() { ... });
template <class F>
void dispatch_all(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: f.template operator()<float>(); return;
    case DType::Float64: f.template operator()<double>(); return;
    case DType::Int64: f.template operator()<int64_t>(); return;
    case DType::Bool: f.template operator()<bool>(); return;
  }
  fail(op, ": unknown dtype");
}
template <class F>
void dispatch_numeric(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: f.template operator()<float>(); return;
    case DType::Float64: f.template operator()<double>(); return;
    case DType::Int64: f.template operator()<int64_t>(); return;
    default: fail(op, ": dtype ", t, " is not supported (expected float32, float64 or int64)");
  }
}
template <class F>
void dispatch_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: f.template operator()<float>(); return;
    case DType::Float64: f.template operator()<double>(); return;
    default: fail(op, ": dtype ", t, " is not supported (expected float32 or float64)");
  }
}
}  // namespace fm
