#include "audio/fft.h"

#include <fftw3.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "autograd/views.h"
#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "tensor/dtype.h"
#include "tensor/factory.h"

namespace fm::audio {
namespace {

std::mutex& plan_mutex() {
  static std::mutex m;
  return m;
}

// key: (n, direction 0 = r2c / 1 = c2r, precision 0 = float / 1 = double)
std::map<std::tuple<int64_t, int, int>, void*>& plan_cache() {
  static std::map<std::tuple<int64_t, int, int>, void*> cache;
  return cache;
}

template <class T>
void* get_plan(int64_t n, int dir) {
  constexpr int prec = std::is_same_v<T, double> ? 1 : 0;
  std::lock_guard<std::mutex> lock(plan_mutex());
  auto& cache = plan_cache();
  auto key = std::make_tuple(n, dir, prec);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  // Plan on scratch arrays with FFTW's alignment; execution uses the new-array interface,
  // so the plan must not assume alignment (FFTW_UNALIGNED).
  const int ni = static_cast<int>(n);
  void* plan = nullptr;
  const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
  if constexpr (prec == 1) {
    double* r = fftw_alloc_real(n);
    fftw_complex* c = fftw_alloc_complex(n / 2 + 1);
    plan = dir == 0 ? (void*)fftw_plan_dft_r2c_1d(ni, r, c, flags) : (void*)fftw_plan_dft_c2r_1d(ni, c, r, flags);
    fftw_free(r);
    fftw_free(c);
  } else {
    float* r = fftwf_alloc_real(n);
    fftwf_complex* c = fftwf_alloc_complex(n / 2 + 1);
    plan = dir == 0 ? (void*)fftwf_plan_dft_r2c_1d(ni, r, c, flags) : (void*)fftwf_plan_dft_c2r_1d(ni, c, r, flags);
    fftwf_free(r);
    fftwf_free(c);
  }
  FM_CHECK(plan != nullptr, "fft: FFTW could not make a plan of size ", n);
  cache.emplace(key, plan);
  return plan;
}

std::vector<double> ones_or(const std::vector<double>& s, int64_t bins, const char* op) {
  if (s.empty()) return std::vector<double>(bins, 1.0);
  FM_CHECK(static_cast<int64_t>(s.size()) == bins, op, ": scale has ", s.size(), " entries, expected ", bins);
  return s;
}

// c_k: how many times bin k appears in the full spectrum (1 for DC and Nyquist, else 2).
std::vector<double> multiplicity(int64_t n) {
  std::vector<double> c(n / 2 + 1, 2.0);
  c[0] = 1.0;
  if (n % 2 == 0) c[n / 2] = 1.0;
  return c;
}

// The per-bin scale as a [bins, 1] tensor on `like`'s device, to multiply a [..., bins, 2]
// spectrum with (CUDA tensors: the CPU paths scale in their own loops).
Tensor scale_column(const std::vector<double>& scale, const Tensor& like) {
  const auto bins = static_cast<int64_t>(scale.size());
  return to(from_vector(scale, {bins, 1}), like.dtype(), like.device());
}

bool all_ones(const std::vector<double>& s) {
  return std::all_of(s.begin(), s.end(), [](double v) { return v == 1.0; });
}

}  // namespace

template <class T>
void rfft_batch(const T* in, T* out, int64_t batch, int64_t n) {
  void* plan = get_plan<T>(n, 0);
  const int64_t bins = n / 2 + 1;
  // FFTW may need scratch for unaligned/odd layouts; r2c with new arrays preserves `in` for 1-D.
#pragma omp parallel for schedule(static) if (batch > 1 && batch * n > 8192)
  for (int64_t b = 0; b < batch; ++b) {
    if constexpr (std::is_same_v<T, double>) {
      fftw_execute_dft_r2c((fftw_plan)plan, const_cast<double*>(in + b * n),
                           reinterpret_cast<fftw_complex*>(out + b * bins * 2));
    } else {
      fftwf_execute_dft_r2c((fftwf_plan)plan, const_cast<float*>(in + b * n),
                            reinterpret_cast<fftwf_complex*>(out + b * bins * 2));
    }
  }
}

template <class T>
void c2r_batch(const T* in, T* out, int64_t batch, int64_t n) {
  void* plan = get_plan<T>(n, 1);
  const int64_t bins = n / 2 + 1;
#pragma omp parallel for schedule(static) if (batch > 1 && batch * n > 8192)
  for (int64_t b = 0; b < batch; ++b) {
    // c2r destroys its input: work on a private copy of the frame.
    std::vector<T> tmp(in + b * bins * 2, in + (b + 1) * bins * 2);
    if constexpr (std::is_same_v<T, double>) {
      fftw_execute_dft_c2r((fftw_plan)plan, reinterpret_cast<fftw_complex*>(tmp.data()), out + b * n);
    } else {
      fftwf_execute_dft_c2r((fftwf_plan)plan, reinterpret_cast<fftwf_complex*>(tmp.data()), out + b * n);
    }
  }
}

template void rfft_batch<float>(const float*, float*, int64_t, int64_t);
template void rfft_batch<double>(const double*, double*, int64_t, int64_t);
template void c2r_batch<float>(const float*, float*, int64_t, int64_t);
template void c2r_batch<double>(const double*, double*, int64_t, int64_t);

namespace {

// The scaled transforms without autograd, on the input's device: FFTW for CPU tensors,
// kernels/cuda/fft.cu for CUDA ones.
Tensor rfft_raw(const Tensor& x0, const std::vector<double>& scale, int64_t n) {
#ifdef FERMATA_WITH_CUDA
  if (x0.device().is_cuda()) {
    const Tensor y = kernels::cuda::rfft(x0);
    return all_ones(scale) ? y : kernels::binary(kernels::BinaryOp::Mul, y, scale_column(scale, y));
  }
#endif
  FM_CHECK(x0.device().is_cpu(), "rfft: expected a CPU or CUDA tensor, got ", x0.describe());
  const int64_t bins = n / 2 + 1;
  const Tensor x = contiguous_raw(x0);
  const int64_t batch = x.numel() / n;
  Shape os = x.sizes();
  os.back() = bins;
  os.push_back(2);
  Tensor y = empty(os, {.dtype = x.dtype()});
  dispatch_floating(x.dtype(), "rfft", [&]<class T>() {
    T* out = y.data_ptr<T>();
    rfft_batch<T>(x.data_ptr<T>(), out, batch, n);
    if (all_ones(scale)) return;
#pragma omp parallel for schedule(static) if (batch * bins > 16384)
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t k = 0; k < bins; ++k) {
        out[(b * bins + k) * 2] *= static_cast<T>(scale[k]);
        out[(b * bins + k) * 2 + 1] *= static_cast<T>(scale[k]);
      }
  });
  return y;
}

Tensor c2r_raw(const Tensor& z0, const std::vector<double>& scale, int64_t n) {
#ifdef FERMATA_WITH_CUDA
  if (z0.device().is_cuda())
    return kernels::cuda::c2r(
        all_ones(scale) ? z0 : kernels::binary(kernels::BinaryOp::Mul, z0, scale_column(scale, z0)), n);
#endif
  FM_CHECK(z0.device().is_cpu(), "irfft: expected a CPU or CUDA tensor, got ", z0.describe());
  const int64_t bins = n / 2 + 1;
  const Tensor z = contiguous_raw(z0);
  const int64_t batch = z.numel() / (bins * 2);
  Shape os(z.sizes().begin(), z.sizes().end() - 2);
  os.push_back(n);
  Tensor y = empty(os, {.dtype = z.dtype()});
  dispatch_floating(z.dtype(), "irfft", [&]<class T>() {
    std::vector<T> scaled(static_cast<size_t>(batch * bins * 2));
    const T* in = z.data_ptr<T>();
#pragma omp parallel for schedule(static) if (batch * bins > 16384)
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t k = 0; k < bins; ++k) {
        const int64_t i = (b * bins + k) * 2;
        scaled[i] = in[i] * static_cast<T>(scale[k]);
        scaled[i + 1] = in[i + 1] * static_cast<T>(scale[k]);
      }
    c2r_batch<T>(scaled.data(), y.data_ptr<T>(), batch, n);
  });
  return y;
}

}  // namespace

Tensor rfft_scaled(const Tensor& x0, const std::vector<double>& scale0) {
  FM_CHECK(x0.dim() >= 1, "rfft: expected at least 1 dim, got shape ", shape_str(x0.sizes()));
  const int64_t n = x0.sizes().back();
  FM_CHECK(n >= 1, "rfft: signal length must be positive, got shape ", shape_str(x0.sizes()));
  const std::vector<double> scale = ones_or(scale0, n / 2 + 1, "rfft");
  Tensor y = rfft_raw(x0, scale, n);
  if (autograd::any_requires_grad({x0})) {
    autograd::record("RfftBackward", {x0}, {y}, [n, scale](const autograd::tensor_list& g) {
      std::vector<double> s = scale;
      const auto c = multiplicity(n);
      for (size_t k = 0; k < s.size(); ++k) s[k] /= c[k];
      return autograd::tensor_list{c2r_scaled(g[0], n, s)};
    });
  }
  return y;
}

Tensor c2r_scaled(const Tensor& z0, int64_t n, const std::vector<double>& scale0) {
  const int64_t bins = n / 2 + 1;
  FM_CHECK(n >= 1, "irfft: output length must be positive, got ", n);
  FM_CHECK(z0.dim() >= 2 && z0.sizes().back() == 2 && z0.sizes()[z0.dim() - 2] == bins, "irfft: expected [..., ",
           bins, ", 2] for n = ", n, ", got shape ", shape_str(z0.sizes()));
  const std::vector<double> scale = ones_or(scale0, bins, "irfft");
  Tensor y = c2r_raw(z0, scale, n);
  if (autograd::any_requires_grad({z0})) {
    autograd::record("IrfftBackward", {z0}, {y}, [n, scale](const autograd::tensor_list& g) {
      std::vector<double> s = scale;
      const auto c = multiplicity(n);
      for (size_t k = 0; k < s.size(); ++k) s[k] *= c[k];
      return autograd::tensor_list{rfft_scaled(g[0], s)};
    });
  }
  return y;
}

Tensor rfft(const Tensor& x) { return rfft_scaled(x); }

Tensor irfft(const Tensor& z, int64_t n) {
  return c2r_scaled(z, n, std::vector<double>(n / 2 + 1, 1.0 / static_cast<double>(n)));
}

int64_t fft_plan_cache_size() {
  std::lock_guard<std::mutex> lock(plan_mutex());
  return static_cast<int64_t>(plan_cache().size());
}

}  // namespace fm::audio
