// CUDA elementwise kernels. v1: one thread per element through the strided geometry (any
// layout, any broadcast). v2: when every operand is one aligned dense run (or a broadcast
// scalar), 16-byte vector loads and stores, a grid sized to fill the device, and a scalar tail.
// The op is a run-time switch, uniform across the grid: one kernel per dtype instead of one
// per op keeps nvcc time low, and these kernels wait on memory, not on the branch.
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "kernels/elementwise.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

using cuda_geom::StridedGeom;

template <class T>
__device__ __forceinline__ T unary_apply(UnaryOp op, T v, T p0, T p1) {
  switch (op) {
    case UnaryOp::Neg: return -v;
    case UnaryOp::Exp: return exp(v);
    case UnaryOp::Log: return log(v);
    case UnaryOp::Log1p: return log1p(v);
    case UnaryOp::Sqrt: return sqrt(v);
    case UnaryOp::Rsqrt: return T(1) / sqrt(v);
    case UnaryOp::Abs: return v < 0 ? -v : v;
    case UnaryOp::Sign: return static_cast<T>((v > 0) - (v < 0));
    case UnaryOp::Sin: return sin(v);
    case UnaryOp::Cos: return cos(v);
    case UnaryOp::Tanh: return tanh(v);
    case UnaryOp::Sigmoid: return T(1) / (T(1) + exp(-v));
    case UnaryOp::Relu: return v > 0 || v != v ? v : T(0);  // NaN propagates, as in PyTorch
    case UnaryOp::Gelu: return T(0.5) * v * (T(1) + erf(v * T(0.7071067811865476)));
    case UnaryOp::GeluTanh: {
      const T k = T(0.7978845608028654);  // sqrt(2/pi)
      return T(0.5) * v * (T(1) + tanh(k * (v + T(0.044715) * v * v * v)));
    }
    case UnaryOp::Silu: return v / (T(1) + exp(-v));
    case UnaryOp::Erf: return erf(v);
    case UnaryOp::Reciprocal: return T(1) / v;
    case UnaryOp::Square: return v * v;
    case UnaryOp::LogicalNot: return v == T(0) ? T(1) : T(0);  // not reached: the wrapper refuses it
    case UnaryOp::LeakyRelu: return v > 0 ? v : v * p0;
    case UnaryOp::Elu: return v > 0 ? v : p0 * expm1(v);
    case UnaryOp::Softplus: return v * p0 > p1 ? v : log1p(exp(v * p0)) / p0;
    case UnaryOp::Clamp:
      if (v != v) return v;
      if (!(p0 != p0) && v < p0) v = p0;  // NaN bounds are absent
      if (!(p1 != p1) && v > p1) v = p1;
      return v;
    case UnaryOp::PowScalar:
      if (p0 == T(2)) return v * v;
      if (p0 == T(0.5)) return sqrt(v);
      return pow(v, p0);
    case UnaryOp::AddScalar: return v + p0;
    case UnaryOp::MulScalar: return v * p0;
    case UnaryOp::RsubScalar: return p0 - v;
    case UnaryOp::RdivScalar: return p0 / v;
    case UnaryOp::RpowScalar: return pow(p0, v);
  }
  return v;
}

template <class T, class R>
__device__ __forceinline__ R binary_apply(BinaryOp op, T x, T y) {
  if constexpr (std::is_same_v<R, bool>) {
    switch (op) {
      case BinaryOp::Eq: return x == y;
      case BinaryOp::Ne: return x != y;
      case BinaryOp::Lt: return x < y;
      case BinaryOp::Le: return x <= y;
      case BinaryOp::Gt: return x > y;
      case BinaryOp::Ge: return x >= y;
      case BinaryOp::LogicalAnd: return x != T(0) && y != T(0);
      case BinaryOp::LogicalOr: return x != T(0) || y != T(0);
      case BinaryOp::LogicalXor: return (x != T(0)) != (y != T(0));
      default: return false;
    }
  } else {
    switch (op) {
      case BinaryOp::Add: return x + y;
      case BinaryOp::Sub: return x - y;
      case BinaryOp::Mul: return x * y;
      case BinaryOp::Div: return x / y;
      case BinaryOp::Pow: return pow(x, y);
      case BinaryOp::Minimum: return x != x || y != y ? x + y : (x < y ? x : y);
      case BinaryOp::Maximum: return x != x || y != y ? x + y : (x > y ? x : y);
      default: return T(0);
    }
  }
}


// ---------------- v1: strided, one element per thread ----------------

template <class T>
__global__ void unary_v1(UnaryOp op, T* out, const T* x, T p0, T p1, StridedGeom<2> g, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    int64_t off[2];
    g.offsets(i, off);
    out[off[0]] = unary_apply(op, x[off[1]], p0, p1);
  }
}

template <class T, class R>
__global__ void binary_v1(BinaryOp op, R* out, const T* a, const T* b, StridedGeom<3> g, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    int64_t off[3];
    g.offsets(i, off);
    out[off[0]] = binary_apply<T, R>(op, a[off[1]], b[off[2]]);
  }
}

template <class T>
__global__ void fill_kernel(T* out, T value, StridedGeom<1> g, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    int64_t off[1];
    g.offsets(i, off);
    out[off[0]] = value;
  }
}

template <class T>
__global__ void where_kernel(T* out, const bool* cond, const T* a, const T* b, StridedGeom<4> g, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    int64_t off[4];
    g.offsets(i, off);
    out[off[0]] = cond[off[1]] ? a[off[2]] : b[off[3]];
  }
}

// ---------------- v2: dense runs, 16-byte packs ----------------
// No __restrict__: in-place updates (out == x) are legal; each element is read, then written,
// by the same thread.

template <class T>
__global__ void unary_v2(UnaryOp op, T* out, const T* x, T p0, T p1, int64_t n) {
  constexpr int N = Pack<T>::N;
  const int64_t packs = n / N;
  for (int64_t i = global_thread(); i < packs; i += grid_threads()) {
    Pack<T> p = reinterpret_cast<const Pack<T>*>(x)[i];
#pragma unroll
    for (int k = 0; k < N; ++k) p.v[k] = unary_apply(op, p.v[k], p0, p1);
    reinterpret_cast<Pack<T>*>(out)[i] = p;
  }
  const int64_t t = packs * N + global_thread();
  if (t < n) out[t] = unary_apply(op, x[t], p0, p1);
}

// Mode 0: a and b dense; 1: b is one element; 2: a is one element.
template <class T, class R, int Mode>
__global__ void binary_v2(BinaryOp op, R* out, const T* a, const T* b, int64_t n) {
  constexpr int N = Pack<T>::N;
  const int64_t packs = n / N;
  const T as = Mode == 2 ? a[0] : T(0), bs = Mode == 1 ? b[0] : T(0);
  for (int64_t i = global_thread(); i < packs; i += grid_threads()) {
    Pack<T> pa, pb;
    if (Mode != 2) pa = reinterpret_cast<const Pack<T>*>(a)[i];
    if (Mode != 1) pb = reinterpret_cast<const Pack<T>*>(b)[i];
    R r[N];
#pragma unroll
    for (int k = 0; k < N; ++k)
      r[k] = binary_apply<T, R>(op, Mode == 2 ? as : pa.v[k], Mode == 1 ? bs : pb.v[k]);
    if constexpr (std::is_same_v<R, T>) {
      Pack<T> po;
#pragma unroll
      for (int k = 0; k < N; ++k) po.v[k] = r[k];
      reinterpret_cast<Pack<T>*>(out)[i] = po;
    } else {
#pragma unroll
      for (int k = 0; k < N; ++k) out[i * N + k] = r[k];
    }
  }
  const int64_t t = packs * N + global_thread();
  if (t < n) out[t] = binary_apply<T, R>(op, Mode == 2 ? as : a[t], Mode == 1 ? bs : b[t]);
}

int current_sms() {
  int dev = 0;
  FM_CUDA_CHECK(cudaGetDevice(&dev), "cuda kernels: current device");
  return cuda_device_properties(dev).multiProcessorCount;
}

constexpr int kThreads = 256;

// Enough resident threads to fill every multiprocessor (2048 threads each), no more: the
// grid-stride loops cover the rest with fewer block launches.
int64_t fill_grid(int64_t work_items) { return cuda_geom::blocks_for(work_items, kThreads, int64_t{8} * current_sms()); }
int64_t v1_grid(int64_t n) { return cuda_geom::blocks_for(n, kThreads, int64_t{1} << 20); }

// A single-element operand of a binary op: every stride zero.
bool is_scalar_operand(const StridedGeom<3>& g, int k) {
  for (int d = 0; d < g.ndim; ++d)
    if (g.stride[k][d] != 0) return false;
  return true;
}
bool dense_operand(const StridedGeom<3>& g, int k) {
  return g.ndim == 0 || (g.ndim == 1 && g.stride[k][0] == 1);
}

}  // namespace

template <class T>
void launch_unary(UnaryOp op, T* out, const T* x, T p0, T p1, const StridedGeom<2>& g, int64_t n, Variant v,
                  cudaStream_t s) {
  if (n == 0) return;
  if (v == Variant::V2 && cuda_geom::all_contiguous(g) && cuda_geom::aligned_to({out, x}, 16)) {
    unary_v2<<<fill_grid((n + Pack<T>::N - 1) / Pack<T>::N), kThreads, 0, s>>>(op, out, x, p0, p1, n);
  } else {
    unary_v1<<<v1_grid(n), kThreads, 0, s>>>(op, out, x, p0, p1, g, n);
  }
  FM_CUDA_CHECK_LAUNCH(unary_name(op));
}

template <class T, class R>
void launch_binary(BinaryOp op, R* out, const T* a, const T* b, const StridedGeom<3>& g, int64_t n, Variant v,
                   cudaStream_t s) {
  if (n == 0) return;
  const int64_t grid = fill_grid((n + Pack<T>::N - 1) / Pack<T>::N);
  const bool v2 = v == Variant::V2 && dense_operand(g, 0) && cuda_geom::aligned_to({out, a, b}, 16);
  if (v2 && dense_operand(g, 1) && dense_operand(g, 2)) {
    binary_v2<T, R, 0><<<grid, kThreads, 0, s>>>(op, out, a, b, n);
  } else if (v2 && dense_operand(g, 1) && is_scalar_operand(g, 2)) {
    binary_v2<T, R, 1><<<grid, kThreads, 0, s>>>(op, out, a, b, n);
  } else if (v2 && is_scalar_operand(g, 1) && dense_operand(g, 2)) {
    binary_v2<T, R, 2><<<grid, kThreads, 0, s>>>(op, out, a, b, n);
  } else {
    binary_v1<T, R><<<v1_grid(n), kThreads, 0, s>>>(op, out, a, b, g, n);
  }
  FM_CUDA_CHECK_LAUNCH(binary_name(op));
}

template <class T>
void launch_fill(T* out, T value, const StridedGeom<1>& g, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  fill_kernel<<<v1_grid(n), kThreads, 0, s>>>(out, value, g, n);
  FM_CUDA_CHECK_LAUNCH("fill_");
}

template <class T>
void launch_where(T* out, const bool* cond, const T* a, const T* b, const StridedGeom<4>& g, int64_t n,
                  cudaStream_t s) {
  if (n == 0) return;
  where_kernel<<<v1_grid(n), kThreads, 0, s>>>(out, cond, a, b, g, n);
  FM_CUDA_CHECK_LAUNCH("where");
}

template void launch_unary<float>(UnaryOp, float*, const float*, float, float, const StridedGeom<2>&, int64_t,
                                  Variant, cudaStream_t);
template void launch_unary<double>(UnaryOp, double*, const double*, double, double, const StridedGeom<2>&,
                                   int64_t, Variant, cudaStream_t);
template void launch_binary<float, float>(BinaryOp, float*, const float*, const float*, const StridedGeom<3>&,
                                          int64_t, Variant, cudaStream_t);
template void launch_binary<double, double>(BinaryOp, double*, const double*, const double*,
                                            const StridedGeom<3>&, int64_t, Variant, cudaStream_t);
template void launch_binary<float, bool>(BinaryOp, bool*, const float*, const float*, const StridedGeom<3>&,
                                         int64_t, Variant, cudaStream_t);
template void launch_binary<double, bool>(BinaryOp, bool*, const double*, const double*, const StridedGeom<3>&,
                                          int64_t, Variant, cudaStream_t);
template void launch_fill<float>(float*, float, const StridedGeom<1>&, int64_t, cudaStream_t);
template void launch_fill<double>(double*, double, const StridedGeom<1>&, int64_t, cudaStream_t);
template void launch_fill<int64_t>(int64_t*, int64_t, const StridedGeom<1>&, int64_t, cudaStream_t);
template void launch_fill<bool>(bool*, bool, const StridedGeom<1>&, int64_t, cudaStream_t);
template void launch_where<float>(float*, const bool*, const float*, const float*, const StridedGeom<4>&, int64_t,
                                  cudaStream_t);
template void launch_where<double>(double*, const bool*, const double*, const double*, const StridedGeom<4>&,
                                   int64_t, cudaStream_t);
template void launch_where<int64_t>(int64_t*, const bool*, const int64_t*, const int64_t*, const StridedGeom<4>&,
                                    int64_t, cudaStream_t);
template void launch_where<bool>(bool*, const bool*, const bool*, const bool*, const StridedGeom<4>&, int64_t,
                                 cudaStream_t);

}  // namespace fm::kernels::cuda
