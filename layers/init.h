#pragma once
// Parameter initialisation, with PyTorch's names and formulas (torch.nn.init). Each fills the
// tensor in place without recording a graph and draws from the given (or default) generator.
#include <string>

#include "tensor/philox.h"
#include "tensor/tensor.h"

namespace fm::nn::init {

// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (dims >= 2).
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t);
// Recommended gain: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu sqrt(2/(1+a^2)), selu 3/4.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

Tensor& uniform_(Tensor& t, double a = 0, double b = 1, Generator* gen = nullptr);
Tensor& normal_(Tensor& t, double mean = 0, double std = 1, Generator* gen = nullptr);
Tensor& constant_(Tensor& t, double value);
Tensor& zeros_(Tensor& t);
Tensor& ones_(Tensor& t);
Tensor& xavier_uniform_(Tensor& t, double gain = 1, Generator* gen = nullptr);
Tensor& xavier_normal_(Tensor& t, double gain = 1, Generator* gen = nullptr);
// mode: "fan_in" or "fan_out"
Tensor& kaiming_uniform_(Tensor& t, double a = 0, const std::string& mode = "fan_in",
                         const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);
Tensor& kaiming_normal_(Tensor& t, double a = 0, const std::string& mode = "fan_in",
                        const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);
// Rows (or columns, whichever are fewer) orthonormal, times gain; for dims >= 2 (flattened).
Tensor& orthogonal_(Tensor& t, double gain = 1, Generator* gen = nullptr);

// PyTorch's default for Linear and Conv weights: kaiming_uniform_(a = sqrt(5)), i.e.
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)); and for their biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
void default_weight_init(Tensor& weight, Generator* gen = nullptr);
void default_bias_init(Tensor& bias, const Tensor& weight, Generator* gen = nullptr);

}  // namespace fm::nn::init
