#pragma once
// Vectorised float32 exp and erf for the CPU kernels, written with GCC/Clang vector
// extensions so that they vectorise whatever the compiler flags (libm's expf/erff do not
// vectorise without -ffast-math, and under the default -ftrapping-math GCC will not if-convert
// the range checks of a scalar version). Used on float32 data only; float64 keeps libm.
//   exp: Cephes' range reduction and degree-6 polynomial, within 2 ulp of expf; it overflows
//        to inf and underflows through the subnormals to 0 as expf does; exp(-inf) = 0,
//        exp(inf) = inf, NaN stays NaN.
//   erf: Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7 + rounding), the formula
//        PyTorch's vectorised CPU erf uses. Only gelu uses it: there the absolute error is
//        what matters (erf of tiny x loses relative accuracy).
#include <cstdint>
#include <cstring>

// The vector types are only passed between inline functions; the ABI note GCC gives when the
// target has no AVX-512 is irrelevant here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace fm::kernels::vec {

inline constexpr int kLanes = 16;
using vfloat = float __attribute__((vector_size(4 * kLanes)));
using vint = int32_t __attribute__((vector_size(4 * kLanes)));

inline vfloat splat(float v) { return vfloat{} + v; }

inline vfloat exp(vfloat x) {
  const float kLog2e = 1.44269504088896341f;
  const float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  // Beyond these expf is inf (89 > 88.72) or rounds to 0 (-104 < -103.97); inside them
  // n = round(x / ln 2) lies in [-150, 129], so 2^n is built as two normal factors and the
  // product overflows or underflows as expf does.
  const float kHi = 89.0f, kLo = -104.0f;
  vfloat xc = x < kLo ? splat(kLo) : x;
  xc = xc > kHi ? splat(kHi) : xc;
  const vfloat fx = xc * kLog2e;
  const vint n = __builtin_convertvector(fx + (fx >= 0 ? splat(0.5f) : splat(-0.5f)), vint);
  const vfloat fn = __builtin_convertvector(n, vfloat);
  const vfloat r = (xc - fn * kLn2Hi) - fn * kLn2Lo;
  vfloat p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const vint n1 = n >> 1, n2 = n - n1;
  vfloat s1, s2;
  const vint b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
  std::memcpy(&s1, &b1, sizeof s1);
  std::memcpy(&s2, &b2, sizeof s2);
  const vfloat y = (p * s1) * s2;
  return x != x ? x : y;  // NaN in, NaN out
}

inline vfloat erf(vfloat x) {
  const float p = 0.3275911f, a1 = 0.254829592f, a2 = -0.284496736f, a3 = 1.421413741f,
              a4 = -1.453152027f, a5 = 1.061405429f;
  const vfloat ax = x < 0 ? -x : x;
  const vfloat t = 1.0f / (1.0f + p * ax);
  const vfloat poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t;
  const vfloat y = 1.0f - poly * exp(-ax * ax);
  return x < 0 ? -y : y;
}

// gelu(x) = x/2 (1 + erf(x / sqrt 2))
inline vfloat gelu(vfloat x) { return 0.5f * x * (1.0f + erf(x * 0.70710678118654752f)); }

// o[i] = f(a[i]) over contiguous floats, kLanes at a time; the tail goes through a padded
// vector, so every element gets exactly the same arithmetic.
template <class F>
void map(const float* a, float* o, int64_t n, F f) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    vfloat v;
    std::memcpy(&v, a + i, sizeof v);
    v = f(v);
    std::memcpy(o + i, &v, sizeof v);
  }
  if (i < n) {
    vfloat v = {};
    std::memcpy(&v, a + i, (n - i) * sizeof(float));
    v = f(v);
    std::memcpy(o + i, &v, (n - i) * sizeof(float));
  }
}

// One element through the vector code (for strided loops: the same result as the contiguous path).
template <class F>
float apply1(float x, F f) {
  return f(splat(x))[0];
}

inline float hsum(vfloat v) {
  float s = 0;
  for (int k = 0; k < kLanes; ++k) s += v[k];
  return s;
}

// The last n % kLanes elements of p[0..n) from `from`, padded with `fill`.
inline vfloat load_tail(const float* p, int64_t from, int64_t n, float fill) {
  vfloat v = splat(fill);
  std::memcpy(&v, p + from, (n - from) * sizeof(float));
  return v;
}

// max over p[0..n) (-inf when empty); NaNs are skipped here and surface through exp later.
inline float max_of(const float* p, int64_t n) {
  const float ninf = -__builtin_inff();
  const int64_t full = n / kLanes * kLanes;
  vfloat vm = splat(ninf);
  for (int64_t i = 0; i < full; i += kLanes) {
    vfloat v;
    std::memcpy(&v, p + i, sizeof v);
    vm = v > vm ? v : vm;
  }
  if (full < n) {
    const vfloat v = load_tail(p, full, n, ninf);
    vm = v > vm ? v : vm;
  }
  float m = ninf;
  for (int k = 0; k < kLanes; ++k) m = m > vm[k] ? m : vm[k];
  return m;
}

// sum of exp(p[i] - shift) over p[0..n); each exp is also stored in out[i] unless out is null.
inline float sum_exp(const float* p, int64_t n, float shift, float* out) {
  const vfloat vs = splat(shift);
  const int64_t full = n / kLanes * kLanes;
  vfloat acc = {};
  for (int64_t i = 0; i < full; i += kLanes) {
    vfloat v;
    std::memcpy(&v, p + i, sizeof v);
    const vfloat e = exp(v - vs);
    if (out) std::memcpy(out + i, &e, sizeof e);
    acc += e;
  }
  if (full < n) {
    const vfloat e = exp(load_tail(p, full, n, -__builtin_inff()) - vs);
    if (out) std::memcpy(out + full, &e, (n - full) * sizeof(float));
    acc += e;
  }
  return hsum(acc);
}

}  // namespace fm::kernels::vec

#pragma GCC diagnostic pop
