#include "tensor/factory.h"

#include <cmath>
#include <numeric>

namespace fm {

Generator& default_generator() {
  static Generator g;
  return g;
}

namespace {

constexpr int64_t kParallelGrainFactory = 32768;

// Builds on the CPU, then moves to the requested device (the CUDA backend fills in place).
Tensor finish(Tensor cpu, Options o) {
  Tensor t = o.device.is_cpu() ? cpu : to_raw(cpu, cpu.dtype(), o.device);
  if (o.requires_grad) t.requires_grad_(true);
  return t;
}

template <class T, class F>
void fill_values(T* p, int64_t n, F& value_at) {
#pragma omp parallel for if (n > kParallelGrainFactory) schedule(static)
  for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(value_at(i));
}

template <class F>
Tensor generate(const Shape& sizes, DType dtype, F&& value_at) {
  Tensor t = empty(sizes, {.dtype = dtype});
  const int64_t n = t.numel();
  FM_DISPATCH_ALL(dtype, "factory", [&] {
    fill_values(t.data_ptr<scalar_t>(), n, value_at);
  });
  return t;
}
}  // namespace

Tensor full(const Shape& sizes, double value, Options o) {
  return finish(generate(sizes, o.dtype, [value](int64_t) { return value; }), o);
}
Tensor zeros(const Shape& sizes, Options o) { return full(sizes, 0.0, o); }
Tensor ones(const Shape& sizes, Options o) { return full(sizes, 1.0, o); }
Tensor zeros_like(const Tensor& t) { return zeros(t.sizes(), {.dtype = t.dtype(), .device = t.device()}); }
Tensor ones_like(const Tensor& t) { return ones(t.sizes(), {.dtype = t.dtype(), .device = t.device()}); }
Tensor full_like(const Tensor& t, double v) { return full(t.sizes(), v, {.dtype = t.dtype(), .device = t.device()}); }
Tensor empty_like(const Tensor& t) { return empty(t.sizes(), {.dtype = t.dtype(), .device = t.device()}); }

Tensor arange(double start, double end, double step, Options o) {
  FM_CHECK(step != 0, "arange: step must be nonzero");
  FM_CHECK((end - start) / step >= 0 || end == start, "arange: start ", start, ", end ", end,
           " and step ", step, " describe no range (wrong sign of step)");
  const int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
  return finish(generate({std::max<int64_t>(n, 0)}, o.dtype,
                         [=](int64_t i) { return start + step * static_cast<double>(i); }),
                o);
}
Tensor arange(int64_t end, Options o) { return arange(0, static_cast<double>(end), 1, o); }

Tensor linspace(double start, double end, int64_t steps, Options o) {
  FM_CHECK(steps >= 0, "linspace: number of steps must be non-negative, got ", steps);
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  // symmetric evaluation, as PyTorch does, so the last value is exactly `end`
  // (a single step is `start`, as in PyTorch and NumPy)
  const int64_t half = steps == 1 ? 1 : steps / 2;
  return finish(generate({steps}, o.dtype,
                         [=](int64_t i) {
                           return i < half ? start + step * static_cast<double>(i)
                                           : end - step * static_cast<double>(steps - 1 - i);
                         }),
                o);
}

Tensor eye(int64_t n, int64_t m, Options o) {
  if (m < 0) m = n;
  FM_CHECK(n >= 0, "eye: n must be non-negative, got ", n);
  return finish(generate({n, m}, o.dtype, [m](int64_t i) { return (i / m == i % m) ? 1.0 : 0.0; }), o);
}

Tensor rand(const Shape& sizes, Options o, Generator* gen) {
  FM_CHECK(is_floating(o.dtype), "rand: dtype must be floating point, got ", o.dtype);
  Generator& g = gen ? *gen : default_generator();
  const int64_t n = shape_numel(sizes);
  const uint64_t seed = g.seed();
  if (o.dtype == DType::Float32) {
    const uint64_t base = g.reserve(static_cast<uint64_t>((n + 3) / 4));
    return finish(generate(sizes, o.dtype,
                           [=](int64_t i) {
                             return uniform_float(philox4x32_10(base + i / 4, 0, seed).v[i % 4]);
                           }),
                  o);
  }
  const uint64_t base = g.reserve(static_cast<uint64_t>((n + 1) / 2));
  return finish(generate(sizes, o.dtype,
                         [=](int64_t i) {
                           const PhiloxBlock b = philox4x32_10(base + i / 2, 0, seed);
                           const int l = static_cast<int>(i % 2) * 2;
                           return uniform_double(b.v[l], b.v[l + 1]);
                         }),
                o);
}

Tensor randn(const Shape& sizes, Options o, Generator* gen) {
  FM_CHECK(is_floating(o.dtype), "randn: dtype must be floating point, got ", o.dtype);
  Generator& g = gen ? *gen : default_generator();
  const int64_t n = shape_numel(sizes);
  const uint64_t seed = g.seed();
  const uint64_t base = g.reserve(static_cast<uint64_t>(n));
  return finish(generate(sizes, o.dtype,
                         [=](int64_t i) {
                           const PhiloxBlock b = philox4x32_10(base + i, 0, seed);
                           // u1 in (0, 1] so the log is finite
                           const double u1 = 1.0 - uniform_double(b.v[0], b.v[1]);
                           const double u2 = uniform_double(b.v[2], b.v[3]);
                           return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
                         }),
                o);
}

Tensor randint(int64_t low, int64_t high, const Shape& sizes, Options o, Generator* gen) {
  FM_CHECK(high > low, "randint: expected low < high, got low=", low, " high=", high);
  Generator& g = gen ? *gen : default_generator();
  const int64_t n = shape_numel(sizes);
  const uint64_t seed = g.seed();
  const uint64_t base = g.reserve(static_cast<uint64_t>((n + 1) / 2));
  const uint64_t range = static_cast<uint64_t>(high - low);
  return finish(generate(sizes, o.dtype,
                         [=](int64_t i) {
                           const PhiloxBlock b = philox4x32_10(base + i / 2, 0, seed);
                           const int l = static_cast<int>(i % 2) * 2;
                           const uint64_t r = uint64_t{b.v[l]} << 32 | b.v[l + 1];
                           return static_cast<double>(low + static_cast<int64_t>(r % range));
                         }),
                o);
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  Tensor pc = contiguous_raw(to_raw(p, DType::Float64, Device::cpu()));
  const double* pp = pc.data_ptr<double>();
  for (int64_t i = 0; i < pc.numel(); ++i)
    FM_CHECK(pp[i] >= 0 && pp[i] <= 1, "bernoulli: probabilities must be in [0, 1], got ", pp[i]);
  const int64_t n = pc.numel();
  const uint64_t seed = g.seed();
  const uint64_t base = g.reserve(static_cast<uint64_t>((n + 3) / 4));
  Tensor out = generate(p.sizes(), p.dtype(), [=](int64_t i) {
    return uniform_float(philox4x32_10(base + i / 4, 0, seed).v[i % 4]) < pp[i] ? 1.0 : 0.0;
  });
  return finish(out, {.dtype = p.dtype(), .device = p.device()});
}

Tensor bernoulli(const Shape& sizes, double p, Options o, Generator* gen) {
  FM_CHECK(p >= 0 && p <= 1, "bernoulli: probability must be in [0, 1], got ", p);
  Generator& g = gen ? *gen : default_generator();
  const int64_t n = shape_numel(sizes);
  const uint64_t seed = g.seed();
  const uint64_t base = g.reserve(static_cast<uint64_t>((n + 3) / 4));
  return finish(generate(sizes, o.dtype,
                         [=](int64_t i) {
                           return uniform_float(philox4x32_10(base + i / 4, 0, seed).v[i % 4]) < p ? 1.0 : 0.0;
                         }),
                o);
}

Tensor randperm(int64_t n, Generator* gen) {
  FM_CHECK(n >= 0, "randperm: n must be non-negative, got ", n);
  Generator& g = gen ? *gen : default_generator();
  Tensor t = empty({n}, {.dtype = DType::Int64});
  int64_t* p = t.data_ptr<int64_t>();
  std::iota(p, p + n, int64_t{0});
  const uint64_t seed = g.seed();
  const uint64_t base = g.reserve(static_cast<uint64_t>(n));
  for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates, one block per swap
    const PhiloxBlock b = philox4x32_10(base + i, 0, seed);
    const uint64_t r = uint64_t{b.v[0]} << 32 | b.v[1];
    std::swap(p[i], p[r % static_cast<uint64_t>(i + 1)]);
  }
  return t;
}

Tensor tensor(std::initializer_list<double> values, Options o) {
  std::vector<double> v(values);
  return finish(generate({static_cast<int64_t>(v.size())}, o.dtype, [&](int64_t i) { return v[i]; }), o);
}

template <class T>
static Tensor from_host(const std::vector<T>& v, const Shape& sizes, Options o) {
  FM_CHECK(static_cast<int64_t>(v.size()) == shape_numel(sizes), "from_vector: ", v.size(),
           " values cannot fill shape ", shape_str(sizes));
  return finish(generate(sizes, o.dtype, [&](int64_t i) { return v[i]; }), o);
}
Tensor from_vector(const std::vector<float>& v, const Shape& s, Options o) { return from_host(v, s, o); }
Tensor from_vector(const std::vector<double>& v, const Shape& s, Options o) { return from_host(v, s, o); }
Tensor from_vector(const std::vector<int64_t>& v, const Shape& s, Options o) { return from_host(v, s, o); }
Tensor scalar_tensor(double value, Options o) { return full({}, value, o); }

}  // namespace fm
