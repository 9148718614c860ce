// The hand-written music kernels against their library yardsticks, float32, on the models'
// shapes: convolution (ours v1/v2, the last argument) beside cuDNN's fastest exact-FP32
// forward algorithm (cudnnFindConvolutionForwardAlgorithm, tensor-core math off), and the
// STFT's real FFTs of a batch of frames (ours v1/v2) beside cuFFT's batched R2C plan.
// A yardstick is named BM_cuda_lib_<kernel> with our arguments minus the variant, which is how
// scripts/gpu_bench_table.py pairs them.
//
// Convolution shapes (batch 8): 0 MusicCNN conv1 3x3 pad 1 [1 -> 64, 128x130]; 1 the 12x1
// "same" branch [64 -> 128, 64x65] (cuDNN has no asymmetric padding: its run pads 6 rows on
// both sides and computes one row more, 65 instead of 64); 2 the 1x7 branch; 3 conv3 3x3
// [256 -> 256, 64x65]; 4 HarmonicCNN's per-harmonic 3x3 without padding [1 -> 32, 128x130];
// 5 HarmonicCNN's 1x1 combination [192 -> 128, 63x64].
#ifdef FERMATA_WITH_CUDA
#include <cufft.h>

#include "audio/fft.h"
#include "cuda/cuda_bench_util.h"
#include "kernels/conv.h"
#include "kernels/cuda/ops.h"
#ifdef FERMATA_BENCH_CUDNN
#include <cudnn.h>
#endif

namespace fm::bench {
namespace {

struct ConvCase {
  int64_t C, H, W, O, kh, kw, ph, pw;
};
ConvCase conv_case(int64_t i) {
  static const ConvCase cases[] = {{1, 128, 130, 64, 3, 3, 1, 1},   {64, 64, 65, 128, 12, 1, 5, 0},
                                   {64, 64, 65, 128, 1, 7, 0, 3},   {256, 64, 65, 256, 3, 3, 1, 1},
                                   {1, 128, 130, 32, 3, 3, 0, 0},   {192, 63, 64, 128, 1, 1, 0, 0}};
  return cases[i];
}

// Our geometry: "same" for the 12x1 case (5 rows above, 6 below: Ho = H).
kernels::ConvGeometry geometry(const ConvCase& c, int64_t N) {
  kernels::ConvGeometry g;
  g.N = N, g.C = c.C, g.H = c.H, g.W = c.W, g.O = c.O, g.kh = c.kh, g.kw = c.kw, g.ph = c.ph, g.pw = c.pw;
  g.Ho = c.kh == 12 ? c.H : c.H + 2 * c.ph - c.kh + 1;
  g.Wo = c.W + 2 * c.pw - c.kw + 1;
  return g;
}

void conv_counters(benchmark::State& state, const kernels::ConvGeometry& g) {
  const double flops = 2.0 * g.N * g.O * g.Ho * g.Wo * g.C * g.kh * g.kw;
  const double bytes = (1.0 * g.N * g.C * g.H * g.W + 1.0 * g.O * g.C * g.kh * g.kw + 1.0 * g.N * g.O * g.Ho * g.Wo) *
                       sizeof(float);
  cuda_counters(state, bytes, flops);
}

constexpr int64_t kBatch = 8;

void BM_cuda_conv2d(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const kernels::ConvGeometry g = geometry(conv_case(state.range(0)), kBatch);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(1)));
  const Tensor x = cuda_input({g.N, g.C, g.H, g.W}, 31), w = cuda_input({g.O, g.C, g.kh, g.kw}, 32);
  const Tensor b = cuda_input({g.O}, 33);
  time_cuda(state, [&] { benchmark::DoNotOptimize(kernels::conv2d_forward(x, w, b, g).raw_data()); });
  kernels::cuda::set_kernel_variant(2);
  conv_counters(state, g);
}
BENCHMARK(BM_cuda_conv2d)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {1, 2}})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

#ifdef FERMATA_BENCH_CUDNN
#define FM_CUDNN_OR_SKIP(call)                                 \
  do {                                                         \
    const cudnnStatus_t st_ = (call);                          \
    if (st_ != CUDNN_STATUS_SUCCESS) {                         \
      state.SkipWithError(cudnnGetErrorString(st_));           \
      return;                                                  \
    }                                                          \
  } while (0)

void BM_cuda_lib_conv2d(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const ConvCase c = conv_case(state.range(0));
  kernels::ConvGeometry g = geometry(c, kBatch);
  const int64_t ph = c.kh == 12 ? 6 : c.ph;  // symmetric: one output row more for the 12x1 case
  g.Ho = c.H + 2 * ph - c.kh + 1;
  cudnnHandle_t handle;
  FM_CUDNN_OR_SKIP(cudnnCreate(&handle));
  cudnnSetStream(handle, cuda_current_stream());
  cudnnTensorDescriptor_t xd, yd, bd;
  cudnnFilterDescriptor_t wd;
  cudnnConvolutionDescriptor_t cd;
  cudnnCreateTensorDescriptor(&xd), cudnnCreateTensorDescriptor(&yd), cudnnCreateTensorDescriptor(&bd);
  cudnnCreateFilterDescriptor(&wd), cudnnCreateConvolutionDescriptor(&cd);
  FM_CUDNN_OR_SKIP(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(g.N), int(g.C), int(g.H),
                                              int(g.W)));
  FM_CUDNN_OR_SKIP(cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(g.O), int(g.C), int(g.kh),
                                              int(g.kw)));
  FM_CUDNN_OR_SKIP(cudnnSetConvolution2dDescriptor(cd, int(ph), int(c.pw), 1, 1, 1, 1, CUDNN_CROSS_CORRELATION,
                                                   CUDNN_DATA_FLOAT));
  FM_CUDNN_OR_SKIP(cudnnSetConvolutionMathType(cd, CUDNN_FMA_MATH));  // exact FP32, as ours by default
  FM_CUDNN_OR_SKIP(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(g.N), int(g.O), int(g.Ho),
                                              int(g.Wo)));
  FM_CUDNN_OR_SKIP(cudnnSetTensor4dDescriptor(bd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, int(g.O), 1, 1));
  const Tensor x = cuda_input({g.N, g.C, g.H, g.W}, 31), w = cuda_input({g.O, g.C, g.kh, g.kw}, 32);
  const Tensor b = cuda_input({g.O}, 33);
  Tensor y = empty({g.N, g.O, g.Ho, g.Wo}, {.device = Device::cuda()});
  int found = 0;
  cudnnConvolutionFwdAlgoPerf_t perf[8];
  FM_CUDNN_OR_SKIP(cudnnFindConvolutionForwardAlgorithm(handle, xd, wd, cd, yd, 8, &found, perf));
  int best = -1;
  for (int i = 0; i < found && best < 0; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS) best = i;
  if (best < 0) {
    state.SkipWithError("cuDNN found no working forward algorithm");
    return;
  }
  const Tensor ws = empty({std::max<int64_t>(1, static_cast<int64_t>(perf[best].memory))},
                          {.dtype = DType::Float32, .device = Device::cuda()});
  const float one = 1, zero = 0;
  time_cuda(state, [&] {
    cudnnConvolutionForward(handle, &one, xd, x.raw_data(), wd, w.raw_data(), cd, perf[best].algo, ws.raw_data(),
                            perf[best].memory, &zero, yd, y.raw_data());
    cudnnAddTensor(handle, &one, bd, b.raw_data(), &one, yd, y.raw_data());
  });
  state.SetLabel("algo " + std::to_string(static_cast<int>(perf[best].algo)));
  conv_counters(state, geometry(c, kBatch));  // the work of our geometry, so the rates compare
  cudnnDestroyTensorDescriptor(xd), cudnnDestroyTensorDescriptor(yd), cudnnDestroyTensorDescriptor(bd);
  cudnnDestroyFilterDescriptor(wd), cudnnDestroyConvolutionDescriptor(cd);
  cudnnDestroy(handle);
}
BENCHMARK(BM_cuda_lib_conv2d)->DenseRange(0, 5)->UseManualTime()->Unit(benchmark::kMicrosecond);
#endif

// The frames of a batch of 8 clips of 3 s at hop 512: 8 x 130.
constexpr int64_t kFrames = 8 * 130;

void fft_counters(benchmark::State& state, int64_t n) {
  cuda_counters(state, (1.0 * kFrames * n + 2.0 * kFrames * (n / 2 + 1)) * sizeof(float));
}

void BM_cuda_rfft(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t n = state.range(0);
  kernels::cuda::set_kernel_variant(static_cast<int>(state.range(1)));
  const Tensor frames = cuda_input({kFrames, n}, 34);
  time_cuda(state, [&] { benchmark::DoNotOptimize(audio::rfft(frames).raw_data()); });
  kernels::cuda::set_kernel_variant(2);
  fft_counters(state, n);
}
BENCHMARK(BM_cuda_rfft)->ArgsProduct({{254, 1024, 2048, 4096}, {1, 2}})->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_cuda_lib_rfft(benchmark::State& state) {
  FM_BENCH_SKIP_WITHOUT_GPU(state);
  const int64_t n = state.range(0);
  const Tensor frames = cuda_input({kFrames, n}, 34);
  Tensor spec = empty({kFrames, n / 2 + 1, 2}, {.device = Device::cuda()});
  cufftHandle plan;
  int len = static_cast<int>(n);
  if (cufftPlanMany(&plan, 1, &len, nullptr, 1, len, nullptr, 1, len / 2 + 1, CUFFT_R2C, static_cast<int>(kFrames)) !=
      CUFFT_SUCCESS) {
    state.SkipWithError("cufftPlanMany failed");
    return;
  }
  cufftSetStream(plan, cuda_current_stream());
  time_cuda(state, [&] {
    cufftExecR2C(plan, static_cast<cufftReal*>(frames.raw_data()), static_cast<cufftComplex*>(spec.raw_data()));
  });
  cufftDestroy(plan);
  fft_counters(state, n);
}
BENCHMARK(BM_cuda_lib_rfft)->Arg(254)->Arg(1024)->Arg(2048)->Arg(4096)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fm::bench
#endif
