#pragma once
// The CUDA copy kernel's launcher (tensor/cuda_copy.cu), in types nvcc and the C++20 side
// share: raw pointers, dtypes and a merged geometry (dst is operand 0, src operand 1).
#include <cuda_runtime.h>

#include "tensor/cuda_geometry.h"
#include "tensor/dtype.h"

namespace fm {

void launch_cuda_copy(void* dst, DType dst_dtype, const void* src, DType src_dtype,
                      const cuda_geom::StridedGeom<2>& g, int64_t n, cudaStream_t stream);

}  // namespace fm
