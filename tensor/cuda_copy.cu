// dst = src on one CUDA device: any strides, any of the four dtypes on either side (the
// conversions of to(), contiguous() and copy_ on the GPU). One thread per element; contiguous
// same-dtype copies go to cudaMemcpyAsync instead.
#include "tensor/cuda_copy.h"
#include "tensor/cuda_runtime.h"

namespace fm {
namespace {

template <class D, class S>
__device__ D convert(S v) {
  if constexpr (std::is_same_v<D, bool>) return v != S(0);
  else return static_cast<D>(v);
}

template <class D, class S>
__global__ void copy_kernel(D* dst, const S* src, cuda_geom::StridedGeom<2> g, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[2];
    g.offsets(i, off);
    dst[off[0]] = convert<D>(src[off[1]]);
  }
}

template <class D>
void launch_from(D* dst, const void* src, DType src_dtype, const cuda_geom::StridedGeom<2>& g, int64_t n,
                 cudaStream_t stream) {
  const int threads = 256;
  const int64_t blocks = cuda_geom::blocks_for(n, threads, 65536);
  switch (src_dtype) {
    case DType::Float32: copy_kernel<<<blocks, threads, 0, stream>>>(dst, static_cast<const float*>(src), g, n); break;
    case DType::Float64: copy_kernel<<<blocks, threads, 0, stream>>>(dst, static_cast<const double*>(src), g, n); break;
    case DType::Int64: copy_kernel<<<blocks, threads, 0, stream>>>(dst, static_cast<const int64_t*>(src), g, n); break;
    case DType::Bool: copy_kernel<<<blocks, threads, 0, stream>>>(dst, static_cast<const bool*>(src), g, n); break;
  }
}

}  // namespace

void launch_cuda_copy(void* dst, DType dst_dtype, const void* src, DType src_dtype,
                      const cuda_geom::StridedGeom<2>& g, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  if (dst_dtype == src_dtype && cuda_geom::all_contiguous(g)) {
    FM_CUDA_CHECK(cudaMemcpyAsync(dst, src, n * element_size(dst_dtype), cudaMemcpyDeviceToDevice, stream), "copy_");
    return;
  }
  switch (dst_dtype) {
    case DType::Float32: launch_from(static_cast<float*>(dst), src, src_dtype, g, n, stream); break;
    case DType::Float64: launch_from(static_cast<double*>(dst), src, src_dtype, g, n, stream); break;
    case DType::Int64: launch_from(static_cast<int64_t*>(dst), src, src_dtype, g, n, stream); break;
    case DType::Bool: launch_from(static_cast<bool*>(dst), src, src_dtype, g, n, stream); break;
  }
  FM_CUDA_CHECK_LAUNCH("copy_ (cuda copy kernel)");
}

}  // namespace fm
