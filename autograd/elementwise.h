#pragma once
// Differentiable elementwise ops with NumPy broadcasting and PyTorch's type promotion.
#include <optional>
#include <string>

#include "tensor/tensor.h"

namespace fm {

Tensor add(const Tensor& a, const Tensor& b, double alpha = 1);
Tensor sub(const Tensor& a, const Tensor& b, double alpha = 1);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor neg(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor pow(const Tensor& x, const Tensor& exponent);
Tensor pow(double base, const Tensor& exponent);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
// approximate: "none" (exact, erf) or "tanh"
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
Tensor silu(const Tensor& x);
Tensor softplus(const Tensor& x, double beta = 1, double threshold = 20);
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
// cond ? a : b (cond is converted to bool)
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

// comparisons and logic: bool results, no gradient
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, double b);
Tensor ne(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& a);
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);
bool equal(const Tensor& a, const Tensor& b);

// In place: bump the version counter. Under grad mode an in-place op on a tensor that requires
// grad is recorded (the tensor's history is replaced); on a leaf that requires grad it throws.
Tensor& add_(Tensor& x, const Tensor& other, double alpha = 1);
Tensor& sub_(Tensor& x, const Tensor& other, double alpha = 1);
Tensor& mul_(Tensor& x, const Tensor& other);
Tensor& div_(Tensor& x, const Tensor& other);
Tensor& add_(Tensor& x, double v);
Tensor& mul_(Tensor& x, double v);
Tensor& copy_(Tensor& x, const Tensor& src);
Tensor& fill_(Tensor& x, double v);
Tensor& zero_(Tensor& x);
Tensor& clamp_(Tensor& x, std::optional<double> min, std::optional<double> max);
// Non-const overloads take temporaries too (e.g. views: add_(narrow(x, 0, 0, 2), y)).
inline Tensor add_(Tensor&& x, const Tensor& o, double alpha = 1) { return add_(x, o, alpha); }
inline Tensor copy_(Tensor&& x, const Tensor& src) { return copy_(x, src); }
inline Tensor fill_(Tensor&& x, double v) { return fill_(x, v); }
inline Tensor zero_(Tensor&& x) { return zero_(x); }
inline Tensor mul_(Tensor&& x, double v) { return mul_(x, v); }

// operators
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor& operator+=(Tensor& a, const Tensor& b);
Tensor& operator-=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, double b);

}  // namespace fm
