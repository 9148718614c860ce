// MFCC: the DCT matrix, the transform's shapes, its log_mels branch and its errors.
#include <gtest/gtest.h>

#include <cmath>

#include "audio/mfcc.h"
#include "autograd/elementwise.h"
#include "autograd/linalg.h"
#include "autograd/views.h"
#include "support/test_support.h"
#include "tensor/factory.h"

namespace fm {
namespace {

using namespace fm::audio;

MFCCOptions small() {
  MFCCOptions o;
  o.n_mfcc = 13;
  o.mel.n_fft = 256;
  o.mel.n_mels = 40;
  return o;
}

TEST(AudioMfcc, OrthoDctIsOrthonormal) {
  const Tensor d = create_dct(16, 16, "ortho", DType::Float64);  // [n_mels, n_mfcc]
  EXPECT_CLOSE(matmul(t(d), d), eye(16, -1, {.dtype = DType::Float64}), 1e-12, 1e-12);
}

TEST(AudioMfcc, ShapesOnABatchAndModuleMatchesFunction) {
  const Tensor x = testing::leaf64({2, 3, 1000}).detach();
  const Tensor y = mfcc(x, small());
  EXPECT_EQ(y.sizes(), (Shape{2, 3, 13, 1000 / 128 + 1}));
  MFCC m(small());
  EXPECT_CLOSE(m(to(x, DType::Float32)), to(y, DType::Float32), 1e-4, 1e-3);
  EXPECT_EQ(m.type_name(), "MFCC");
  EXPECT_EQ(m.state_dict().count("dct_mat"), 1u);
}

TEST(AudioMfcc, LogMelsOfSilenceIsTheScaledLogOffset) {
  MFCCOptions o = small();
  o.log_mels = true;
  const Tensor y = mfcc(zeros({800}, {.dtype = DType::Float64}), o);
  // every mel band is log(1e-6): only the DC cosine survives, sqrt(n_mels) * log(1e-6) (ortho)
  const double c0 = std::sqrt(40.0) * std::log(1e-6);
  EXPECT_NEAR(select(select(y, 0, 0), 0, 0).item<double>(), c0, 1e-9);
  EXPECT_NEAR(select(select(y, 0, 5), 0, 2).item<double>(), 0.0, 1e-9);
}

TEST(AudioMfcc, Errors) {
  MFCCOptions o = small();
  o.n_mfcc = 41;
  EXPECT_THROW_MSG(MFCC m(o), "n_mfcc <= n_mels");
  o.n_mfcc = 13;
  o.dct_type = 3;
  EXPECT_THROW_MSG(mfcc(zeros({800}), o), "DCT type 2");
  EXPECT_THROW_MSG(create_dct(4, 8, "slaney"), "ortho");
}

}  // namespace
}  // namespace fm
