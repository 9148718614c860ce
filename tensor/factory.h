#pragma once
// Tensor factories. Random ones draw from a Philox generator (the default one unless given):
// element i of a uniform tensor uses lane i%4 of block offset+i/4; element i of a normal tensor
// uses block offset+i (Box-Muller on its four lanes). The same on every device.
#include <initializer_list>
#include <vector>

#include "tensor/philox.h"
#include "tensor/tensor.h"

namespace fm {

Tensor zeros(const Shape& sizes, Options o = {});
Tensor ones(const Shape& sizes, Options o = {});
Tensor full(const Shape& sizes, double value, Options o = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor empty_like(const Tensor& t);
// [start, end) in steps of `step`; dtype int64 unless asked otherwise.
Tensor arange(double start, double end, double step = 1, Options o = {.dtype = DType::Int64});
Tensor arange(int64_t end, Options o = {.dtype = DType::Int64});
Tensor linspace(double start, double end, int64_t steps, Options o = {});
Tensor eye(int64_t n, int64_t m = -1, Options o = {});

Tensor rand(const Shape& sizes, Options o = {}, Generator* gen = nullptr);
Tensor randn(const Shape& sizes, Options o = {}, Generator* gen = nullptr);
// Uniform integers in [low, high).
Tensor randint(int64_t low, int64_t high, const Shape& sizes, Options o = {.dtype = DType::Int64},
               Generator* gen = nullptr);
// 1 with probability p (elementwise from a tensor of probabilities, or one scalar p).
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
Tensor bernoulli(const Shape& sizes, double p, Options o = {}, Generator* gen = nullptr);
// A random permutation of 0..n-1 (int64).
Tensor randperm(int64_t n, Generator* gen = nullptr);

// From host data. `tensor({1, 2, 3})` is float32; a shape may be given for nested data.
Tensor tensor(std::initializer_list<double> values, Options o = {});
Tensor from_vector(const std::vector<float>& v, const Shape& sizes, Options o = {});
Tensor from_vector(const std::vector<double>& v, const Shape& sizes, Options o = {.dtype = DType::Float64});
Tensor from_vector(const std::vector<int64_t>& v, const Shape& sizes, Options o = {.dtype = DType::Int64});
Tensor scalar_tensor(double value, Options o = {});

}  // namespace fm
