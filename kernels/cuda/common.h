#pragma once
// Shared by the tensor-level CUDA wrappers (kernels/cuda/*.cpp): device checks, the stream of
// a tensor's device, and the selected variant as the launchers' enum.
#include <cstdlib>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops.h"
#include "tensor/cuda_runtime.h"

namespace fm::kernels::cuda {

// All tensors on one CUDA device; returns its index.
inline int same_cuda_device(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = *ts.begin();
  for (const Tensor* t : ts)
    FM_CHECK(t->device().is_cuda() && t->device() == first->device(), op,
             ": expected every tensor on one CUDA device, got ", t->describe(), " and ", first->describe());
  return first->device().index;
}

// A tensor's device memory as T*, null for an undefined (optional) tensor.
template <class T>
T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

inline Variant variant() { return kernel_variant() == 1 ? Variant::V1 : Variant::V2; }

}  // namespace fm::kernels::cuda
