// Pooling: forward and gradients side by side, all on 4-D tensors (1-D pooling has H = 1).
// Max pooling records the positions of the maxima; its gradient scatters into them, and the
// gradient of that scatter is the gather at the same positions. Average pooling's gradient is
// its adjoint, whose gradient is average pooling again. So second derivatives work.
#include "autograd/pool.h"

#include <memory>

#include "autograd/node.h"
#include "autograd/views.h"
#include "kernels/pool.h"

namespace fm {

using autograd::record;
using autograd::tensor_list;
using kernels::PoolAxis;

namespace {

using Axes = std::shared_ptr<const std::pair<PoolAxis, PoolAxis>>;

Tensor scatter_op(const Tensor& g, const Tensor& idx, int64_t H, int64_t W);

Tensor gather_op(const Tensor& x, const Tensor& idx) {
  Tensor y = kernels::plane_gather(x, idx);
  const int64_t H = x.size(2), W = x.size(3);
  record("MaxPoolBackwardBackward", {x}, {y},
         [idx, H, W](const tensor_list& g) { return tensor_list{scatter_op(g[0], idx, H, W)}; });
  return y;
}

Tensor scatter_op(const Tensor& g, const Tensor& idx, int64_t H, int64_t W) {
  Tensor gx = kernels::plane_scatter_add(g, idx, H, W);
  record("MaxPoolBackward", {g}, {gx}, [idx](const tensor_list& gg) { return tensor_list{gather_op(gg[0], idx)}; });
  return gx;
}

std::pair<Tensor, Tensor> max_op(const Tensor& x, const Axes& a) {
  auto [y, idx] = kernels::max_pool2d(x, a->first, a->second);
  const int64_t H = x.size(2), W = x.size(3);
  // the indices are handed to the caller too: saved, so an in-place change to them is caught
  record("MaxPoolBackward", {x}, {y}, [si = autograd::save(idx), H, W](const tensor_list& g) {
    return tensor_list{scatter_op(g[0], si.unpack(), H, W)};
  });
  return {y, idx};
}

Tensor avg_backward_op(const Tensor& g, const Axes& a);

Tensor avg_op(const Tensor& x, const Axes& a) {
  Tensor y = kernels::avg_pool2d(x, a->first, a->second);
  record("AvgPoolBackward", {x}, {y}, [a](const tensor_list& g) { return tensor_list{avg_backward_op(g[0], a)}; });
  return y;
}

Tensor avg_backward_op(const Tensor& g, const Axes& a) {
  Tensor gx = kernels::avg_pool2d_backward(g, a->first, a->second);
  record("AvgPoolBackwardBackward", {g}, {gx}, [a](const tensor_list& gg) { return tensor_list{avg_op(gg[0], a)}; });
  return gx;
}

// Brings x to [N, C, H, W] (nd = 1: H = 1) and back.
struct As4d {
  Tensor x4;
  bool unbatched;
  int nd;
  Tensor back(const Tensor& y4) const {
    Tensor y = nd == 1 ? squeeze(y4, 2) : y4;
    return unbatched ? squeeze(y, 0) : y;
  }
};

As4d as4d(const char* op, int nd, const Tensor& x) {
  FM_CHECK(x.dim() == nd + 1 || x.dim() == nd + 2, op, ": expected a ", nd + 1, "-D (unbatched) or ", nd + 2,
           "-D (batched) input, got ", x.describe());
  FM_CHECK(x.is_floating_point(), op, ": expected a float32 or float64 input, got ", x.describe());
  const bool unbatched = x.dim() == nd + 1;
  Tensor t = unbatched ? unsqueeze(x, 0) : x;
  for (int64_t d = 2; d < t.dim(); ++d)
    FM_CHECK(t.size(d) >= 1, op, ": input ", x.describe(), " has an empty spatial dimension");
  if (nd == 1) t = unsqueeze(t, 2);
  return {t, unbatched, nd};
}

struct Window {
  int64_t k, s, p, d;
};

Axes windows(const char* op, const Tensor& x4, const Window& h, const Window& w, bool ceil_mode,
             bool count_include_pad) {
  const int64_t H = x4.size(2), W = x4.size(3);
  const int64_t Ho = kernels::pool_output_size(op, H, h.k, h.s, h.p, h.d, ceil_mode);
  const int64_t Wo = kernels::pool_output_size(op, W, w.k, w.s, w.p, w.d, ceil_mode);
  return std::make_shared<const std::pair<PoolAxis, PoolAxis>>(
      kernels::pool_axis(H, Ho, h.k, h.s, h.p, h.d, count_include_pad),
      kernels::pool_axis(W, Wo, w.k, w.s, w.p, w.d, count_include_pad));
}

Axes adaptive(const char* op, const Tensor& x4, int64_t oh, int64_t ow) {
  FM_CHECK(oh >= 1 && ow >= 1, op, ": output size must be positive, got (", oh, ", ", ow, ")");
  return std::make_shared<const std::pair<PoolAxis, PoolAxis>>(kernels::adaptive_axis(x4.size(2), oh),
                                                               kernels::adaptive_axis(x4.size(3), ow));
}

std::pair<Tensor, Tensor> max_pool(const char* op, int nd, const Tensor& x, const Window& h, const Window& w,
                                   bool ceil_mode) {
  const As4d v = as4d(op, nd, x);
  auto [y, idx] = max_op(v.x4, windows(op, v.x4, h, w, ceil_mode, true));
  return {v.back(y), v.back(idx)};
}

Tensor avg_pool(const char* op, int nd, const Tensor& x, const Window& h, const Window& w, bool ceil_mode,
                bool count_include_pad, int64_t divisor_override) {
  const As4d v = as4d(op, nd, x);
  Axes a = windows(op, v.x4, h, w, ceil_mode, count_include_pad);
  if (divisor_override > 0) {
    auto b = std::make_shared<std::pair<PoolAxis, PoolAxis>>(*a);
    for (auto& d : b->first.divisor) d = static_cast<double>(divisor_override);
    for (auto& d : b->second.divisor) d = 1;
    a = b;
  } else {
    FM_CHECK(divisor_override == 0, op, ": divisor_override must be positive, got ", divisor_override);
  }
  return v.back(avg_op(v.x4, a));
}

}  // namespace

std::pair<Tensor, Tensor> max_pool1d_with_indices(const Tensor& x, int64_t k, std::optional<int64_t> stride,
                                                  int64_t padding, int64_t dilation, bool ceil_mode) {
  return max_pool("max_pool1d", 1, x, {1, 1, 0, 1}, {k, stride.value_or(k), padding, dilation}, ceil_mode);
}
Tensor max_pool1d(const Tensor& x, int64_t k, std::optional<int64_t> stride, int64_t padding, int64_t dilation,
                  bool ceil_mode) {
  return max_pool1d_with_indices(x, k, stride, padding, dilation, ceil_mode).first;
}

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Int2 k, std::optional<Int2> stride, Int2 padding,
                                                  Int2 dilation, bool ceil_mode) {
  const Int2 s = stride.value_or(k);
  return max_pool("max_pool2d", 2, x, {k.h, s.h, padding.h, dilation.h}, {k.w, s.w, padding.w, dilation.w},
                  ceil_mode);
}
Tensor max_pool2d(const Tensor& x, Int2 k, std::optional<Int2> stride, Int2 padding, Int2 dilation, bool ceil_mode) {
  return max_pool2d_with_indices(x, k, stride, padding, dilation, ceil_mode).first;
}

Tensor avg_pool1d(const Tensor& x, int64_t k, std::optional<int64_t> stride, int64_t padding, bool ceil_mode,
                  bool count_include_pad) {
  return avg_pool("avg_pool1d", 1, x, {1, 1, 0, 1}, {k, stride.value_or(k), padding, 1}, ceil_mode,
                  count_include_pad, 0);
}
Tensor avg_pool2d(const Tensor& x, Int2 k, std::optional<Int2> stride, Int2 padding, bool ceil_mode,
                  bool count_include_pad, int64_t divisor_override) {
  const Int2 s = stride.value_or(k);
  return avg_pool("avg_pool2d", 2, x, {k.h, s.h, padding.h, 1}, {k.w, s.w, padding.w, 1}, ceil_mode,
                  count_include_pad, divisor_override);
}

Tensor adaptive_avg_pool1d(const Tensor& x, int64_t out) {
  const As4d v = as4d("adaptive_avg_pool1d", 1, x);
  return v.back(avg_op(v.x4, adaptive("adaptive_avg_pool1d", v.x4, 1, out)));
}
Tensor adaptive_avg_pool2d(const Tensor& x, Int2 out) {
  const As4d v = as4d("adaptive_avg_pool2d", 2, x);
  return v.back(avg_op(v.x4, adaptive("adaptive_avg_pool2d", v.x4, out.h, out.w)));
}
std::pair<Tensor, Tensor> adaptive_max_pool1d_with_indices(const Tensor& x, int64_t out) {
  const As4d v = as4d("adaptive_max_pool1d", 1, x);
  auto [y, idx] = max_op(v.x4, adaptive("adaptive_max_pool1d", v.x4, 1, out));
  return {v.back(y), v.back(idx)};
}
std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& x, Int2 out) {
  const As4d v = as4d("adaptive_max_pool2d", 2, x);
  auto [y, idx] = max_op(v.x4, adaptive("adaptive_max_pool2d", v.x4, out.h, out.w));
  return {v.back(y), v.back(idx)};
}
Tensor adaptive_max_pool1d(const Tensor& x, int64_t out) { return adaptive_max_pool1d_with_indices(x, out).first; }
Tensor adaptive_max_pool2d(const Tensor& x, Int2 out) { return adaptive_max_pool2d_with_indices(x, out).first; }

}  // namespace fm
