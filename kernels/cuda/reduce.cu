// CUDA reductions (sum, prod, max, min over any set of dims). v1: one thread per output, the
// reduced elements walked through the strided geometry. v2: one block per output (or per
// slice of an output, in two passes, when there are too few outputs to fill the device), warp
// shuffles and a block reduction, with a direct index when the reduced elements are one dense
// run. When the kept dims are the innermost (a "column" reduction) v2 keeps v1's
// thread-per-output kernel: neighbouring threads then read neighbouring addresses.
// Float sums and products accumulate in double, as on the CPU.
#include <cfloat>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

using cuda_geom::ReduceGeom;
using cuda_geom::StridedGeom;

template <class A>
struct SumF {
  static __device__ __forceinline__ A init() { return A(0); }
  __device__ __forceinline__ A operator()(A a, A b) const { return a + b; }
};
template <class A>
struct ProdF {
  static __device__ __forceinline__ A init() { return A(1); }
  __device__ __forceinline__ A operator()(A a, A b) const { return a * b; }
};
// NaN wins (PyTorch): once either side is NaN the result is NaN.
template <class A>
struct MaxF {
  static __device__ __forceinline__ A init() { return -A(INFINITY); }
  __device__ __forceinline__ A operator()(A a, A b) const { return a != a ? a : (b != b ? b : (b > a ? b : a)); }
};
template <class A>
struct MinF {
  static __device__ __forceinline__ A init() { return A(INFINITY); }
  __device__ __forceinline__ A operator()(A a, A b) const { return a != a ? a : (b != b ? b : (b < a ? b : a)); }
};

template <class T, class A, class Op>
__global__ void reduce_v1(T* out, const T* x, ReduceGeom g) {
  const Op op;
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < g.n_out; o += int64_t{gridDim.x} * blockDim.x) {
    int64_t base[1];
    g.kept.offsets(o, base);
    A acc = Op::init();
    for (int64_t j = 0; j < g.n_red; ++j) {
      int64_t off[1];
      g.red.offsets(j, off);
      acc = op(acc, static_cast<A>(x[base[0] + off[0]]));
    }
    out[o] = static_cast<T>(acc);
  }
}

// Block w reduces slice w % splits of output w / splits into out[w].
template <class Tin, class A, class Tout, class Op>
__global__ void reduce_v2(Tout* out, const Tin* __restrict__ x, ReduceGeom g, int64_t splits, bool dense) {
  __shared__ A smem[32];
  const Op op;
  const int64_t chunk = (g.n_red + splits - 1) / splits;
  for (int64_t w = blockIdx.x; w < g.n_out * splits; w += gridDim.x) {
    const int64_t o = w / splits, sp = w - o * splits;
    const int64_t begin = sp * chunk, end = min(g.n_red, begin + chunk);
    int64_t base[1];
    g.kept.offsets(o, base);
    A acc[4] = {Op::init(), Op::init(), Op::init(), Op::init()};  // independent loads in flight
    if (dense) {
      const Tin* p = x + base[0];
      int64_t j = begin + threadIdx.x;
      for (; j + 3 * int64_t{blockDim.x} < end; j += 4 * int64_t{blockDim.x}) {
#pragma unroll
        for (int k = 0; k < 4; ++k) acc[k] = op(acc[k], static_cast<A>(p[j + k * int64_t{blockDim.x}]));
      }
      for (; j < end; j += blockDim.x) acc[0] = op(acc[0], static_cast<A>(p[j]));
    } else {
      for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
        int64_t off[1];
        g.red.offsets(j, off);
        acc[0] = op(acc[0], static_cast<A>(x[base[0] + off[0]]));
      }
    }
    const A r = block_reduce(op(op(acc[0], acc[1]), op(acc[2], acc[3])), op, Op::init(), smem);
    if (threadIdx.x == 0) out[w] = static_cast<Tout>(r);
  }
}

constexpr int kThreads = 256;

bool column_reduction(const ReduceGeom& g) {
  return g.kept.ndim > 0 && g.kept.stride[0][g.kept.ndim - 1] == 1;
}
bool dense_run(const StridedGeom<1>& g) { return g.ndim == 0 || (g.ndim == 1 && g.stride[0][0] == 1); }

template <class T, class A, class Op>
void run(T* out, const T* x, const ReduceGeom& g, Variant v, int64_t splits, void* workspace, cudaStream_t s) {
  if (v == Variant::V1 || column_reduction(g) || g.n_red < 32) {
    reduce_v1<T, A, Op><<<cuda_geom::blocks_for(g.n_out, kThreads), kThreads, 0, s>>>(out, x, g);
    return;
  }
  const int64_t cap = int64_t{1} << 20;
  if (splits <= 1) {
    reduce_v2<T, A, T, Op><<<cuda_geom::blocks_for(g.n_out, 1, cap), kThreads, 0, s>>>(out, x, g, 1, dense_run(g.red));
    return;
  }
  A* part = static_cast<A*>(workspace);
  reduce_v2<T, A, A, Op><<<cuda_geom::blocks_for(g.n_out * splits, 1, cap), kThreads, 0, s>>>(part, x, g, splits,
                                                                                           dense_run(g.red));
  // second pass: [n_out, splits] partials, contiguous
  ReduceGeom g2;
  g2.n_out = g.n_out;
  g2.n_red = splits;
  g2.kept.ndim = 1;
  g2.kept.size[0] = g.n_out;
  g2.kept.stride[0][0] = splits;
  g2.red.ndim = 1;
  g2.red.size[0] = splits;
  g2.red.stride[0][0] = 1;
  reduce_v2<A, A, T, Op><<<cuda_geom::blocks_for(g.n_out, 1, cap), kThreads, 0, s>>>(out, part, g2, 1, true);
}

template <class T>
using wide_t = double;  // accumulator of sums and products (float and double inputs)

}  // namespace

int64_t reduce_splits_for(const ReduceGeom& g, Variant v, int sms) {
  if (v == Variant::V1 || column_reduction(g) || g.n_red < 32) return 1;
  return cuda_geom::reduce_splits(g.n_out, g.n_red, sms);
}

template <class T>
void launch_reduce(ReduceKind op, T* out, const T* x, const ReduceGeom& g, Variant v, int64_t splits,
                   void* workspace, cudaStream_t s) {
  if (g.n_out == 0) return;
  switch (op) {
    case ReduceKind::Sum: run<T, wide_t<T>, SumF<wide_t<T>>>(out, x, g, v, splits, workspace, s); break;
    case ReduceKind::Prod: run<T, wide_t<T>, ProdF<wide_t<T>>>(out, x, g, v, splits, workspace, s); break;
    case ReduceKind::Max: run<T, T, MaxF<T>>(out, x, g, v, splits, workspace, s); break;
    case ReduceKind::Min: run<T, T, MinF<T>>(out, x, g, v, splits, workspace, s); break;
  }
  FM_CUDA_CHECK_LAUNCH("reduce (cuda)");
}

template void launch_reduce<float>(ReduceKind, float*, const float*, const ReduceGeom&, Variant, int64_t, void*,
                                   cudaStream_t);
template void launch_reduce<double>(ReduceKind, double*, const double*, const ReduceGeom&, Variant, int64_t, void*,
                                    cudaStream_t);

}  // namespace fm::kernels::cuda
