// float64 gradchecks of resample_polyphase: down, up, Kaiser, batches, edges (a signal shorter
// than the filter), and second derivatives (the backward is itself differentiable).
#include <gtest/gtest.h>

#include "audio/polyphase_resample.h"
#include "support/test_support.h"

namespace fm {
namespace {

using namespace fm::audio;
using autograd::tensor_list;

#define GC(fn, ...) EXPECT_GRADCHECK(fn, (tensor_list{__VA_ARGS__}))
#define GGC(fn, ...) EXPECT_GRADGRADCHECK(fn, (tensor_list{__VA_ARGS__}))

TEST(AudioPolyphaseResampleGradcheck, DownAndUp) {
  Tensor x = testing::leaf64({2, 23});
  auto down = [](const tensor_list& in) { return tensor_list{resample_polyphase(in[0], 44100, 16000)}; };
  auto up = [](const tensor_list& in) { return tensor_list{resample_polyphase(in[0], 3, 5, 3, 0.9)}; };
  auto half = [](const tensor_list& in) { return tensor_list{resample_polyphase(in[0], 2, 1)}; };
  GC(down, x);
  GC(up, x);
  GC(half, x);
  GGC(up, x);
}

TEST(AudioPolyphaseResampleGradcheck, KaiserBatchesAndShortSignals) {
  Tensor x = testing::leaf64({2, 1, 17}, -1, 1, 11);
  auto kaiser = [](const tensor_list& in) {
    return tensor_list{resample_polyphase(in[0], 48000, 8000, 4, 0.95, "sinc_interp_kaiser", 9.0)};
  };
  GC(kaiser, x);
  GGC(kaiser, x);
  Tensor s = testing::leaf64({3}, -1, 1, 5);  // shorter than the filter: every output sees an edge
  auto up = [](const tensor_list& in) { return tensor_list{resample_polyphase(in[0], 8000, 48000)}; };
  GC(up, s);
}

}  // namespace
}  // namespace fm
