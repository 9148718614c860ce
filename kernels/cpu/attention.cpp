// The CPU reference of the fused attention (kernels/attention.h): plain loops, every sum in
// double, OpenMP over the (batch, query) rows in the forward and the dq pass, over the (batch,
// key) columns in the dk/dv pass. Probabilities are recomputed from the saved log-sum-exp.
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/attention.h"
#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

AttentionDims check_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& kpm, const char* op) {
  FM_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3, op, ": expected q [B, L, E], k [B, S, E], v [B, S, Ev], got ",
           q.describe(), ", ", k.describe(), ", ", v.describe());
  FM_CHECK(k.size(0) == q.size(0) && v.size(0) == q.size(0), op, ": batch sizes differ: ", q.describe(), ", ",
           k.describe(), ", ", v.describe());
  FM_CHECK(k.size(2) == q.size(2), op, ": q ", q.describe(), " and k ", k.describe(), " have different feature sizes");
  FM_CHECK(v.size(1) == k.size(1), op, ": k ", k.describe(), " and v ", v.describe(), " have different lengths");
  FM_CHECK(is_floating(q.dtype()) && k.dtype() == q.dtype() && v.dtype() == q.dtype(), op,
           ": q, k, v must share one floating dtype, got ", q.describe(), ", ", k.describe(), ", ", v.describe());
  if (kpm.defined())
    FM_CHECK(kpm.dtype() == DType::Bool && kpm.sizes() == (Shape{q.size(0), k.size(1)}), op,
             ": key_padding_mask must be bool [B, S] = [", q.size(0), ", ", k.size(1), "], got ", kpm.describe());
  return {q.size(0), q.size(1), k.size(1), q.size(2), v.size(2)};
}

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

inline bool allowed(int64_t i, int64_t j, bool causal, const bool* mrow) {
  return !(causal && j > i) && !(mrow && mrow[j]);
}

template <class T>
double dot(const T* a, const T* b, int64_t n) {
  double s = 0;
  for (int64_t d = 0; d < n; ++d) s += static_cast<double>(a[d]) * static_cast<double>(b[d]);
  return s;
}

template <class T>
void forward_rows(const T* q, const T* k, const T* v, const bool* kpm, T* out, T* lse, AttentionDims s, double scale,
                  bool causal) {
  const int64_t rows = s.B * s.L;
#pragma omp parallel if (rows * s.S * (s.E + s.Ev) >= kParallelGrain)
  {
    std::vector<double> acc(static_cast<size_t>(s.Ev));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t b = r / s.L, i = r % s.L;
      const T* qi = q + r * s.E;
      const T* kb = k + b * s.S * s.E;
      const T* vb = v + b * s.S * s.Ev;
      const bool* mrow = kpm ? kpm + b * s.S : nullptr;
      double m = kNegInf, l = 0;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t j = 0; j < s.S; ++j) {
        if (!allowed(i, j, causal, mrow)) continue;
        const double x = scale * dot(qi, kb + j * s.E, s.E);
        if (x > m) {  // online softmax: rescale what was summed so far
          const double a = std::exp(m - x);
          l *= a;
          for (double& o : acc) o *= a;
          m = x;
        }
        const double p = std::exp(x - m);
        l += p;
        const T* vj = vb + j * s.Ev;
        for (int64_t d = 0; d < s.Ev; ++d) acc[static_cast<size_t>(d)] += p * static_cast<double>(vj[d]);
      }
      T* oi = out + r * s.Ev;
      // no allowed key: l = 0, 0/0 = NaN output (PyTorch's), lse = -inf
      for (int64_t d = 0; d < s.Ev; ++d)
        oi[d] = l > 0 ? static_cast<T>(acc[static_cast<size_t>(d)] / l) : std::numeric_limits<T>::quiet_NaN();
      lse[r] = l > 0 ? static_cast<T>(m + std::log(l)) : -std::numeric_limits<T>::infinity();
    }
  }
}

template <class T>
void backward_rows(const T* q, const T* k, const T* v, const bool* kpm, const T* out, const T* lse, const T* dout,
                   T* dq, T* dk, T* dv, AttentionDims s, double scale, bool causal) {
  const int64_t rows = s.B * s.L, cols = s.B * s.S;
  const bool par = rows * s.S * (s.E + s.Ev) >= kParallelGrain;
  std::vector<double> D(static_cast<size_t>(rows));  // D_i = dout_i . out_i
  // pass 1, by query row: dq_i = scale sum_j p_ij (dout_i . v_j - D_i) k_j
#pragma omp parallel if (par)
  {
    std::vector<double> acc(static_cast<size_t>(s.E));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t b = r / s.L, i = r % s.L;
      std::fill(acc.begin(), acc.end(), 0.0);
      const double li = static_cast<double>(lse[r]);
      const bool live = std::isfinite(li);
      const double Di = live ? dot(dout + r * s.Ev, out + r * s.Ev, s.Ev) : 0.0;
      D[static_cast<size_t>(r)] = Di;
      if (live) {
        const bool* mrow = kpm ? kpm + b * s.S : nullptr;
        for (int64_t j = 0; j < s.S; ++j) {
          if (!allowed(i, j, causal, mrow)) continue;
          const T* kj = k + (b * s.S + j) * s.E;
          const double p = std::exp(scale * dot(q + r * s.E, kj, s.E) - li);
          const double ds = p * (dot(dout + r * s.Ev, v + (b * s.S + j) * s.Ev, s.Ev) - Di);
          for (int64_t d = 0; d < s.E; ++d) acc[static_cast<size_t>(d)] += ds * static_cast<double>(kj[d]);
        }
      }
      for (int64_t d = 0; d < s.E; ++d) dq[r * s.E + d] = static_cast<T>(scale * acc[static_cast<size_t>(d)]);
    }
  }
  // pass 2, by key column: dv_j = sum_i p_ij dout_i, dk_j = scale sum_i ds_ij q_i
#pragma omp parallel if (par)
  {
    std::vector<double> ak(static_cast<size_t>(s.E)), av(static_cast<size_t>(s.Ev));
#pragma omp for schedule(static)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t b = c / s.S, j = c % s.S;
      std::fill(ak.begin(), ak.end(), 0.0);
      std::fill(av.begin(), av.end(), 0.0);
      if (!(kpm && kpm[c])) {
        const T* kj = k + c * s.E;
        const T* vj = v + c * s.Ev;
        for (int64_t i = causal ? j : 0; i < s.L; ++i) {
          const int64_t r = b * s.L + i;
          const double li = static_cast<double>(lse[r]);
          if (!std::isfinite(li)) continue;
          const T* qi = q + r * s.E;
          const T* gi = dout + r * s.Ev;
          const double p = std::exp(scale * dot(qi, kj, s.E) - li);
          const double ds = p * (dot(gi, vj, s.Ev) - D[static_cast<size_t>(r)]);
          for (int64_t d = 0; d < s.Ev; ++d) av[static_cast<size_t>(d)] += p * static_cast<double>(gi[d]);
          for (int64_t d = 0; d < s.E; ++d) ak[static_cast<size_t>(d)] += ds * static_cast<double>(qi[d]);
        }
      }
      for (int64_t d = 0; d < s.E; ++d) dk[c * s.E + d] = static_cast<T>(scale * ak[static_cast<size_t>(d)]);
      for (int64_t d = 0; d < s.Ev; ++d) dv[c * s.Ev + d] = static_cast<T>(av[static_cast<size_t>(d)]);
    }
  }
}

}  // namespace

std::pair<Tensor, Tensor> flash_attention_forward(const Tensor& q0, const Tensor& k0, const Tensor& v0, double scale,
                                                  bool causal, const Tensor& kpm0) {
  static constexpr const char* op = "flash_attention_forward";
  FM_CUDA_DISPATCH(cuda::any_cuda({&q0, &k0, &v0}), cuda::flash_attention_forward(q0, k0, v0, scale, causal, kpm0));
  require_cpu(op, {&q0, &k0, &v0});
  if (kpm0.defined()) require_cpu(op, {&kpm0});
  const AttentionDims s = check_attention(q0, k0, v0, kpm0, op);
  const Tensor q = contiguous_raw(q0), k = contiguous_raw(k0), v = contiguous_raw(v0);
  const Tensor kpm = kpm0.defined() ? contiguous_raw(kpm0) : Tensor();
  Tensor out = empty({s.B, s.L, s.Ev}, {.dtype = q.dtype()});
  Tensor lse = empty({s.B, s.L}, {.dtype = q.dtype()});
  if (out.numel() == 0 && lse.numel() == 0) return {out, lse};
  FM_DISPATCH_FLOATING(q.dtype(), op, [&] {
    forward_rows<scalar_t>(q.data_ptr<scalar_t>(), k.data_ptr<scalar_t>(), v.data_ptr<scalar_t>(),
                           kpm.defined() ? kpm.data_ptr<bool>() : nullptr, out.data_ptr<scalar_t>(),
                           lse.data_ptr<scalar_t>(), s, scale, causal);
  });
  return {out, lse};
}

std::tuple<Tensor, Tensor, Tensor> flash_attention_backward(const Tensor& q0, const Tensor& k0, const Tensor& v0,
                                                            const Tensor& out0, const Tensor& lse0,
                                                            const Tensor& dout0, double scale, bool causal,
                                                            const Tensor& kpm0) {
  static constexpr const char* op = "flash_attention_backward";
  FM_CUDA_DISPATCH(cuda::any_cuda({&q0, &k0, &v0, &out0, &lse0, &dout0}),
                   cuda::flash_attention_backward(q0, k0, v0, out0, lse0, dout0, scale, causal, kpm0));
  require_cpu(op, {&q0, &k0, &v0, &out0, &lse0, &dout0});
  if (kpm0.defined()) require_cpu(op, {&kpm0});
  const AttentionDims s = check_attention(q0, k0, v0, kpm0, op);
  FM_CHECK(out0.sizes() == (Shape{s.B, s.L, s.Ev}) && dout0.sizes() == out0.sizes() &&
               lse0.sizes() == (Shape{s.B, s.L}),
           op, ": out ", out0.describe(), ", dout ", dout0.describe(), " and lse ", lse0.describe(),
           " do not match q ", q0.describe(), " and v ", v0.describe());
  const DType dt = q0.dtype();
  const Tensor q = contiguous_raw(q0), k = contiguous_raw(k0), v = contiguous_raw(v0);
  const Tensor out = contiguous_raw(to_raw(out0, dt, out0.device())), lse = contiguous_raw(to_raw(lse0, dt, lse0.device()));
  const Tensor dout = contiguous_raw(to_raw(dout0, dt, dout0.device()));
  const Tensor kpm = kpm0.defined() ? contiguous_raw(kpm0) : Tensor();
  Tensor dq = empty(q.sizes(), {.dtype = dt}), dk = empty(k.sizes(), {.dtype = dt}), dv = empty(v.sizes(), {.dtype = dt});
  FM_DISPATCH_FLOATING(dt, op, [&] {
    backward_rows<scalar_t>(q.data_ptr<scalar_t>(), k.data_ptr<scalar_t>(), v.data_ptr<scalar_t>(),
                            kpm.defined() ? kpm.data_ptr<bool>() : nullptr, out.data_ptr<scalar_t>(),
                            lse.data_ptr<scalar_t>(), dout.data_ptr<scalar_t>(), dq.data_ptr<scalar_t>(),
                            dk.data_ptr<scalar_t>(), dv.data_ptr<scalar_t>(), s, scale, causal);
  });
  return {dq, dk, dv};
}

}  // namespace fm::kernels
