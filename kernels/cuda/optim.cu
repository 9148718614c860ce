// Fused CUDA optimizer steps, in place: each element's update is kernels/cpu/optim.cpp's,
// operation for operation (PyTorch 1.13's order), so the two agree to rounding (nvcc may fuse a
// multiply and an add where the CPU compiler does not).
// v1: one thread per element, grid-stride. v2: the arrays in 16-byte packs (4 floats or 2
// doubles per load) with a grid sized to fill the device and a scalar tail; unaligned arrays
// run v1.
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {


// The K arrays of one update; element 1 is the gradient (read only). Null arrays are states the
// update does not use: they read as 0 and are not written.
template <class T, int K>
struct Arrays {
  T* a[K];
};

// e: param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq
template <class T>
struct AdamOp {
  static constexpr int K = 5;
  AdamArgs<T> h;
  __device__ __forceinline__ void operator()(T (&e)[K]) const {
    T& p = e[0];
    T gi = h.maximize ? -e[1] : e[1];
    if (h.decoupled) p *= h.decay;
    else if (h.weight_decay != 0) gi = gi + h.weight_decay * p;
    e[2] = e[2] * h.beta1 + h.one_minus_beta1 * gi;
    e[3] = e[3] * h.beta2 + h.one_minus_beta2 * gi * gi;
    T denom;
    if (h.amsgrad) {
      e[4] = e[4] < e[3] ? e[3] : e[4];  // std::max's choice when one side is NaN
      denom = sqrt(e[4]) / h.bc2_sqrt + h.eps;
    } else {
      denom = sqrt(e[3]) / h.bc2_sqrt + h.eps;
    }
    p += -h.step_size * (e[2] / denom);
  }
};

// e: param, grad, momentum_buffer
template <class T>
struct SgdOp {
  static constexpr int K = 3;
  SgdArgs<T> h;
  __device__ __forceinline__ void operator()(T (&e)[K]) const {
    T d = h.maximize ? -e[1] : e[1];
    if (h.weight_decay != 0) d = d + h.weight_decay * e[0];
    if (h.use_momentum) {
      e[2] = h.first ? d : e[2] * h.momentum + h.one_minus_dampening * d;
      d = h.nesterov ? d + h.momentum * e[2] : e[2];
    }
    e[0] += -h.lr * d;
  }
};

// e: param, grad, square_avg, grad_avg, momentum_buffer
template <class T>
struct RmspropOp {
  static constexpr int K = 5;
  RmspropArgs<T> h;
  __device__ __forceinline__ void operator()(T (&e)[K]) const {
    T gi = h.maximize ? -e[1] : e[1];
    if (h.weight_decay != 0) gi = gi + h.weight_decay * e[0];
    e[2] = e[2] * h.alpha + h.one_minus_alpha * gi * gi;
    T avg;
    if (h.centered) {
      e[3] = e[3] * h.alpha + h.one_minus_alpha * gi;
      avg = sqrt(e[2] - e[3] * e[3]) + h.eps;
    } else {
      avg = sqrt(e[2]) + h.eps;
    }
    if (h.use_momentum) {
      e[4] = e[4] * h.momentum + gi / avg;
      e[0] += -h.lr * e[4];
    } else {
      e[0] += -h.lr * (gi / avg);
    }
  }
};

template <class T, class Op>
__device__ __forceinline__ void update_one(const Arrays<T, Op::K>& a, int64_t i, const Op& op) {
  T e[Op::K];
#pragma unroll
  for (int k = 0; k < Op::K; ++k) e[k] = a.a[k] ? a.a[k][i] : T(0);
  op(e);
#pragma unroll
  for (int k = 0; k < Op::K; ++k)
    if (k != 1 && a.a[k]) a.a[k][i] = e[k];
}

template <class T, class Op>
__global__ void optim_v1(Arrays<T, Op::K> a, int64_t n, Op op) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) update_one(a, i, op);
}

template <class T, class Op>
__global__ void optim_v2(Arrays<T, Op::K> a, int64_t n, Op op) {
  constexpr int N = Pack<T>::N, K = Op::K;
  const int64_t packs = n / N;
  for (int64_t q = global_thread(); q < packs; q += grid_threads()) {
    Pack<T> r[K];
#pragma unroll
    for (int k = 0; k < K; ++k) {
      if (a.a[k]) {
        r[k] = reinterpret_cast<const Pack<T>*>(a.a[k])[q];
      } else {
#pragma unroll
        for (int l = 0; l < N; ++l) r[k].v[l] = T(0);
      }
    }
#pragma unroll
    for (int l = 0; l < N; ++l) {
      T e[K];
#pragma unroll
      for (int k = 0; k < K; ++k) e[k] = r[k].v[l];
      op(e);
#pragma unroll
      for (int k = 0; k < K; ++k) r[k].v[l] = e[k];
    }
#pragma unroll
    for (int k = 0; k < K; ++k)
      if (k != 1 && a.a[k]) reinterpret_cast<Pack<T>*>(a.a[k])[q] = r[k];
  }
  const int64_t t = packs * N + global_thread();
  if (t < n) update_one(a, t, op);
}

constexpr int kThreads = 256;

int current_sms() {
  int dev = 0;
  FM_CUDA_CHECK(cudaGetDevice(&dev), "cuda kernels: current device");
  return cuda_device_properties(dev).multiProcessorCount;
}

template <class T, class Op>
void run(const char* op_name, const Arrays<T, Op::K>& a, int64_t n, const Op& op, Variant v, cudaStream_t s) {
  if (n == 0) return;
  bool aligned = true;
  for (int k = 0; k < Op::K; ++k) aligned = aligned && cuda_geom::aligned_to({a.a[k]}, 16);
  if (v == Variant::V2 && aligned) {
    // enough resident threads to fill every multiprocessor; the grid-stride loop does the rest
    const int64_t grid = cuda_geom::blocks_for((n + Pack<T>::N - 1) / Pack<T>::N, kThreads, int64_t{8} * current_sms());
    optim_v2<T, Op><<<grid, kThreads, 0, s>>>(a, n, op);
  } else {
    optim_v1<T, Op><<<cuda_geom::blocks_for(n, kThreads), kThreads, 0, s>>>(a, n, op);
  }
  FM_CUDA_CHECK_LAUNCH(op_name);
}

}  // namespace

template <class T>
void launch_adam(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, int64_t n,
                 const AdamArgs<T>& h, Variant v, cudaStream_t s) {
  const Arrays<T, 5> a{{param, const_cast<T*>(grad), exp_avg, exp_avg_sq, h.amsgrad ? max_exp_avg_sq : nullptr}};
  run<T>("adam (cuda)", a, n, AdamOp<T>{h}, v, s);
}

template <class T>
void launch_sgd(T* param, const T* grad, T* momentum_buffer, int64_t n, const SgdArgs<T>& h, Variant v,
                cudaStream_t s) {
  const Arrays<T, 3> a{{param, const_cast<T*>(grad), h.use_momentum ? momentum_buffer : nullptr}};
  run<T>("sgd (cuda)", a, n, SgdOp<T>{h}, v, s);
}

template <class T>
void launch_rmsprop(T* param, const T* grad, T* square_avg, T* grad_avg, T* momentum_buffer, int64_t n,
                    const RmspropArgs<T>& h, Variant v, cudaStream_t s) {
  const Arrays<T, 5> a{{param, const_cast<T*>(grad), square_avg, h.centered ? grad_avg : nullptr,
                        h.use_momentum ? momentum_buffer : nullptr}};
  run<T>("rmsprop (cuda)", a, n, RmspropOp<T>{h}, v, s);
}

#define FM_OPTIM_INSTANTIATE(T)                                                                                \
  template void launch_adam<T>(T*, const T*, T*, T*, T*, int64_t, const AdamArgs<T>&, Variant, cudaStream_t); \
  template void launch_sgd<T>(T*, const T*, T*, int64_t, const SgdArgs<T>&, Variant, cudaStream_t);          \
  template void launch_rmsprop<T>(T*, const T*, T*, T*, T*, int64_t, const RmspropArgs<T>&, Variant, cudaStream_t);
FM_OPTIM_INSTANTIATE(float)
FM_OPTIM_INSTANTIATE(double)
#undef FM_OPTIM_INSTANTIATE

}  // namespace fm::kernels::cuda
