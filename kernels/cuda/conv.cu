// CUDA convolution kernels; the per-thread work is in kernels/cuda/conv_tile.h (shared with the
// CPU emulation test), the GEMMs are cuBLAS calls made by kernels/cuda/conv.cpp.
// v1 and the backward passes: im2col (one thread per column element, zeros outside the input)
// and col2im (one thread per input element gathering the column entries that read it, so no
// atomics), plus per-channel bias fill and the bias gradient (one block per channel, summed in
// double in a fixed order, so it is deterministic).
// v2 forward: an implicit GEMM, float32 only (kernels/cuda/conv_plan.h says when it runs):
// 64 x 64 tiles of [output channels x positions] with the input patch gathered on the fly into
// double-buffered shared memory and 8 x 8 outputs per thread in registers, exact FP32.
#include "kernels/cuda/conv_plan.h"
#include "kernels/cuda/conv_tile.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/launch.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {
namespace {

constexpr int kThreads = 256;

// Grid-stride over (plane z, row y, column x); see conv_grid.
#define FM_CONV_LOOP3(planes, rows, cols)                                                       \
  for (int64_t z = blockIdx.z; z < (planes); z += gridDim.z)                                    \
    for (int64_t r = blockIdx.y; r < (rows); r += gridDim.y)                                    \
      for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < (cols); j += int64_t{gridDim.x} * blockDim.x)

template <class T>
__global__ void im2col_kernel(T* __restrict__ col, const T* __restrict__ x, ConvGeom g, int64_t images) {
  const int64_t rows = g.col_rows(), HW = g.HW();
  FM_CONV_LOOP3(images, rows, HW) col[(z * rows + r) * HW + j] = im2col_at(g, x, z, r, j);
}

template <class T>
__global__ void col2im_kernel(T* __restrict__ x, const T* __restrict__ col, const T* __restrict__ bias, ConvGeom g,
                              int64_t images) {
  const int64_t plane = g.plane();
  FM_CONV_LOOP3(images, g.C, plane) x[(z * g.C + r) * plane + j] = col2im_at(g, col, bias, z, r, j);
}

template <class T>
__global__ void channel_fill_kernel(T* __restrict__ y, const T* __restrict__ bias, int64_t N, int64_t C, int64_t HW) {
  FM_CONV_LOOP3(N, C, HW) y[(z * C + r) * HW + j] = bias[r];
}

template <class T>
__global__ void bias_grad_kernel(T* __restrict__ gb, const T* __restrict__ gy, int64_t N, int64_t O, int64_t HW) {
  __shared__ double smem[32];
  for (int64_t o = blockIdx.x; o < O; o += gridDim.x) {
    double acc = 0;
    for (int64_t n = 0; n < N; ++n) {
      const T* row = gy + (n * O + o) * HW;
      for (int64_t i = threadIdx.x; i < HW; i += blockDim.x) acc += static_cast<double>(row[i]);
    }
    acc = block_reduce(acc, [](double a, double b) { return a + b; }, 0.0, smem);
    if (threadIdx.x == 0) gb[o] = static_cast<T>(acc);
  }
}

__global__ void __launch_bounds__(igemm::kThreads) conv_igemm_kernel(igemm::Args a) {
  using namespace igemm;
  __shared__ __align__(16) float As[2][kASize];
  __shared__ __align__(16) float Bs[2][kBSize];
  const int tid = static_cast<int>(threadIdx.x);
  const Block b = block_of(a, static_cast<int>(blockIdx.x), static_cast<int>(blockIdx.y));
  const Column col = column_of(a, b, tid);
  float ra[kLoads], rb[kLoads], acc[64];
#pragma unroll
  for (int i = 0; i < 64; ++i) acc[i] = 0.f;
  load_a(a, b, tid, 0, ra);
  load_b(a, b, col, 0, rb);
  store_a(tid, ra, As[0]);
  store_b(tid, rb, Bs[0]);
  __syncthreads();
  const int tiles = k_tiles(a);
  for (int t = 0; t < tiles; ++t) {
    const bool next = t + 1 < tiles;
    if (next) {  // in flight while this step computes
      load_a(a, b, tid, (t + 1) * kBK, ra);
      load_b(a, b, col, (t + 1) * kBK, rb);
    }
    compute(tid, As[t & 1], Bs[t & 1], acc);
    if (next) {  // the other buffer: its last readers passed the previous barrier
      store_a(tid, ra, As[(t + 1) & 1]);
      store_b(tid, rb, Bs[(t + 1) & 1]);
    }
    __syncthreads();
  }
  store_c(a, b, tid, acc);
}

dim3 dims(const ConvGrid& g) {
  return dim3(static_cast<unsigned>(g.x), static_cast<unsigned>(g.y), static_cast<unsigned>(g.z));
}

}  // namespace

template <class T>
void launch_im2col(T* col, const T* x, const ConvGeom& g, int64_t images, cudaStream_t s) {
  if (images * g.col_rows() * g.HW() == 0) return;
  im2col_kernel<T><<<dims(conv_grid(g.HW(), g.col_rows(), images, kThreads)), kThreads, 0, s>>>(col, x, g, images);
  FM_CUDA_CHECK_LAUNCH("conv2d (im2col, cuda)");
}

template <class T>
void launch_col2im(T* x, const T* col, const T* bias, const ConvGeom& g, int64_t images, cudaStream_t s) {
  if (images * g.C * g.plane() == 0) return;
  col2im_kernel<T><<<dims(conv_grid(g.plane(), g.C, images, kThreads)), kThreads, 0, s>>>(x, col, bias, g, images);
  FM_CUDA_CHECK_LAUNCH("conv_transpose2d (col2im, cuda)");
}

template <class T>
void launch_channel_fill(T* y, const T* bias, int64_t N, int64_t C, int64_t HW, cudaStream_t s) {
  if (N * C * HW == 0) return;
  channel_fill_kernel<T><<<dims(conv_grid(HW, C, N, kThreads)), kThreads, 0, s>>>(y, bias, N, C, HW);
  FM_CUDA_CHECK_LAUNCH("conv2d (bias, cuda)");
}

template <class T>
void launch_conv_bias_grad(T* gb, const T* gy, int64_t N, int64_t O, int64_t HW, cudaStream_t s) {
  if (O == 0) return;
  bias_grad_kernel<T><<<static_cast<unsigned>(std::min<int64_t>(O, int64_t{1} << 20)), kThreads, 0, s>>>(gb, gy, N, O,
                                                                                                          HW);
  FM_CUDA_CHECK_LAUNCH("conv2d_bias_grad (cuda)");
}

void launch_conv_implicit_gemm(float* y, const float* x, const float* w, const float* bias, const ConvGeom& g,
                               cudaStream_t s) {
  const IgemmGrid grid = igemm_grid(g);
  if (grid.blocks_x == 0 || grid.tiles_m == 0) return;
  FM_CHECK(igemm_fits(g), "conv2d (cuda): the implicit GEMM was asked for a geometry it cannot index");
  const igemm::Args a = igemm::make_args(g, x, w, bias, y);
  conv_igemm_kernel<<<dim3(static_cast<unsigned>(grid.blocks_x), static_cast<unsigned>(grid.tiles_m)),
                      igemm::kThreads, 0, s>>>(a);
  FM_CUDA_CHECK_LAUNCH("conv2d (implicit GEMM, cuda)");
}

#define FM_CONV_INSTANTIATE(T)                                                                         \
  template void launch_im2col<T>(T*, const T*, const ConvGeom&, int64_t, cudaStream_t);                \
  template void launch_col2im<T>(T*, const T*, const T*, const ConvGeom&, int64_t, cudaStream_t);      \
  template void launch_channel_fill<T>(T*, const T*, int64_t, int64_t, int64_t, cudaStream_t);         \
  template void launch_conv_bias_grad<T>(T*, const T*, int64_t, int64_t, int64_t, cudaStream_t);
FM_CONV_INSTANTIATE(float)
FM_CONV_INSTANTIATE(double)
#undef FM_CONV_INSTANTIATE

}  // namespace fm::kernels::cuda
