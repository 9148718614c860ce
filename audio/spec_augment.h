#pragma once
// SpecAugment masking (Park et al. 2019) as torchaudio 0.13 does it: mask_along_axis,
// mask_along_axis_iid, TimeMasking and FrequencyMasking, with the draws from a Philox
// Generator, and mask_along_axis_at for masks at given positions.
#include <cstdint>

#include "audio/augment.h"
#include "tensor/philox.h"
#include "tensor/tensor.h"

namespace fm::audio {

// Sets spec[..., start : start + width] along `axis` (one of the last two dims: -2 or dim-2
// for frequency, -1 or dim-1 for time) to mask_value. starts and widths are int64 of the
// leading shape spec.sizes()[:-2] (one mask per example), or single values shared by all.
// Differentiable in spec (a zero gradient where masked).
Tensor mask_along_axis_at(const Tensor& spec, int64_t axis, const Tensor& starts, const Tensor& widths,
                          double mask_value = 0.0);

// torchaudio.functional.mask_along_axis: one mask shared by every example: width =
// floor(u1 * mask_param), start = floor(u2 * (size - u1 * mask_param)) with u1, u2 uniform in
// [0, 1) (float32), so width < mask_param. With p < 1, mask_param is capped at floor(size * p).
Tensor mask_along_axis(const Tensor& spec, int64_t mask_param, double mask_value, int64_t axis, double p = 1.0,
                       Generator* gen = nullptr);

// torchaudio.functional.mask_along_axis_iid: a mask per example (per index of the leading dims
// spec.sizes()[:-2]), drawn in spec's dtype.
Tensor mask_along_axis_iid(const Tensor& spec, int64_t mask_param, double mask_value, int64_t axis, double p = 1.0,
                           Generator* gen = nullptr);

// torchaudio.transforms.TimeMasking / FrequencyMasking on [..., freq, time]: with iid_masks and
// a 4-D input [batch, channel, freq, time] each (batch, channel) gets its own mask (as in
// torchaudio, other ranks share one mask); p caps the width at that fraction of the axis.
class TimeMasking : public Augmentation {
 public:
  explicit TimeMasking(int64_t time_mask_param, bool iid_masks = false, double p = 1.0, double mask_value = 0.0);
  std::string type_name() const override { return "TimeMasking"; }
  std::string extra_repr() const override;
  int64_t mask_param;
  bool iid_masks;
  double p, mask_value;

 protected:
  Tensor apply(const Tensor& spec, Generator& gen) override;
};

class FrequencyMasking : public Augmentation {
 public:
  explicit FrequencyMasking(int64_t freq_mask_param, bool iid_masks = false, double mask_value = 0.0);
  std::string type_name() const override { return "FrequencyMasking"; }
  std::string extra_repr() const override;
  int64_t mask_param;
  bool iid_masks;
  double mask_value;

 protected:
  Tensor apply(const Tensor& spec, Generator& gen) override;
};

}  // namespace fm::audio
