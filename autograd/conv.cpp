// Convolutions: forward and gradients side by side. Three ops on 4-D tensors, each linear in
// its tensor inputs, are each other's gradients:
//   conv(x, w)        -> y     grads: x <- conv_t(g, w),  w <- conv_w(x, g)
//   conv_t(y, w)      -> x     grads: y <- conv(h, w),    w <- conv_w(h, y)
//   conv_w(x, gy)     -> w     grads: x <- conv_t(gy, k), gy <- conv(x, k)
// so every derivative of any order is again one of the three (double backward works).
// conv1d runs as conv2d with a height of 1; conv_transpose is conv_t (plus bias).
#include "autograd/conv.h"

#include <sstream>
#include <vector>

#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/views.h"
#include "kernels/conv.h"

namespace fm {

using autograd::record;
using autograd::save;
using autograd::SavedTensor;
using autograd::tensor_list;
using kernels::ConvGeometry;

namespace {

Tensor conv_op(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeometry& g);
Tensor conv_t_op(const Tensor& y, const Tensor& w, const Tensor& b, const ConvGeometry& g);
Tensor conv_w_op(const Tensor& x, const Tensor& gy, const ConvGeometry& g);

// A plain kernel (serial: it runs between GEMMs, see kernels/cpu/conv.cpp) unless the gradient
// itself must be differentiable.
Tensor bias_grad(const Tensor& g) {
  return autograd::grad_enabled() ? sum(g, {0, 2, 3}) : kernels::conv2d_bias_grad(g);
}

bool needs(const Tensor& t) { return t.defined() && t.requires_grad(); }

Tensor conv_op(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeometry& geo) {
  ConvGeometry g = geo;
  g.N = x.size(0);
  Tensor y = kernels::conv2d_forward(x, w, b, g);
  if (autograd::grad_enabled() && (needs(x) || needs(w) || needs(b))) {
    const bool gx = needs(x), gw = needs(w);
    record("ConvolutionBackward", {x, w, b}, {y},
           [sx = gw ? save(x) : SavedTensor(), sw = gx ? save(w) : SavedTensor(), gx, gw, hb = needs(b),
            g](const tensor_list& gr) {
             return tensor_list{gx ? conv_t_op(gr[0], sw.unpack(), Tensor(), g) : Tensor(),
                                gw ? conv_w_op(sx.unpack(), gr[0], g) : Tensor(),
                                hb ? bias_grad(gr[0]) : Tensor()};
           });
  }
  return y;
}

Tensor conv_t_op(const Tensor& y, const Tensor& w, const Tensor& b, const ConvGeometry& geo) {
  ConvGeometry g = geo;
  g.N = y.size(0);
  Tensor x = kernels::conv2d_input_grad(y, w, b, g);
  if (autograd::grad_enabled() && (needs(y) || needs(w) || needs(b))) {
    const bool gy = needs(y), gw = needs(w);
    record("ConvolutionTransposeBackward", {y, w, b}, {x},
           [sy = gw ? save(y) : SavedTensor(), sw = gy ? save(w) : SavedTensor(), gy, gw, hb = needs(b),
            g](const tensor_list& gr) {
             return tensor_list{gy ? conv_op(gr[0], sw.unpack(), Tensor(), g) : Tensor(),
                                gw ? conv_w_op(gr[0], sy.unpack(), g) : Tensor(),
                                hb ? bias_grad(gr[0]) : Tensor()};
           });
  }
  return x;
}

Tensor conv_w_op(const Tensor& x, const Tensor& gy, const ConvGeometry& geo) {
  ConvGeometry g = geo;
  g.N = x.size(0);
  Tensor gw = kernels::conv2d_weight_grad(x, gy, g);
  if (autograd::grad_enabled() && (needs(x) || needs(gy))) {
    const bool nx = needs(x), ng = needs(gy);
    record("ConvolutionWeightBackward", {x, gy}, {gw},
           [sx = ng ? save(x) : SavedTensor(), sg = nx ? save(gy) : SavedTensor(), nx, ng, g](const tensor_list& gr) {
             return tensor_list{nx ? conv_t_op(sg.unpack(), gr[0], Tensor(), g) : Tensor(),
                                ng ? conv_op(sx.unpack(), gr[0], Tensor(), g) : Tensor()};
           });
  }
  return gw;
}

std::string list_str(const std::vector<int64_t>& v) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << (v.size() == 1 ? ",)" : ")");
  return os.str();
}

// Per spatial dim (1 or 2 of them): stride, padding before and after, dilation.
struct SpatialArgs {
  std::vector<int64_t> stride, pad_before, pad_after, dilation;
};

void check_common(const char* op, int nd, const Tensor& x, const Tensor& w, const Tensor& b, int64_t groups,
                  const SpatialArgs& a) {
  FM_CHECK(x.dim() == nd + 2, op, ": expected a ", nd + 1, "-D (unbatched) or ", nd + 2,
           "-D (batched) input, got ", x.describe());
  FM_CHECK(w.dim() == nd + 2, op, ": expected a ", nd + 2, "-D weight, got ", w.describe());
  FM_CHECK(x.dtype() == w.dtype(), op, ": input ", x.describe(), " and weight ", w.describe(),
           " must have the same dtype");
  FM_CHECK(x.is_floating_point(), op, ": expected a float32 or float64 input, got ", x.describe());
  if (b.defined())
    FM_CHECK(b.dtype() == x.dtype(), op, ": bias ", b.describe(), " must have the input's dtype ", x.dtype());
  FM_CHECK(groups >= 1, op, ": groups must be positive, got ", groups);
  for (int d = 0; d < nd; ++d) {
    FM_CHECK(a.stride[d] >= 1, op, ": stride must be positive, got ", list_str(a.stride));
    FM_CHECK(a.dilation[d] >= 1, op, ": dilation must be positive, got ", list_str(a.dilation));
    FM_CHECK(a.pad_before[d] >= 0 && a.pad_after[d] >= 0, op, ": padding must be non-negative, got ",
             list_str(a.pad_before));
    FM_CHECK(w.size(d + 2) >= 1, op, ": kernel size must be positive, got weight ", w.describe());
  }
}

// Common front end of conv1d/conv2d: x and w have nd spatial dims.
Tensor conv_nd(const char* op, int nd, const Tensor& x0, const Tensor& w, const Tensor& b, const SpatialArgs& a,
               int64_t groups) {
  const bool unbatched = x0.dim() == nd + 1;
  const Tensor x = unbatched ? unsqueeze(x0, 0) : x0;
  check_common(op, nd, x, w, b, groups, a);
  const int64_t C = x.size(1), O = w.size(0);
  FM_CHECK(O % groups == 0, op, ": out_channels = weight.size(0) = ", O, " must be divisible by groups = ", groups,
           " (weight ", w.describe(), ")");
  FM_CHECK(C == w.size(1) * groups, op, ": input ", x.describe(), " has ", C, " channels but weight ", w.describe(),
           " with groups = ", groups, " expects ", w.size(1) * groups, " (weight.size(1) * groups)");
  if (b.defined())
    FM_CHECK(b.dim() == 1 && b.size(0) == O, op, ": bias ", b.describe(), " must be 1-D of size out_channels = ", O);
  ConvGeometry g;
  g.N = x.size(0);
  g.C = C;
  g.O = O;
  g.groups = groups;
  std::vector<int64_t> in(nd), k(nd), out(nd);
  for (int d = 0; d < nd; ++d) {
    in[d] = x.size(d + 2);
    k[d] = w.size(d + 2);
    const int64_t padded = in[d] + a.pad_before[d] + a.pad_after[d];
    const int64_t eff = a.dilation[d] * (k[d] - 1) + 1;
    if (padded < eff) {
      std::vector<int64_t> pin(nd);
      for (int e = 0; e < nd; ++e) pin[e] = x.size(e + 2) + a.pad_before[e] + a.pad_after[e];
      fail(op, ": kernel size ", list_str(std::vector<int64_t>(w.sizes().begin() + 2, w.sizes().end())),
           " (dilation ", list_str(a.dilation), ") is larger than the padded input size ", list_str(pin), " of input ",
           x.describe());
    }
    out[d] = (padded - eff) / a.stride[d] + 1;
  }
  const int o = nd == 2 ? 0 : -1;  // index of the height dim in the per-dim vectors (-1: none)
  g.H = o == 0 ? in[0] : 1;
  g.Ho = o == 0 ? out[0] : 1;
  g.kh = o == 0 ? k[0] : 1;
  g.sh = o == 0 ? a.stride[0] : 1;
  g.ph = o == 0 ? a.pad_before[0] : 0;
  g.dh = o == 0 ? a.dilation[0] : 1;
  g.W = in[nd - 1];
  g.Wo = out[nd - 1];
  g.kw = k[nd - 1];
  g.sw = a.stride[nd - 1];
  g.pw = a.pad_before[nd - 1];
  g.dw = a.dilation[nd - 1];
  Tensor y = nd == 1 ? squeeze(conv_op(unsqueeze(x, 2), unsqueeze(w, 2), b, g), 2) : conv_op(x, w, b, g);
  return unbatched ? squeeze(y, 0) : y;
}

Tensor conv_transpose_nd(const char* op, int nd, const Tensor& x0, const Tensor& w, const Tensor& b,
                         const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                         const std::vector<int64_t>& output_padding, int64_t groups,
                         const std::vector<int64_t>& dilation) {
  const bool unbatched = x0.dim() == nd + 1;
  const Tensor x = unbatched ? unsqueeze(x0, 0) : x0;
  const SpatialArgs a{stride, padding, padding, dilation};
  check_common(op, nd, x, w, b, groups, a);
  const int64_t Cin = x.size(1);
  FM_CHECK(w.size(0) == Cin, op, ": input ", x.describe(), " has ", Cin, " channels but weight ", w.describe(),
           " expects ", w.size(0), " (weight.size(0) = in_channels)");
  FM_CHECK(Cin % groups == 0, op, ": in_channels = ", Cin, " must be divisible by groups = ", groups);
  const int64_t Cout = w.size(1) * groups;
  if (b.defined())
    FM_CHECK(b.dim() == 1 && b.size(0) == Cout, op, ": bias ", b.describe(),
             " must be 1-D of size out_channels = weight.size(1) * groups = ", Cout);
  std::vector<int64_t> in(nd), k(nd), out(nd);
  for (int d = 0; d < nd; ++d) {
    FM_CHECK(output_padding[d] >= 0 && (output_padding[d] < stride[d] || output_padding[d] < dilation[d]), op,
             ": output_padding ", list_str(output_padding), " must be smaller than either stride ", list_str(stride),
             " or dilation ", list_str(dilation));
    in[d] = x.size(d + 2);
    k[d] = w.size(d + 2);
    out[d] = (in[d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (k[d] - 1) + output_padding[d] + 1;
    FM_CHECK(out[d] >= 1, op, ": the output size ", out[d], " computed for input ", x.describe(), ", weight ",
             w.describe(), ", stride ", list_str(stride), ", padding ", list_str(padding), " is not positive");
  }
  ConvGeometry g;
  g.N = x.size(0);
  g.C = Cout;  // the convolution's input space is this op's output
  g.O = Cin;
  g.groups = groups;
  const bool two = nd == 2;
  g.H = two ? out[0] : 1;
  g.Ho = two ? in[0] : 1;
  g.kh = two ? k[0] : 1;
  g.sh = two ? stride[0] : 1;
  g.ph = two ? padding[0] : 0;
  g.dh = two ? dilation[0] : 1;
  g.W = out[nd - 1];
  g.Wo = in[nd - 1];
  g.kw = k[nd - 1];
  g.sw = stride[nd - 1];
  g.pw = padding[nd - 1];
  g.dw = dilation[nd - 1];
  Tensor y = nd == 1 ? squeeze(conv_t_op(unsqueeze(x, 2), unsqueeze(w, 2), b, g), 2) : conv_t_op(x, w, b, g);
  return unbatched ? squeeze(y, 0) : y;
}

// "same": total d*(k-1), the smaller half before; "valid": none.
void resolve_padding(const char* op, const std::string& mode, int64_t k, int64_t stride, int64_t dilation,
                     int64_t& before, int64_t& after) {
  if (mode == "valid") {
    before = after = 0;
    return;
  }
  FM_CHECK(mode == "same", op, ": padding must be a number, a pair, 'same' or 'valid', got '", mode, "'");
  FM_CHECK(stride == 1, op, ": padding='same' is not supported for strided convolutions (stride ", stride, ")");
  const int64_t total = dilation * (k - 1);
  before = total / 2;
  after = total - before;
}

}  // namespace

Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, Padding1d padding, int64_t dilation,
              int64_t groups) {
  SpatialArgs a{{stride}, {padding.value}, {padding.value}, {dilation}};
  if (!padding.mode.empty()) {
    FM_CHECK(w.dim() == 3, "conv1d: expected a 3-D weight, got ", w.describe());
    resolve_padding("conv1d", padding.mode, w.size(2), stride, dilation, a.pad_before[0], a.pad_after[0]);
  }
  return conv_nd("conv1d", 1, x, w, b, a, groups);
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, Int2 stride, Padding2d padding, Int2 dilation,
              int64_t groups) {
  SpatialArgs a{{stride.h, stride.w}, {padding.value.h, padding.value.w}, {padding.value.h, padding.value.w},
                {dilation.h, dilation.w}};
  if (!padding.mode.empty()) {
    FM_CHECK(w.dim() == 4, "conv2d: expected a 4-D weight, got ", w.describe());
    FM_CHECK(padding.mode != "same" || (stride.h == 1 && stride.w == 1),
             "conv2d: padding='same' is not supported for strided convolutions (stride (", stride.h, ", ", stride.w,
             "))");
    for (int d = 0; d < 2; ++d)
      resolve_padding("conv2d", padding.mode, w.size(d + 2), a.stride[d], a.dilation[d], a.pad_before[d],
                      a.pad_after[d]);
  }
  return conv_nd("conv2d", 2, x, w, b, a, groups);
}

Tensor conv_transpose1d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t padding,
                        int64_t output_padding, int64_t groups, int64_t dilation) {
  return conv_transpose_nd("conv_transpose1d", 1, x, w, b, {stride}, {padding}, {output_padding}, groups, {dilation});
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, Int2 stride, Int2 padding,
                        Int2 output_padding, int64_t groups, Int2 dilation) {
  return conv_transpose_nd("conv_transpose2d", 2, x, w, b, {stride.h, stride.w}, {padding.h, padding.w},
                           {output_padding.h, output_padding.w}, groups, {dilation.h, dilation.w});
}

}  // namespace fm
