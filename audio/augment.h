#pragma once
// Waveform augmentation (the audiomentations / torch-audiomentations family): gain, Gaussian
// noise at a signal-to-noise ratio, polarity inversion, random crop, time stretch and pitch
// shift, mixup with label mixing, and Compose to chain them with a probability each.
//
// Every random choice is drawn from a Philox Generator passed in (or fm's default generator,
// seeded by fm::manual_seed, when none is), so the same seed gives the same augmented data on
// any machine. A transform draws its parameters once per call: the whole tensor [..., time]
// (channels, or a batch) gets the same gain, rate, crop offset; augment items one at a time
// (as a Dataset does) for independent draws.
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "audio/resample.h"
#include "layers/module.h"
#include "tensor/philox.h"
#include "tensor/tensor.h"

namespace fm::audio {

// ----- functions -----

// waveform * 10^(gain_db / 20) (torchaudio.functional.gain). Differentiable.
Tensor gain(const Tensor& waveform, double gain_db);

// -waveform. Differentiable.
Tensor polarity_inversion(const Tensor& waveform);

// waveform + noise scaled so that each row [..., time] has exactly snr_db (torchaudio 2's
// add_noise): scale = sqrt(P_signal / (P_noise * 10^(snr_db / 10))), powers measured over time.
// noise has waveform's shape. A silent row stays silent. Differentiable in waveform and noise.
Tensor add_noise(const Tensor& waveform, const Tensor& noise, double snr_db);

// add_noise with standard normal (white) noise drawn from gen.
Tensor add_white_noise(const Tensor& waveform, double snr_db, Generator* gen = nullptr);

// waveform[..., offset : offset + length]; a shorter waveform is zero-padded at the end to
// `length`. random_crop draws offset uniformly in [0, time - length].
Tensor crop(const Tensor& waveform, int64_t offset, int64_t length);
Tensor random_crop(const Tensor& waveform, int64_t length, Generator* gen = nullptr);

// Mixup (Zhang et al. 2018): lambda * a + (1 - lambda) * b for the audio and for the labels
// (one-hot or soft label tensors of the same shape; int64 class indices are turned into
// one-hot rows of num_classes in a's dtype).
struct Mixed {
  Tensor waveform;
  Tensor labels;
  double lambda;
};
Mixed mixup(const Tensor& a, const Tensor& b, const Tensor& labels_a, const Tensor& labels_b, double lambda,
            int64_t num_classes = -1);

// ----- random draws (from gen, or the default generator) -----

// Uniform in [lo, hi).
double uniform(double lo, double hi, Generator* gen = nullptr);
// Beta(a, b) through two Gamma draws (Marsaglia-Tsang), in log space so small a, b work.
double sample_beta(double a, double b, Generator* gen = nullptr);

// ----- transforms -----

// A random transform: forward(x, gen) draws what it needs from gen; forward(x) draws from the
// default generator, as torchaudio's transforms draw from torch's.
class Augmentation : public nn::UnaryModule {
 public:
  using nn::UnaryModule::operator();
  Tensor forward(const Tensor& x) override { return apply(x, default_generator()); }
  Tensor forward(const Tensor& x, Generator& gen) { return apply(x, gen); }
  Tensor operator()(const Tensor& x, Generator& gen) { return run_forward_hooks(apply(x, gen)); }

 protected:
  virtual Tensor apply(const Tensor& x, Generator& gen) = 0;
};

// Runs its transforms in order, each with its own probability (audiomentations' p). Children
// are named "0", "1", ... as in nn::Sequential. One uniform is drawn per transform whether or
// not it runs, so the draws of later transforms do not depend on earlier coin flips.
class Compose : public Augmentation {
 public:
  Compose() = default;
  explicit Compose(std::vector<std::pair<std::shared_ptr<Augmentation>, double>> transforms);
  Compose& add(std::shared_ptr<Augmentation> transform, double p = 1.0);
  std::string type_name() const override { return "Compose"; }
  size_t size() const { return transforms_.size(); }

 protected:
  Tensor apply(const Tensor& x, Generator& gen) override;

 private:
  std::vector<std::pair<std::shared_ptr<Augmentation>, double>> transforms_;
};

// Gain drawn uniformly in [min_gain_db, max_gain_db].
class Gain : public Augmentation {
 public:
  explicit Gain(double min_gain_db = -18.0, double max_gain_db = 6.0);
  std::string type_name() const override { return "Gain"; }
  std::string extra_repr() const override;
  double min_gain_db, max_gain_db;

 protected:
  Tensor apply(const Tensor& x, Generator& gen) override;
};

// White Gaussian noise at an SNR drawn uniformly in [min_snr_db, max_snr_db] (per row, as
// add_noise).
class AddGaussianSNR : public Augmentation {
 public:
  explicit AddGaussianSNR(double min_snr_db = 5.0, double max_snr_db = 40.0);
  std::string type_name() const override { return "AddGaussianSNR"; }
  std::string extra_repr() const override;
  double min_snr_db, max_snr_db;

 protected:
  Tensor apply(const Tensor& x, Generator& gen) override;
};

class PolarityInversion : public Augmentation {
 public:
  std::string type_name() const override { return "PolarityInversion"; }

 protected:
  Tensor apply(const Tensor& x, Generator& gen) override;
};

// A random window of `length` samples (zero-padded at the end when the input is shorter).
class RandomCrop : public Augmentation {
 public:
  explicit RandomCrop(int64_t length);
  std::string type_name() const override { return "RandomCrop"; }
  std::string extra_repr() const override;
  int64_t length;

 protected:
  Tensor apply(const Tensor& x, Generator& gen) override;
};

// time_stretch by a rate drawn uniformly in [min_rate, max_rate] (> 1 is faster). With
// leave_length_unchanged the result is cropped or zero-padded back to the input's length.
class RandomTimeStretch : public Augmentation {
 public:
  explicit RandomTimeStretch(double min_rate = 0.8, double max_rate = 1.25, bool leave_length_unchanged = true,
                             int64_t n_fft = 512);
  std::string type_name() const override { return "RandomTimeStretch"; }
  std::string extra_repr() const override;
  double min_rate, max_rate;
  bool leave_length_unchanged;
  int64_t n_fft;

 protected:
  Tensor apply(const Tensor& x, Generator& gen) override;
};

// pitch_shift by a number of semitones drawn uniformly in [min_semitones, max_semitones]
// (fractional steps allowed); the length is kept.
class RandomPitchShift : public Augmentation {
 public:
  explicit RandomPitchShift(int64_t sample_rate, double min_semitones = -4.0, double max_semitones = 4.0,
                            int64_t n_fft = 512, ResampleQuality quality = ResampleQuality::SincHann);
  std::string type_name() const override { return "RandomPitchShift"; }
  std::string extra_repr() const override;
  int64_t sample_rate;
  double min_semitones, max_semitones;
  int64_t n_fft;
  ResampleQuality quality;

 protected:
  Tensor apply(const Tensor& x, Generator& gen) override;
};

// Mixup of a batch with a shuffled copy of itself: lambda ~ Beta(alpha, alpha) once per call,
// partner i is perm[i] (torch.randperm), labels [batch, classes] or int64 [batch].
class Mixup {
 public:
  explicit Mixup(double alpha = 0.2, int64_t num_classes = -1);
  Mixed operator()(const Tensor& batch, const Tensor& labels, Generator* gen = nullptr) const;
  // Two given clips.
  Mixed operator()(const Tensor& a, const Tensor& b, const Tensor& labels_a, const Tensor& labels_b,
                   Generator* gen = nullptr) const;
  double alpha;
  int64_t num_classes;
};

}  // namespace fm::audio
