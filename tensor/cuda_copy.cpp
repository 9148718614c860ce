// copy_into's CUDA path (tensor/tensor.cpp): geometry on the host, the kernel in cuda_copy.cu.
#ifdef FERMATA_WITH_CUDA
#include "tensor/cuda_copy.h"
#include "tensor/cuda_runtime.h"
#include "tensor/tensor.h"

namespace fm {

void cuda_copy_strided(const Tensor& dst, const Tensor& src) {
  FM_CHECK(dst.device() == src.device() && dst.device().is_cuda(), "copy_: cuda_copy_strided needs both ",
           "tensors on one CUDA device, got ", dst.describe(), " and ", src.describe());
  FM_CHECK(dst.sizes() == src.sizes(), "copy_: destination ", dst.describe(), " and source ", src.describe(),
           " must have the same shape");
  if (dst.numel() == 0) return;
  const auto g = cuda_geom::make_geom<2>(dst.sizes(), {dst.strides(), src.strides()}, "copy_");
  CudaDeviceGuard guard(dst.device().index);
  launch_cuda_copy(dst.raw_data(), dst.dtype(), src.raw_data(), src.dtype(), g, dst.numel(),
                   cuda_current_stream(dst.device().index));
}

}  // namespace fm
#endif
