// Constant-Q transform: a tone at bin k peaks at bin k, frame count, complex output, batches,
// and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "audio/cqt.h"
#include "autograd/elementwise.h"
#include "autograd/reduce.h"
#include "autograd/views.h"
#include "support/test_support.h"
#include "tensor/factory.h"

namespace fm {
namespace {

using namespace fm::audio;

Tensor tone(double freq, int64_t n, int64_t sr, DType dtype = DType::Float32) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = 0.5 * std::sin(2 * std::numbers::pi * freq * static_cast<double>(i) / sr);
  Tensor t = from_vector(v, {n});
  return dtype == DType::Float64 ? t : to(t, dtype);
}

TEST(AudioCqt, ToneAtBinKPeaksAtBinK) {
  CQT m;  // nnAudio's defaults: 22.05 kHz, 84 bins from C1, 12 per octave, hop 512
  EXPECT_EQ(m.kernels.kernel_width, 16384);
  for (int64_t k : {5, 33, 60, 83}) {
    const Tensor y = m(tone(m.kernels.freqs[k], 22050, 22050));  // [84, frames]
    ASSERT_EQ(y.sizes(), (Shape{84, 22050 / 512 + 1}));
    const Tensor mid = select(y, 1, y.sizes()[1] / 2);
    EXPECT_EQ(argmax(mid).item<int64_t>(), k) << "tone at bin " << k;
  }
}

TEST(AudioCqt, ComplexOutputAndBatches) {
  CQTOptions o;
  o.sample_rate = 8000;
  o.fmin = 100;
  o.n_bins = 36;
  o.hop_length = 128;
  const Tensor x = testing::leaf64({2, 3, 2000}).detach();
  const Tensor y = cqt(x, o);
  EXPECT_EQ(y.sizes(), (Shape{2, 3, 36, 2000 / 128 + 1}));
  EXPECT_CLOSE(select(select(y, 0, 1), 0, 2), cqt(select(select(x, 0, 1), 0, 2), o), 1e-12, 1e-12);
  o.output_format = "complex";
  const Tensor z = cqt(x, o);
  EXPECT_EQ(z.sizes(), (Shape{2, 3, 36, 2000 / 128 + 1, 2}));
  const Tensor re = select(z, -1, 0), im = select(z, -1, 1);
  EXPECT_CLOSE(sqrt(add(mul(re, re), mul(im, im))), y, 1e-12, 1e-12);
}

TEST(AudioCqt, KernelsAreCentredAndNormalised) {
  CQTOptions o;
  const CQTKernels k = create_cqt_kernels(o);
  for (size_t b = 0; b < k.lengths.size(); ++b) {
    EXPECT_GE(k.starts[b], 0);
    EXPECT_LE(k.starts[b] + k.lengths[b], k.kernel_width);
    EXPECT_LE(std::abs(2 * k.starts[b] + k.lengths[b] - k.kernel_width), 2);
    double l1 = 0;
    for (size_t j = 0; j < k.re[b].size(); ++j) l1 += std::hypot(k.re[b][j], k.im[b][j]);
    EXPECT_NEAR(l1, 1.0, 1e-9);
  }
}

TEST(AudioCqt, Errors) {
  CQTOptions o;
  o.n_bins = 120;  // the top bin passes Nyquist
  EXPECT_THROW_MSG(CQT m(o), "Nyquist");
  EXPECT_THROW_MSG(cqt(zeros({4000})), "reflect padding");
  o.n_bins = 84;
  o.window = "kaiser";
  EXPECT_THROW_MSG(cqt(zeros({40000}), o), "window");
  EXPECT_THROW_MSG(cqt(zeros({40000}, {.dtype = DType::Int64})), "float32 or float64");
}

}  // namespace
}  // namespace fm
