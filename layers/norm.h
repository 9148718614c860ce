#pragma once
// BatchNorm1d, BatchNorm2d and LayerNorm, with PyTorch's defaults, parameter and buffer names
// (state_dict keys weight, bias, running_mean, running_var, num_batches_tracked).
#include <optional>
#include <string>

#include "layers/module.h"

namespace fm::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  // Weight of the new batch statistics in the running averages; nullopt: a cumulative moving
  // average (factor 1 / num_batches_tracked), as PyTorch's momentum=None.
  std::optional<double> momentum = 0.1;
  bool affine = true;               // learnable weight (ones) and bias (zeros)
  bool track_running_stats = true;  // false: no buffers; batch statistics in eval mode too
  DType dtype = DType::Float32;
};

// Shared by BatchNorm1d/2d: training normalises with the batch statistics (biased variance) and
// updates running_mean / running_var (unbiased) and num_batches_tracked; eval uses the running
// statistics.
class BatchNormBase : public UnaryModule {
 public:
  BatchNormBase(int64_t num_features, BatchNormOptions o);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  void reset_running_stats();
  void reset_parameters();

  int64_t num_features;
  double eps;
  std::optional<double> momentum;
  bool affine, track_running_stats;
  Tensor weight, bias;                                     // [C] or undefined (affine = false)
  Tensor running_mean, running_var, num_batches_tracked;  // [C], [C], int64 []; or undefined

 protected:
  virtual void check_input_dim(const Tensor& x) const = 0;
};

// Input [N, C] or [N, C, L].
class BatchNorm1d : public BatchNormBase {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions o = {}) : BatchNormBase(num_features, o) {}
  std::string type_name() const override { return "BatchNorm1d"; }

 protected:
  void check_input_dim(const Tensor& x) const override;
};

// Input [N, C, H, W].
class BatchNorm2d : public BatchNormBase {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions o = {}) : BatchNormBase(num_features, o) {}
  std::string type_name() const override { return "BatchNorm2d"; }

 protected:
  void check_input_dim(const Tensor& x) const override;
};

struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;  // learnable weight (ones) and bias (zeros) of normalized_shape
  DType dtype = DType::Float32;
};

// Normalises over the trailing dims given by normalized_shape.
class LayerNorm : public UnaryModule {
 public:
  explicit LayerNorm(Shape normalized_shape, LayerNormOptions o = {});
  explicit LayerNorm(int64_t normalized_size, LayerNormOptions o = {})
      : LayerNorm(Shape{normalized_size}, o) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LayerNorm"; }
  std::string extra_repr() const override;
  void reset_parameters();

  Shape normalized_shape;
  double eps;
  bool elementwise_affine;
  Tensor weight, bias;  // normalized_shape, or undefined
};

}  // namespace fm::nn
