#include "layers/pool.h"

#include <sstream>

namespace fm::nn {

namespace {

// As PyTorch prints a value given as an int (3) or a pair ((3, 1)).
// (built with a stream: GCC 12 warns falsely (-Wrestrict) about chains of std::string +)
std::string show(Int2 v) {
  std::ostringstream os;
  if (v.h == v.w) os << v.h;
  else os << "(" << v.h << ", " << v.w << ")";
  return os.str();
}
std::string single(int64_t v) {
  std::ostringstream os;
  os << "(" << v << ",)";
  return os.str();
}
const char* py(bool b) { return b ? "True" : "False"; }

void check_positive(const char* m, const char* what, Int2 v) {
  FM_CHECK(v.h >= 1 && v.w >= 1, m, ": ", what, " must be positive, got ", show(v));
}

}  // namespace

MaxPool1d::MaxPool1d(int64_t k, MaxPool1dOptions o) : kernel_size(k), options(o) {
  check_positive("MaxPool1d", "kernel_size", k);
}
Tensor MaxPool1d::forward(const Tensor& x) {
  const auto& o = options;
  return max_pool1d(x, kernel_size, o.stride, o.padding, o.dilation, o.ceil_mode);
}
std::pair<Tensor, Tensor> MaxPool1d::forward_with_indices(const Tensor& x) {
  const auto& o = options;
  return max_pool1d_with_indices(x, kernel_size, o.stride, o.padding, o.dilation, o.ceil_mode);
}
std::string MaxPool1d::extra_repr() const {
  const auto& o = options;
  std::ostringstream os;
  os << "kernel_size=" << kernel_size << ", stride=" << o.stride.value_or(kernel_size) << ", padding=" << o.padding
     << ", dilation=" << o.dilation << ", ceil_mode=" << py(o.ceil_mode);
  return os.str();
}

MaxPool2d::MaxPool2d(Int2 k, MaxPool2dOptions o) : kernel_size(k), options(o) {
  check_positive("MaxPool2d", "kernel_size", k);
}
Tensor MaxPool2d::forward(const Tensor& x) {
  const auto& o = options;
  return max_pool2d(x, kernel_size, o.stride, o.padding, o.dilation, o.ceil_mode);
}
std::pair<Tensor, Tensor> MaxPool2d::forward_with_indices(const Tensor& x) {
  const auto& o = options;
  return max_pool2d_with_indices(x, kernel_size, o.stride, o.padding, o.dilation, o.ceil_mode);
}
std::string MaxPool2d::extra_repr() const {
  const auto& o = options;
  std::ostringstream os;
  os << "kernel_size=" << show(kernel_size) << ", stride=" << show(o.stride.value_or(kernel_size))
     << ", padding=" << show(o.padding) << ", dilation=" << show(o.dilation) << ", ceil_mode=" << py(o.ceil_mode);
  return os.str();
}

AvgPool1d::AvgPool1d(int64_t k, AvgPool1dOptions o) : kernel_size(k), options(o) {
  check_positive("AvgPool1d", "kernel_size", k);
}
Tensor AvgPool1d::forward(const Tensor& x) {
  const auto& o = options;
  return avg_pool1d(x, kernel_size, o.stride, o.padding, o.ceil_mode, o.count_include_pad);
}
std::string AvgPool1d::extra_repr() const {
  const auto& o = options;
  std::ostringstream os;
  os << "kernel_size=" << single(kernel_size) << ", stride=" << single(o.stride.value_or(kernel_size))
     << ", padding=" << single(o.padding);
  return os.str();
}

AvgPool2d::AvgPool2d(Int2 k, AvgPool2dOptions o) : kernel_size(k), options(o) {
  check_positive("AvgPool2d", "kernel_size", k);
}
Tensor AvgPool2d::forward(const Tensor& x) {
  const auto& o = options;
  return avg_pool2d(x, kernel_size, o.stride, o.padding, o.ceil_mode, o.count_include_pad, o.divisor_override);
}
std::string AvgPool2d::extra_repr() const {
  const auto& o = options;
  std::ostringstream os;
  os << "kernel_size=" << show(kernel_size) << ", stride=" << show(o.stride.value_or(kernel_size))
     << ", padding=" << show(o.padding);
  return os.str();
}

AdaptiveAvgPool1d::AdaptiveAvgPool1d(int64_t out) : output_size(out) {
  check_positive("AdaptiveAvgPool1d", "output_size", out);
}
std::string AdaptiveAvgPool1d::extra_repr() const { return std::string("output_size=").append(std::to_string(output_size)); }

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Int2 out) : output_size(out) {
  check_positive("AdaptiveAvgPool2d", "output_size", out);
}
std::string AdaptiveAvgPool2d::extra_repr() const { return std::string("output_size=").append(show(output_size)); }

AdaptiveMaxPool1d::AdaptiveMaxPool1d(int64_t out) : output_size(out) {
  check_positive("AdaptiveMaxPool1d", "output_size", out);
}
std::string AdaptiveMaxPool1d::extra_repr() const { return std::string("output_size=").append(std::to_string(output_size)); }

AdaptiveMaxPool2d::AdaptiveMaxPool2d(Int2 out) : output_size(out) {
  check_positive("AdaptiveMaxPool2d", "output_size", out);
}
std::string AdaptiveMaxPool2d::extra_repr() const { return std::string("output_size=").append(show(output_size)); }

}  // namespace fm::nn
