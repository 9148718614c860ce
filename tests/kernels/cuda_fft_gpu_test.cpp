// CUDA real FFTs (kernels/cuda/fft.cu) against FFTW on the CPU: rfft and its inverse (c2r) for
// power-of-two sizes (v2's shared-memory radix-2 path, up to 4096) and other sizes (the direct
// DFT), a batch of frames, strided inputs; the gradient through rfft; and the STFT of a signal
// end to end on the GPU (label gpu).
#include "audio/fft.h"
#include "audio/stft.h"
#include "cuda_parity.h"

using namespace fm;
using namespace fm::cuda_test;

class CudaFft : public CudaParity {};

namespace {
const std::vector<int64_t> kSizes = {1, 2, 3, 8, 254, 255, 256, 1024, 2048, 4096};
}

TEST_P(CudaFft, RfftAndInverseMatchFftw) {
  for (DType dt : {kFloat32, kFloat64}) {
    for (int64_t n : kSizes) {
      for (int layout : {0, 2}) {
        const uint64_t seed = fresh_seed();
        const Tensor x = random_cpu({5, n}, dt, seed);
        const std::string what = "n " + std::to_string(n) + " " + std::string(dtype_name(dt)) + " layout " +
                                 std::to_string(layout);
        const Tensor y = audio::rfft(x);
        const Tensor yg = audio::rfft(to_cuda(x, layout));
        EXPECT_EQ(yg.device(), Device::cuda());
        // sums of n terms in another order: relative to the spectrum's size
        EXPECT_CUDA_MATCHES(yg, y, dt == kFloat32 ? 1e-5 : 1e-12, seed, what + " rfft");
        const Tensor z = random_cpu({3, n / 2 + 1, 2}, dt, seed + 1);
        const Tensor xr = audio::irfft(z, n);
        const Tensor xrg = audio::irfft(to_cuda(z, layout), n);
        EXPECT_CUDA_MATCHES(xrg, xr, dt == kFloat32 ? 1e-5 : 1e-12, seed, what + " irfft");
        // a round trip on the device alone
        EXPECT_CUDA_MATCHES(audio::irfft(yg, n), x, dt == kFloat32 ? 1e-5 : 1e-12, seed, what + " round trip");
      }
    }
  }
}

TEST_P(CudaFft, RfftGradientMatchesCpu) {
  for (int64_t n : {7, 64, 2048}) {
    const uint64_t seed = fresh_seed();
    const Tensor x = random_cpu({4, n}, kFloat64, seed);
    const Tensor w = random_cpu({4, n / 2 + 1, 2}, kFloat64, seed + 1);
    Tensor xc = x.detach(), xg = to_cuda(x, 0).detach();
    xc.requires_grad_();
    xg.requires_grad_();
    sum(mul(audio::rfft(xc), w)).backward();
    sum(mul(audio::rfft(xg), to_cuda(w, 0))).backward();
    EXPECT_CUDA_MATCHES(xg.grad(), xc.grad(), 1e-12, seed, "rfft gradient, n " + std::to_string(n));
  }
}

TEST_P(CudaFft, StftMatchesCpu) {
  const uint64_t seed = fresh_seed();
  const Tensor x = random_cpu({2, 22050}, kFloat32, seed, -1, 1);
  for (int64_t n_fft : {254, 2048}) {
    const Tensor window = audio::hann_window(n_fft);
    const Tensor s = audio::stft(x, n_fft, 512, std::nullopt, window);
    const Tensor sg = audio::stft(to_cuda(x, 0), n_fft, 512, std::nullopt, to_cuda(window, 0));
    EXPECT_CUDA_MATCHES(sg, s, 1e-5, seed, "stft n_fft " + std::to_string(n_fft));
  }
}

TEST_P(CudaFft, IstftAndOverlapAddMatchCpu) {
  const uint64_t seed = fresh_seed();
  const Tensor x = random_cpu({2, 8000}, kFloat64, seed, -1, 1);
  const Tensor window = audio::hann_window(512, true, kFloat64);
  const Tensor s = audio::stft(x, 512, 128, std::nullopt, window);
  const Tensor y = audio::istft(s, 512, 128, std::nullopt, window, true, false, true, 8000);
  const Tensor yg = audio::istft(to_cuda(s, 0), 512, 128, std::nullopt, to_cuda(window, 0), true, false, true, 8000);
  EXPECT_CUDA_MATCHES(yg, y, 1e-12, seed, "istft");
  const Tensor frames = random_cpu({3, 7, 64}, kFloat64, seed + 1);
  EXPECT_CUDA_MATCHES(audio::overlap_add(to_cuda(frames, 2), 16), audio::overlap_add(frames, 16), 1e-13, seed,
                      "overlap_add");
}

FM_CUDA_PARITY_SUITE(CudaFft);
