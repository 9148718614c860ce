// Tensor-level CUDA elementwise ops: dtype promotion as on the CPU, geometry, launch
// (kernels/cuda/elementwise.cu). float32 and float64; other dtypes name the missing kernel.
#ifdef FERMATA_WITH_CUDA
#include "kernels/cuda/common.h"
#include "kernels/elementwise.h"

namespace fm::kernels::cuda {

bool any_cuda(std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    if (t->defined() && t->device().is_cuda()) return true;
  return false;
}

void unary_into(UnaryOp op, const Tensor& out, const Tensor& x, double p0, double p1) {
  const char* name = unary_name(op);
  const int dev = same_cuda_device(name, {&out, &x});
  FM_CHECK(out.sizes() == x.sizes(), name, ": output ", out.describe(), " and input ", x.describe(),
           " differ in shape");
  FM_CHECK(op != UnaryOp::LogicalNot && is_floating(out.dtype()), name, ": got ", out.describe(),
           "; the CUDA kernels cover float32 and float64 (", name, " on ", out.dtype(), " has none yet)");
  const Tensor xs = x.dtype() == out.dtype() ? x : to_raw(x, out.dtype(), x.device());
  const auto g = cuda_geom::make_geom<2>(out.sizes(), {out.strides(), xs.strides()}, name);
  CudaDeviceGuard guard(dev);
  dispatch_floating(out.dtype(), name, [&]<class T>() {
    launch_unary<T>(op, static_cast<T*>(out.raw_data()), static_cast<const T*>(xs.raw_data()), static_cast<T>(p0),
                    static_cast<T>(p1), g, out.numel(), variant(), cuda_current_stream(dev));
  });
}

void binary_into(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  const int dev = same_cuda_device(name, {&out, &a, &b});
  const Shape shape = broadcast_shapes(a.sizes(), b.sizes(), name);
  FM_CHECK(out.sizes() == shape, name, ": output ", out.describe(), " does not match the broadcast shape ",
           shape_str(shape));
  const DType ct = promote_types(a.dtype(), b.dtype());
  FM_CHECK(is_floating(ct), name, ": got ", a.describe(), " and ", b.describe(),
           "; the CUDA kernels cover float32 and float64 (", ct, " has none yet)");
  const Tensor x = a.dtype() == ct ? a : to_raw(a, ct, a.device());
  const Tensor y = b.dtype() == ct ? b : to_raw(b, ct, b.device());
  const bool boolean = op >= BinaryOp::Eq;  // comparisons and logical ops give bool
  const DType want = boolean ? DType::Bool : ct;
  if (out.dtype() != want) {
    Tensor tmp = empty(out.sizes(), {.dtype = want, .device = out.device()});
    cuda::binary_into(op, tmp, x, y);
    copy_into(out, tmp);
    return;
  }
  const auto g = cuda_geom::make_geom<3>(
      shape, {out.strides(), cuda_geom::broadcast_strides(x.sizes(), x.strides(), shape),
              cuda_geom::broadcast_strides(y.sizes(), y.strides(), shape)},
      name);
  CudaDeviceGuard guard(dev);
  dispatch_floating(ct, name, [&]<class T>() {
    const T* xp = static_cast<const T*>(x.raw_data());
    const T* yp = static_cast<const T*>(y.raw_data());
    if (boolean)
      launch_binary<T, bool>(op, static_cast<bool*>(out.raw_data()), xp, yp, g, out.numel(), variant(),
                             cuda_current_stream(dev));
    else
      launch_binary<T, T>(op, static_cast<T*>(out.raw_data()), xp, yp, g, out.numel(), variant(),
                          cuda_current_stream(dev));
  });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const int dev = same_cuda_device("where", {&cond, &a, &b});
  const Shape shape = broadcast_shapes(cond.sizes(), broadcast_shapes(a.sizes(), b.sizes(), "where"), "where");
  const DType ct = promote_types(a.dtype(), b.dtype());
  const Tensor c = to_raw(cond, DType::Bool, cond.device());
  const Tensor x = to_raw(a, ct, a.device()), y = to_raw(b, ct, b.device());
  Tensor out = empty(shape, {.dtype = ct, .device = a.device()});
  if (out.numel() == 0) return out;
  using cuda_geom::broadcast_strides;
  const auto g = cuda_geom::make_geom<4>(
      shape, {out.strides(), broadcast_strides(c.sizes(), c.strides(), shape),
              broadcast_strides(x.sizes(), x.strides(), shape), broadcast_strides(y.sizes(), y.strides(), shape)},
      "where");
  CudaDeviceGuard guard(dev);
  dispatch_all(ct, "where", [&]<class T>() {
    launch_where<T>(static_cast<T*>(out.raw_data()), static_cast<const bool*>(c.raw_data()),
                    static_cast<const T*>(x.raw_data()), static_cast<const T*>(y.raw_data()), g, out.numel(),
                    cuda_current_stream(dev));
  });
  return out;
}

void fill(const Tensor& t, double value) {
  const int dev = same_cuda_device("fill_", {&t});
  const auto g = cuda_geom::make_geom<1>(t.sizes(), {t.strides()}, "fill_");
  CudaDeviceGuard guard(dev);
  dispatch_all(t.dtype(), "fill_", [&]<class T>() {
    launch_fill<T>(static_cast<T*>(t.raw_data()), static_cast<T>(value), g, t.numel(), cuda_current_stream(dev));
  });
}

}  // namespace fm::kernels::cuda
#endif
