#include "layers/conv.h"

#include <sstream>
#include <vector>

#include "autograd/shape.h"
#include "layers/init.h"
#include "tensor/factory.h"

namespace fm::nn {

namespace {

// Python's tuple printing: (3,) and (3, 1).
std::string tup(std::initializer_list<int64_t> v) {
  std::ostringstream os;
  os << "(";
  size_t i = 0;
  for (int64_t x : v) os << (i++ ? ", " : "") << x;
  os << (v.size() == 1 ? ",)" : ")");
  return os.str();
}

void check_channels(const char* m, int64_t in, int64_t out, int64_t groups) {
  FM_CHECK(in >= 1 && out >= 1, m, ": channel counts must be positive, got in_channels=", in,
           ", out_channels=", out);
  FM_CHECK(groups >= 1, m, ": groups must be positive, got ", groups);
  FM_CHECK(in % groups == 0, m, ": in_channels (", in, ") must be divisible by groups (", groups, ")");
  FM_CHECK(out % groups == 0, m, ": out_channels (", out, ") must be divisible by groups (", groups, ")");
}

void check_padding_mode(const char* m, const std::string& mode, const std::string& padding, bool strided) {
  FM_CHECK(mode == "zeros" || mode == "reflect" || mode == "replicate", m, ": padding_mode must be 'zeros', "
           "'reflect' or 'replicate', got '", mode, "'");
  FM_CHECK(padding.empty() || padding == "same" || padding == "valid", m,
           ": padding must be a number, 'same' or 'valid', got '", padding, "'");
  FM_CHECK(padding != "same" || !strided, m, ": padding='same' is not supported for strided convolutions");
}

// For a padding_mode other than zeros: the (before, after) pads of each spatial dim, as
// F.pad wants them (last dim first). PyTorch's _reversed_padding_repeated_twice.
std::vector<int64_t> explicit_pads(const std::string& mode, const std::vector<int64_t>& pad,
                                   const std::vector<int64_t>& k, const std::vector<int64_t>& d) {
  std::vector<int64_t> out;
  for (size_t i = pad.size(); i-- > 0;) {
    int64_t before = pad[i], after = pad[i];
    if (mode == "same") {
      const int64_t total = d[i] * (k[i] - 1);
      before = total / 2;
      after = total - before;
    } else if (mode == "valid") {
      before = after = 0;
    }
    out.push_back(before);
    out.push_back(after);
  }
  return out;
}

void reset(Tensor& weight, Tensor& bias) {
  init::default_weight_init(weight);
  if (bias.defined()) init::default_bias_init(bias, weight);
}

}  // namespace

// ---------------- Conv1d ----------------

Conv1d::Conv1d(int64_t in, int64_t out, int64_t k, Conv1dOptions o)
    : in_channels(in), out_channels(out), kernel_size(k), options(std::move(o)) {
  check_channels("Conv1d", in, out, options.groups);
  FM_CHECK(k >= 1, "Conv1d: kernel_size must be positive, got ", k);
  check_padding_mode("Conv1d", options.padding_mode, options.padding.mode, options.stride != 1);
  weight = register_parameter("weight", empty({out, in / options.groups, k}, {.dtype = options.dtype}));
  bias = register_parameter("bias", options.bias ? empty({out}, {.dtype = options.dtype}) : Tensor());
  reset_parameters();
}

void Conv1d::reset_parameters() { reset(weight, bias); }

Tensor Conv1d::forward(const Tensor& x) {
  const auto& o = options;
  if (o.padding_mode != "zeros") {
    const auto pads = explicit_pads(o.padding.mode, {o.padding.value}, {kernel_size}, {o.dilation});
    return conv1d(pad(x, pads, o.padding_mode), weight, bias, o.stride, 0, o.dilation, o.groups);
  }
  return conv1d(x, weight, bias, o.stride, o.padding, o.dilation, o.groups);
}

std::string Conv1d::extra_repr() const {
  const auto& o = options;
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=" << tup({kernel_size}) << ", stride=" << tup({o.stride});
  if (!o.padding.mode.empty()) os << ", padding=" << o.padding.mode;
  else if (o.padding.value != 0) os << ", padding=" << tup({o.padding.value});
  if (o.dilation != 1) os << ", dilation=" << tup({o.dilation});
  if (o.groups != 1) os << ", groups=" << o.groups;
  if (!bias.defined()) os << ", bias=False";
  if (o.padding_mode != "zeros") os << ", padding_mode=" << o.padding_mode;
  return os.str();
}

// ---------------- Conv2d ----------------

Conv2d::Conv2d(int64_t in, int64_t out, Int2 k, Conv2dOptions o)
    : in_channels(in), out_channels(out), kernel_size(k), options(std::move(o)) {
  check_channels("Conv2d", in, out, options.groups);
  FM_CHECK(k.h >= 1 && k.w >= 1, "Conv2d: kernel_size must be positive, got (", k.h, ", ", k.w, ")");
  check_padding_mode("Conv2d", options.padding_mode, options.padding.mode, options.stride != Int2(1));
  weight = register_parameter("weight", empty({out, in / options.groups, k.h, k.w}, {.dtype = options.dtype}));
  bias = register_parameter("bias", options.bias ? empty({out}, {.dtype = options.dtype}) : Tensor());
  reset_parameters();
}

void Conv2d::reset_parameters() { reset(weight, bias); }

Tensor Conv2d::forward(const Tensor& x) {
  const auto& o = options;
  if (o.padding_mode != "zeros") {
    const auto pads = explicit_pads(o.padding.mode, {o.padding.value.h, o.padding.value.w},
                                    {kernel_size.h, kernel_size.w}, {o.dilation.h, o.dilation.w});
    return conv2d(pad(x, pads, o.padding_mode), weight, bias, o.stride, 0, o.dilation, o.groups);
  }
  return conv2d(x, weight, bias, o.stride, o.padding, o.dilation, o.groups);
}

std::string Conv2d::extra_repr() const {
  const auto& o = options;
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=" << tup({kernel_size.h, kernel_size.w})
     << ", stride=" << tup({o.stride.h, o.stride.w});
  if (!o.padding.mode.empty()) os << ", padding=" << o.padding.mode;
  else if (o.padding.value != Int2(0)) os << ", padding=" << tup({o.padding.value.h, o.padding.value.w});
  if (o.dilation != Int2(1)) os << ", dilation=" << tup({o.dilation.h, o.dilation.w});
  if (o.groups != 1) os << ", groups=" << o.groups;
  if (!bias.defined()) os << ", bias=False";
  if (o.padding_mode != "zeros") os << ", padding_mode=" << o.padding_mode;
  return os.str();
}

// ---------------- ConvTranspose1d ----------------

ConvTranspose1d::ConvTranspose1d(int64_t in, int64_t out, int64_t k, ConvTranspose1dOptions o)
    : in_channels(in), out_channels(out), kernel_size(k), options(o) {
  check_channels("ConvTranspose1d", in, out, o.groups);
  FM_CHECK(k >= 1, "ConvTranspose1d: kernel_size must be positive, got ", k);
  FM_CHECK(o.output_padding < o.stride || o.output_padding < o.dilation,
           "ConvTranspose1d: output_padding (", o.output_padding, ") must be smaller than either stride (", o.stride,
           ") or dilation (", o.dilation, ")");
  weight = register_parameter("weight", empty({in, out / o.groups, k}, {.dtype = o.dtype}));
  bias = register_parameter("bias", o.bias ? empty({out}, {.dtype = o.dtype}) : Tensor());
  reset_parameters();
}

void ConvTranspose1d::reset_parameters() { reset(weight, bias); }

Tensor ConvTranspose1d::forward(const Tensor& x) {
  const auto& o = options;
  return conv_transpose1d(x, weight, bias, o.stride, o.padding, o.output_padding, o.groups, o.dilation);
}

std::string ConvTranspose1d::extra_repr() const {
  const auto& o = options;
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=" << tup({kernel_size}) << ", stride=" << tup({o.stride});
  if (o.padding != 0) os << ", padding=" << tup({o.padding});
  if (o.dilation != 1) os << ", dilation=" << tup({o.dilation});
  if (o.output_padding != 0) os << ", output_padding=" << tup({o.output_padding});
  if (o.groups != 1) os << ", groups=" << o.groups;
  if (!bias.defined()) os << ", bias=False";
  return os.str();
}

// ---------------- ConvTranspose2d ----------------

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, Int2 k, ConvTranspose2dOptions o)
    : in_channels(in), out_channels(out), kernel_size(k), options(o) {
  check_channels("ConvTranspose2d", in, out, o.groups);
  FM_CHECK(k.h >= 1 && k.w >= 1, "ConvTranspose2d: kernel_size must be positive, got (", k.h, ", ", k.w, ")");
  weight = register_parameter("weight", empty({in, out / o.groups, k.h, k.w}, {.dtype = o.dtype}));
  bias = register_parameter("bias", o.bias ? empty({out}, {.dtype = o.dtype}) : Tensor());
  reset_parameters();
}

void ConvTranspose2d::reset_parameters() { reset(weight, bias); }

Tensor ConvTranspose2d::forward(const Tensor& x) {
  const auto& o = options;
  return conv_transpose2d(x, weight, bias, o.stride, o.padding, o.output_padding, o.groups, o.dilation);
}

std::string ConvTranspose2d::extra_repr() const {
  const auto& o = options;
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=" << tup({kernel_size.h, kernel_size.w})
     << ", stride=" << tup({o.stride.h, o.stride.w});
  if (o.padding != Int2(0)) os << ", padding=" << tup({o.padding.h, o.padding.w});
  if (o.dilation != Int2(1)) os << ", dilation=" << tup({o.dilation.h, o.dilation.w});
  if (o.output_padding != Int2(0)) os << ", output_padding=" << tup({o.output_padding.h, o.output_padding.w});
  if (o.groups != 1) os << ", groups=" << o.groups;
  if (!bias.defined()) os << ", bias=False";
  return os.str();
}

}  // namespace fm::nn
