#pragma once
// Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d with PyTorch's arguments, defaults,
// parameter names ("weight", "bias"), weight layouts and initialisation:
//   Conv:          weight [out, in/groups, k...]    ConvTranspose: weight [in, out/groups, k...]
// both initialised by init::default_weight_init / default_bias_init, whose fan_in is computed
// from the weight's layout (size(1) * kernel elements), exactly as PyTorch does.
//   nn::Conv2d conv(1, 64, {12, 1}, {.padding = "same"});
#include <string>

#include "autograd/conv.h"
#include "layers/module.h"

namespace fm::nn {

struct Conv1dOptions {
  int64_t stride = 1;
  Padding1d padding = 0;  // a number, "same" or "valid"
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  std::string padding_mode = "zeros";  // "zeros", "reflect" or "replicate"
  DType dtype = DType::Float32;
};

struct Conv2dOptions {
  Int2 stride = 1;
  Padding2d padding = 0;  // a number, {h, w}, "same" or "valid"
  Int2 dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  std::string padding_mode = "zeros";  // "zeros", "reflect" or "replicate"
  DType dtype = DType::Float32;
};

struct ConvTranspose1dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t output_padding = 0;
  int64_t groups = 1;
  bool bias = true;
  int64_t dilation = 1;
  DType dtype = DType::Float32;
};

struct ConvTranspose2dOptions {
  Int2 stride = 1;
  Int2 padding = 0;
  Int2 output_padding = 0;
  int64_t groups = 1;
  bool bias = true;
  Int2 dilation = 1;
  DType dtype = DType::Float32;
};

class Conv1d : public UnaryModule {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Conv1dOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv1d"; }
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t in_channels, out_channels, kernel_size;
  Conv1dOptions options;
  Tensor weight;  // [out, in/groups, k]
  Tensor bias;    // [out] or undefined
};

class Conv2d : public UnaryModule {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Int2 kernel_size, Conv2dOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv2d"; }
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t in_channels, out_channels;
  Int2 kernel_size;
  Conv2dOptions options;
  Tensor weight;  // [out, in/groups, kh, kw]
  Tensor bias;    // [out] or undefined
};

class ConvTranspose1d : public UnaryModule {
 public:
  ConvTranspose1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, ConvTranspose1dOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ConvTranspose1d"; }
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t in_channels, out_channels, kernel_size;
  ConvTranspose1dOptions options;
  Tensor weight;  // [in, out/groups, k]
  Tensor bias;    // [out] or undefined
};

class ConvTranspose2d : public UnaryModule {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, Int2 kernel_size, ConvTranspose2dOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ConvTranspose2d"; }
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t in_channels, out_channels;
  Int2 kernel_size;
  ConvTranspose2dOptions options;
  Tensor weight;  // [in, out/groups, kh, kw]
  Tensor bias;    // [out] or undefined
};

}  // namespace fm::nn
