#pragma once
// Pooling modules with PyTorch's arguments, defaults and printing: MaxPool1d/2d, AvgPool1d/2d,
// AdaptiveAvgPool1d/2d, AdaptiveMaxPool1d/2d. They have no parameters. Max pools give their
// indices through forward_with_indices (PyTorch's return_indices=True).
//   nn::MaxPool2d pool({2, 1});                   // stride defaults to the kernel
//   nn::AvgPool1d avg(3, {.stride = 2, .padding = 1, .count_include_pad = false});
#include <optional>
#include <string>
#include <utility>

#include "autograd/pool.h"
#include "layers/module.h"

namespace fm::nn {

struct MaxPool1dOptions {
  std::optional<int64_t> stride;  // default: kernel_size
  int64_t padding = 0;
  int64_t dilation = 1;
  bool ceil_mode = false;
};
struct MaxPool2dOptions {
  std::optional<Int2> stride;  // default: kernel_size
  Int2 padding = 0;
  Int2 dilation = 1;
  bool ceil_mode = false;
};
struct AvgPool1dOptions {
  std::optional<int64_t> stride;
  int64_t padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};
struct AvgPool2dOptions {
  std::optional<Int2> stride;
  Int2 padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
  int64_t divisor_override = 0;  // 0: none
};

class MaxPool1d : public UnaryModule {
 public:
  explicit MaxPool1d(int64_t kernel_size, MaxPool1dOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::pair<Tensor, Tensor> forward_with_indices(const Tensor& x);
  std::string type_name() const override { return "MaxPool1d"; }
  std::string extra_repr() const override;
  int64_t kernel_size;
  MaxPool1dOptions options;
};

class MaxPool2d : public UnaryModule {
 public:
  explicit MaxPool2d(Int2 kernel_size, MaxPool2dOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::pair<Tensor, Tensor> forward_with_indices(const Tensor& x);
  std::string type_name() const override { return "MaxPool2d"; }
  std::string extra_repr() const override;
  Int2 kernel_size;
  MaxPool2dOptions options;
};

class AvgPool1d : public UnaryModule {
 public:
  explicit AvgPool1d(int64_t kernel_size, AvgPool1dOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AvgPool1d"; }
  std::string extra_repr() const override;
  int64_t kernel_size;
  AvgPool1dOptions options;
};

class AvgPool2d : public UnaryModule {
 public:
  explicit AvgPool2d(Int2 kernel_size, AvgPool2dOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AvgPool2d"; }
  std::string extra_repr() const override;
  Int2 kernel_size;
  AvgPool2dOptions options;
};

class AdaptiveAvgPool1d : public UnaryModule {
 public:
  explicit AdaptiveAvgPool1d(int64_t output_size);
  Tensor forward(const Tensor& x) override { return adaptive_avg_pool1d(x, output_size); }
  std::string type_name() const override { return "AdaptiveAvgPool1d"; }
  std::string extra_repr() const override;
  int64_t output_size;
};

class AdaptiveAvgPool2d : public UnaryModule {
 public:
  explicit AdaptiveAvgPool2d(Int2 output_size);
  Tensor forward(const Tensor& x) override { return adaptive_avg_pool2d(x, output_size); }
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  std::string extra_repr() const override;
  Int2 output_size;
};

class AdaptiveMaxPool1d : public UnaryModule {
 public:
  explicit AdaptiveMaxPool1d(int64_t output_size);
  Tensor forward(const Tensor& x) override { return adaptive_max_pool1d(x, output_size); }
  std::pair<Tensor, Tensor> forward_with_indices(const Tensor& x) {
    return adaptive_max_pool1d_with_indices(x, output_size);
  }
  std::string type_name() const override { return "AdaptiveMaxPool1d"; }
  std::string extra_repr() const override;
  int64_t output_size;
};

class AdaptiveMaxPool2d : public UnaryModule {
 public:
  explicit AdaptiveMaxPool2d(Int2 output_size);
  Tensor forward(const Tensor& x) override { return adaptive_max_pool2d(x, output_size); }
  std::pair<Tensor, Tensor> forward_with_indices(const Tensor& x) {
    return adaptive_max_pool2d_with_indices(x, output_size);
  }
  std::string type_name() const override { return "AdaptiveMaxPool2d"; }
  std::string extra_repr() const override;
  Int2 output_size;
};

}  // namespace fm::nn
