// Fused NT-Xent on the CPU (kernels/contrastive.h), the reference of kernels/cuda/contrastive.cu:
// the normalised rows in double, then per row (OpenMP over rows) the similarities to every other
// row computed on the fly with an online log-sum-exp; the backward recomputes them the same way,
// each s_kj giving both row k's softmax term and column k's (s is symmetric). Everything
// accumulates in double; the [2N, 2N] matrix is never stored.
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/contrastive.h"
#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

namespace {

void check_z(const char* op, const Tensor& z, double temperature) {
  FM_CHECK(z.defined() && z.is_floating_point() && z.dim() == 2 && z.size(0) >= 2 && z.size(0) % 2 == 0, op,
           ": fused kernel expects floating-point z [2N, D] with N >= 1, got ",
           z.defined() ? z.describe() : std::string("undefined"));
  FM_CHECK(temperature > 0, op, ": temperature must be positive, got ", temperature);
}

// u = z * inv (rows of D, double)
template <class T>
std::vector<double> normalised(const T* z, const std::vector<double>& inv, int64_t M, int64_t D) {
  std::vector<double> u(static_cast<size_t>(M * D));
#pragma omp parallel for if (M * D >= kParallelGrain) schedule(static)
  for (int64_t i = 0; i < M; ++i)
    for (int64_t d = 0; d < D; ++d) u[i * D + d] = static_cast<double>(z[i * D + d]) * inv[i];
  return u;
}

double dot(const double* a, const double* b, int64_t D) {
  double s = 0;
  for (int64_t d = 0; d < D; ++d) s += a[d] * b[d];
  return s;
}

}  // namespace

std::tuple<Tensor, Tensor, Tensor> nt_xent_forward(const Tensor& z0, double temperature) {
  const char* op = "nt_xent_loss";
  FM_CUDA_DISPATCH(cuda::any_cuda({&z0}), cuda::nt_xent_forward(z0, temperature));
  require_cpu(op, {&z0});
  check_z(op, z0, temperature);
  const Tensor z = contiguous_raw(z0);
  const int64_t M = z.size(0), D = z.size(1), N = M / 2;
  Tensor loss = empty({}, {.dtype = z.dtype()}), lse = empty({M}, {.dtype = z.dtype()});
  Tensor inv = empty({M}, {.dtype = z.dtype()});
  const double rt = 1.0 / temperature;
  dispatch_floating(z.dtype(), op, [&]<class T>() {
    const T* zp = z.data_ptr<T>();
    T* ip = inv.data_ptr<T>();
    std::vector<double> invd(static_cast<size_t>(M));
    for (int64_t i = 0; i < M; ++i) {
      double ss = 0;
      for (int64_t d = 0; d < D; ++d) ss += static_cast<double>(zp[i * D + d]) * zp[i * D + d];
      const double n = std::sqrt(ss);
      // a clamped norm stores exactly 1e12, which the backward recognises
      ip[i] = n > 1e-12 ? static_cast<T>(1.0 / n) : static_cast<T>(1e12);
      invd[i] = n > 1e-12 ? 1.0 / n : 1e12;
    }
    const std::vector<double> u = normalised(zp, invd, M, D);
    std::vector<double> row_loss(static_cast<size_t>(M));
    T* lp = lse.data_ptr<T>();
#pragma omp parallel for if (M * M * D >= kParallelGrain) schedule(static)
    for (int64_t i = 0; i < M; ++i) {
      const int64_t pos = i < N ? i + N : i - N;
      double mx = -std::numeric_limits<double>::infinity(), s = 0, spos = 0;
      for (int64_t j = 0; j < M; ++j) {
        if (j == i) continue;
        const double v = dot(&u[i * D], &u[j * D], D) * rt;
        if (j == pos) spos = v;
        if (v > mx) {
          s = s * std::exp(mx - v) + 1;
          mx = v;
        } else {
          s += std::exp(v - mx);
        }
      }
      const double l = mx + std::log(s);
      lp[i] = static_cast<T>(l);
      row_loss[i] = l - spos;
    }
    double total = 0;
    for (double v : row_loss) total += v;
    loss.data_ptr<T>()[0] = static_cast<T>(total / static_cast<double>(M));
  });
  return {loss, lse, inv};
}

Tensor nt_xent_backward(const Tensor& z0, const Tensor& lse0, const Tensor& inv0, double temperature,
                        const Tensor& g0) {
  const char* op = "nt_xent_backward";
  FM_CUDA_DISPATCH(cuda::any_cuda({&z0, &lse0, &inv0, &g0}),
                   cuda::nt_xent_backward(z0, lse0, inv0, temperature, g0));
  require_cpu(op, {&z0, &lse0, &inv0, &g0});
  check_z(op, z0, temperature);
  const int64_t M = z0.size(0), D = z0.size(1), N = M / 2;
  FM_CHECK(lse0.numel() == M && inv0.numel() == M && g0.numel() == 1, op, ": expected lse and inverse norms of ", M,
           " elements and a one-element gradient for z ", z0.describe(), ", got ", lse0.describe(), ", ",
           inv0.describe(), " and ", g0.describe());
  const DType dt = z0.dtype();
  const Tensor z = contiguous_raw(z0);
  const std::vector<double> lse = to_raw(lse0, DType::Float64, Device::cpu()).to_vector<double>();
  const std::vector<double> inv = to_raw(inv0, DType::Float64, Device::cpu()).to_vector<double>();
  const double g = to_raw(g0, DType::Float64, Device::cpu()).to_vector<double>()[0];
  const double rt = 1.0 / temperature, scale = g / (static_cast<double>(M) * temperature);
  Tensor out = empty({M, D}, {.dtype = dt});
  dispatch_floating(dt, op, [&]<class T>() {
    const T* zp = z.data_ptr<T>();
    T* o = out.data_ptr<T>();
    const std::vector<double> u = normalised(zp, inv, M, D);
#pragma omp parallel for if (M * M * D >= kParallelGrain) schedule(static)
    for (int64_t k = 0; k < M; ++k) {
      const int64_t pos = k < N ? k + N : k - N;
      std::vector<double> acc(static_cast<size_t>(D), 0.0);
      const double* uk = &u[k * D];
      for (int64_t j = 0; j < M; ++j) {
        if (j == k) continue;
        const double s = dot(uk, &u[j * D], D) * rt;
        double w = std::exp(s - lse[k]) + std::exp(s - lse[j]);
        if (j == pos) w -= 2;
        const double* uj = &u[j * D];
        for (int64_t d = 0; d < D; ++d) acc[d] += w * uj[d];
      }
      const bool clamped = static_cast<T>(inv[k]) >= static_cast<T>(1e12);
      double proj = 0;
      if (!clamped)
        for (int64_t d = 0; d < D; ++d) proj += acc[d] * uk[d];
      for (int64_t d = 0; d < D; ++d) o[k * D + d] = static_cast<T>(scale * (acc[d] - uk[d] * proj) * inv[k]);
    }
  });
  return out;
}

}  // namespace fm::kernels
