#include "audio/spec_augment.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "autograd/elementwise.h"
#include "tensor/dtype.h"
#include "tensor/factory.h"

namespace fm::audio {
namespace {

int64_t mask_axis(const char* op, const Tensor& spec, int64_t axis) {
  FM_CHECK(spec.defined() && spec.dim() >= 2 && spec.is_floating_point(), op,
           ": expected a float32 or float64 spectrogram [..., freq, time], got ",
           spec.defined() ? spec.describe() : std::string("an undefined tensor"));
  const int64_t d = spec.dim();
  const int64_t a = axis < 0 ? axis + d : axis;
  FM_CHECK(a == d - 2 || a == d - 1, op, ": axis must be one of the last two dims (frequency ", d - 2, " / -2, time ",
           d - 1, " / -1) of shape ", shape_str(spec.sizes()), ", got ", axis);
  return a;
}

int64_t lead_count(const Tensor& spec) {
  int64_t n = 1;
  for (int64_t i = 0; i + 2 < spec.dim(); ++i) n *= spec.sizes()[i];
  return n;
}

// torchaudio's _get_mask_param
int64_t capped_param(const char* op, int64_t mask_param, double p, int64_t size) {
  FM_CHECK(p >= 0.0 && p <= 1.0, op, ": p must be in [0, 1], got ", p);
  FM_CHECK(mask_param >= 0, op, ": mask_param must be non-negative, got ", mask_param);
  return p == 1.0 ? mask_param : std::min(mask_param, static_cast<int64_t>(static_cast<double>(size) * p));
}

std::vector<int64_t> per_example(const char* op, const char* what, const Tensor& t, int64_t n, const Shape& lead) {
  FM_CHECK(t.defined() && t.dtype() == DType::Int64 && (t.numel() == 1 || (t.numel() == n && t.sizes() == lead)), op,
           ": ", what, " must be int64 of the leading shape ", shape_str(lead), " or a single value, got ",
           t.defined() ? t.describe() : std::string("an undefined tensor"));
  std::vector<int64_t> v = contiguous_raw(t).to_vector<int64_t>();
  if (v.size() == 1) v.assign(static_cast<size_t>(n), v[0]);
  return v;
}

// start = floor(u_start * (size - u_width * param)), width = floor(u_width * param), in T as torchaudio.
template <class T>
void bounds_from_uniforms(T u_width, T u_start, int64_t param, int64_t size, int64_t& start, int64_t& width) {
  const T value = u_width * static_cast<T>(param);
  const T min_value = u_start * (static_cast<T>(size) - value);
  start = static_cast<int64_t>(min_value);
  width = static_cast<int64_t>(value);
}

std::string axis_repr(int64_t param, bool iid, double value) {
  std::ostringstream s;
  s << "mask_param=" << param << ", iid_masks=" << (iid ? "True" : "False") << ", mask_value=" << value;
  return s.str();
}

}  // namespace

Tensor mask_along_axis_at(const Tensor& spec, int64_t axis, const Tensor& starts, const Tensor& widths,
                          double mask_value) {
  const int64_t a = mask_axis("mask_along_axis_at", spec, axis);
  const int64_t n = lead_count(spec);
  const Shape lead(spec.sizes().begin(), spec.sizes().end() - 2);
  const auto s = per_example("mask_along_axis_at", "starts", starts, n, lead);
  const auto w = per_example("mask_along_axis_at", "widths", widths, n, lead);
  const int64_t F = spec.sizes()[spec.dim() - 2], T = spec.sizes().back();
  Tensor mask = zeros(spec.sizes(), {.dtype = DType::Bool});
  bool* m = mask.data_ptr<bool>();
  const bool time = a == spec.dim() - 1;
  for (int64_t b = 0; b < n; ++b) {
    FM_CHECK(w[b] >= 0, "mask_along_axis_at: widths must be non-negative, got ", w[b], " for example ", b);
    const int64_t lo = std::max<int64_t>(0, s[b]), hi = std::min(time ? T : F, s[b] + w[b]);
    for (int64_t i = lo; i < hi; ++i) {
      if (time) {
        for (int64_t f = 0; f < F; ++f) m[(b * F + f) * T + i] = true;
      } else {
        std::fill(m + (b * F + i) * T, m + (b * F + i + 1) * T, true);
      }
    }
  }
  return masked_fill(spec, mask, mask_value);
}

Tensor mask_along_axis(const Tensor& spec, int64_t mask_param, double mask_value, int64_t axis, double p,
                       Generator* gen) {
  const int64_t a = mask_axis("mask_along_axis", spec, axis);
  const int64_t size = spec.sizes()[a];
  const int64_t param = capped_param("mask_along_axis", mask_param, p, size);
  if (param < 1) return spec;
  const auto u = rand({2}, {.dtype = DType::Float32}, gen).to_vector<float>();
  int64_t start = 0, width = 0;
  bounds_from_uniforms<float>(u[0], u[1], param, size, start, width);
  return mask_along_axis_at(spec, a, scalar_tensor(static_cast<double>(start), {.dtype = DType::Int64}),
                            scalar_tensor(static_cast<double>(width), {.dtype = DType::Int64}), mask_value);
}

Tensor mask_along_axis_iid(const Tensor& spec, int64_t mask_param, double mask_value, int64_t axis, double p,
                           Generator* gen) {
  const int64_t a = mask_axis("mask_along_axis_iid", spec, axis);
  const int64_t size = spec.sizes()[a];
  const int64_t param = capped_param("mask_along_axis_iid", mask_param, p, size);
  if (param < 1) return spec;
  const int64_t n = lead_count(spec);
  const Shape lead(spec.sizes().begin(), spec.sizes().end() - 2);
  std::vector<int64_t> starts(static_cast<size_t>(n)), widths(static_cast<size_t>(n));
  const Tensor u = rand({2, n}, {.dtype = spec.dtype()}, gen);
  dispatch_floating(spec.dtype(), "mask_along_axis_iid", [&]<class T>() {
    const T* up = u.data_ptr<T>();
    for (int64_t b = 0; b < n; ++b) bounds_from_uniforms<T>(up[b], up[n + b], param, size, starts[b], widths[b]);
  });
  return mask_along_axis_at(spec, a, from_vector(starts, lead), from_vector(widths, lead), mask_value);
}

TimeMasking::TimeMasking(int64_t param, bool iid, double p_, double value)
    : mask_param(param), iid_masks(iid), p(p_), mask_value(value) {
  FM_CHECK(p >= 0.0 && p <= 1.0, "TimeMasking: p must be in [0, 1], got ", p);
  FM_CHECK(param >= 0, "TimeMasking: time_mask_param must be non-negative, got ", param);
}
std::string TimeMasking::extra_repr() const {
  return axis_repr(mask_param, iid_masks, mask_value) + ", p=" + std::to_string(p);
}
Tensor TimeMasking::apply(const Tensor& spec, Generator& gen) {
  if (iid_masks && spec.dim() == 4) return mask_along_axis_iid(spec, mask_param, mask_value, -1, p, &gen);
  return mask_along_axis(spec, mask_param, mask_value, -1, p, &gen);
}

FrequencyMasking::FrequencyMasking(int64_t param, bool iid, double value)
    : mask_param(param), iid_masks(iid), mask_value(value) {
  FM_CHECK(param >= 0, "FrequencyMasking: freq_mask_param must be non-negative, got ", param);
}
std::string FrequencyMasking::extra_repr() const { return axis_repr(mask_param, iid_masks, mask_value); }
Tensor FrequencyMasking::apply(const Tensor& spec, Generator& gen) {
  if (iid_masks && spec.dim() == 4) return mask_along_axis_iid(spec, mask_param, mask_value, -2, 1.0, &gen);
  return mask_along_axis(spec, mask_param, mask_value, -2, 1.0, &gen);
}

}  // namespace fm::audio
