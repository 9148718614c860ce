// Tensor-level CUDA reductions (kernels/cuda/reduce.cu): geometry, the two-pass workspace,
// empty reductions filled with the identity as on the CPU.
#ifdef FERMATA_WITH_CUDA
#include <limits>

#include "kernels/cuda/common.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace fm::kernels::cuda {

Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<bool>& mask, bool keepdim) {
  const int dev = same_cuda_device("reduce", {&x});
  FM_CHECK(static_cast<int64_t>(mask.size()) == x.dim(), "reduce: mask of ", mask.size(), " dims for a tensor of ",
           x.dim());
  FM_CHECK(is_floating(x.dtype()), "reduce: got ", x.describe(),
           "; the CUDA kernels cover float32 and float64 (", x.dtype(), " has none yet)");
  Tensor out = empty(reduced_shape(x.sizes(), mask, keepdim), {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() == 0) return out;
  const auto g = cuda_geom::make_reduce_geom(x.sizes(), x.strides(), mask, "reduce");
  if (g.n_red == 0) {
    const double inf = std::numeric_limits<double>::infinity();
    const double id = op == ReduceOp::Sum ? 0.0 : op == ReduceOp::Prod ? 1.0 : op == ReduceOp::Max ? -inf : inf;
    cuda::fill(out, id);
    return out;
  }
  const ReduceKind kind = op == ReduceOp::Sum    ? ReduceKind::Sum
                          : op == ReduceOp::Prod ? ReduceKind::Prod
                          : op == ReduceOp::Max  ? ReduceKind::Max
                                                 : ReduceKind::Min;
  CudaDeviceGuard guard(dev);
  const Variant v = variant();
  const int64_t splits = reduce_splits_for(g, v, cuda_device_properties(dev).multiProcessorCount);
  Tensor workspace;
  if (splits > 1) workspace = empty({g.n_out * splits}, {.dtype = DType::Float64, .device = x.device()});
  dispatch_floating(x.dtype(), "reduce", [&]<class T>() {
    launch_reduce<T>(kind, static_cast<T*>(out.raw_data()), static_cast<const T*>(x.raw_data()), g, v, splits,
                     splits > 1 ? workspace.raw_data() : nullptr, cuda_current_stream(dev));
  });
  return out;
}

std::pair<Tensor, Tensor> reduce_with_index(ReduceOp op, const Tensor& x, int64_t dim, bool keepdim) {
  const bool is_max = op == ReduceOp::Max;
  const char* name = is_max ? "max" : "min";
  FM_CHECK(op == ReduceOp::Max || op == ReduceOp::Min, "reduce_with_index: only max and min");
  const int dev = same_cuda_device(name, {&x});
  const int64_t nd = x.dim();
  const int64_t d = wrap_dim(dim, nd, name);
  FM_CHECK(nd == 0 || x.size(d) > 0, name, ": cannot reduce over dimension ", dim, " of size 0 in ", x.describe());
  std::vector<bool> mask(nd, false);
  if (nd) mask[d] = true;
  // `dim` innermost, as on the CPU: rows of `run` contiguous values
  Shape ps, pt;
  for (int64_t k = 0; k < nd; ++k)
    if (k != d) ps.push_back(x.size(k)), pt.push_back(x.stride(k));
  if (nd) ps.push_back(x.size(d)), pt.push_back(x.stride(d));
  const Tensor xp = contiguous_raw(make_view(x, ps, pt, x.storage_offset()));
  const int64_t run = nd ? x.size(d) : 1;
  const int64_t outer = x.numel() / std::max<int64_t>(run, 1);
  const Shape oshape = reduced_shape(x.sizes(), mask, keepdim);
  Tensor values = empty(oshape, {.dtype = x.dtype(), .device = x.device()});
  Tensor indices = empty(oshape, {.dtype = DType::Int64, .device = x.device()});
  CudaDeviceGuard guard(dev);
  FM_DISPATCH_NUMERIC(x.dtype(), name, [&] {
    launch_arg_extreme<scalar_t>(is_max, static_cast<scalar_t*>(values.raw_data()),
                                 static_cast<int64_t*>(indices.raw_data()),
                                 static_cast<const scalar_t*>(xp.raw_data()), outer, run, variant(),
                                 cuda_current_stream(dev));
  });
  return {values, indices};
}

}  // namespace fm::kernels::cuda
#endif
