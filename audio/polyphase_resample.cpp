#include "audio/polyphase_resample.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <numeric>
#include <tuple>
#include <vector>

#include "autograd/node.h"
#include "tensor/dtype.h"
#include "tensor/error.h"
#include "tensor/factory.h"

namespace fm::audio {

namespace {

// The filter bank of torchaudio's _get_sinc_resample_kernel, [new, 2 * width + orig], kept
// per phase only where |t| < lowpass_filter_width: outside, torchaudio clamps t to the edge,
// where the Hann window is ~1e-33 and the sinc (Kaiser) is sin(pi * lowpass_filter_width) /
// (pi * lowpass_filter_width) ~ 1e-17 in float64, 1e-9 in float32, so those taps are zero to
// working precision; skipping them makes the work per output ~2 * width * orig / base taps
// instead of 2 * width + orig (27x less for 22050 -> 16000).
struct FilterBank {
  int64_t orig = 0, next = 0;       // the rates divided by their gcd
  std::vector<int64_t> first;       // per phase: offset of its first tap from k * orig - width
  std::vector<int64_t> count;       // per phase: number of taps
  std::vector<int64_t> start;       // per phase: where its taps begin in taps64 / taps32
  std::vector<double> taps64;
  std::vector<float> taps32;
  template <class T>
  const T* taps() const {
    if constexpr (std::is_same_v<T, double>) return taps64.data();
    else return taps32.data();
  }
};

enum class Window { Hann, Kaiser };

// The modified Bessel function I0 as PyTorch computes it (Cephes' Chebyshev expansions of
// exp(-x) I0(x), from ATen/native/Math.h), in T: torchaudio evaluates i0(beta) in float32,
// and float64 results only match torchaudio's if that rounding is the same.
template <class T>
T chbevl(T x, const double* coeff, int len) {
  T b0 = T(coeff[0]), b1 = 0, b2 = 0;
  for (int i = 1; i < len; ++i) {
    b2 = b1;
    b1 = b0;
    b0 = x * b1 - b2 + T(coeff[i]);
  }
  return T(0.5) * (b0 - b2);
}

template <class T>
T i0(T x0) {
  static const double a[30] = {
      -4.41534164647933937950E-18, 3.33079451882223809783E-17,  -2.43127984654795469359E-16,
      1.71539128555513303061E-15,  -1.16853328779934516808E-14, 7.67618549860493561688E-14,
      -4.85644678311192946090E-13, 2.95505266312963983461E-12,  -1.72682629144155570723E-11,
      9.67580903537323691224E-11,  -5.18979560163526290666E-10, 2.65982372468238665035E-9,
      -1.30002500998624804212E-8,  6.04699502254191894932E-8,   -2.67079385394061173391E-7,
      1.11738753912010371815E-6,   -4.41673835845875056359E-6,  1.64484480707288970893E-5,
      -5.75419501008210370398E-5,  1.88502885095841655729E-4,   -5.76375574538582365885E-4,
      1.63947561694133579842E-3,   -4.32430999505057594430E-3,  1.05464603945949983183E-2,
      -2.37374148058994688156E-2,  4.93052842396707084878E-2,   -9.49010970480476444210E-2,
      1.71620901522208775349E-1,   -3.04682672343198398683E-1,  6.76795274409476084995E-1};
  static const double b[25] = {
      -7.23318048787475395456E-18, -4.83050448594418207126E-18, 4.46562142029675999901E-17,
      3.46122286769746109310E-17,  -2.82762398051658348494E-16, -3.42548561967721913462E-16,
      1.77256013305652638360E-15,  3.81168066935262242075E-15,  -9.55484669882830764870E-15,
      -4.15056934728722208663E-14, 1.54008621752140982691E-14,  3.85277838274214270114E-13,
      7.18012445138366623367E-13,  -1.79417853150680611778E-12, -1.32158118404477131188E-11,
      -3.14991652796324136454E-11, 1.18891471078464383424E-11,  4.94060238822496958910E-10,
      3.39623202570838634515E-9,   2.26666899049817806459E-8,   2.04891858946906374183E-7,
      2.89137052083475648297E-6,   6.88975834691682398426E-5,   3.36911647825569408990E-3,
      8.04490411014108831608E-1};
  const T x = std::abs(x0);
  if (x <= T(8)) return std::exp(x) * chbevl(x / T(2) - T(2), a, 30);
  return std::exp(x) * chbevl(T(32) / x - T(2), b, 25) / std::sqrt(x);
}

// t of phase p, tap i, as torchaudio computes it in the kernel's dtype T (before the clamp).
template <class T>
T tap_time(int64_t p, int64_t i, int64_t width, int64_t orig, int64_t next, double base) {
  return (T(-p) / T(next) + T(i - width) / T(orig)) * T(base);
}

// torchaudio's kernel value at t (|t| < lowpass_filter_width), in T, operation by operation:
// in float32 its rounding (~1e-6 in t) moves the output by ~1e-5, more than the tolerance.
template <class T>
T tap_value(T t, double lpw, double scale, Window method, double beta) {
  T window;
  if (method == Window::Hann) {
    const T c = std::cos(t * T(std::numbers::pi) / T(lpw) / T(2));
    window = c * c;
  } else {
    // torchaudio makes beta a float32 tensor: its value is rounded to float, i0(beta) is
    // computed in float32, and the product beta * sqrt(..) in T.
    const float beta32 = float(beta);
    const T r = t / T(lpw);
    window = i0<T>(T(beta32) * std::sqrt(T(1) - r * r)) / T(i0<float>(beta32));
  }
  t *= T(std::numbers::pi);
  const T sinc = t == T(0) ? T(1) : std::sin(t) / t;
  return sinc * (window * T(scale));
}

std::shared_ptr<const FilterBank> make_bank(int64_t orig, int64_t next, int64_t lpw, double rolloff, Window method,
                                            double beta) {
  auto bank = std::make_shared<FilterBank>();
  bank->orig = orig;
  bank->next = next;
  const double base = double(std::min(orig, next)) * rolloff;
  const auto width = int64_t(std::ceil(double(lpw * orig) / base));
  const double scale = base / double(orig);
  const double w = double(lpw);
  const int64_t full = 2 * width + orig;
  for (int64_t p = 0; p < next; ++p) {
    auto t_of = [&](int64_t i) { return tap_time<double>(p, i, width, orig, next, base); };
    // t rises with i; the first tap with t > -lpw lies near i = width + orig * (p / next - lpw / base).
    auto i = std::clamp(int64_t(std::floor(double(width) + double(orig) * (double(p) / double(next) - w / base))),
                        int64_t(0), full);
    while (i > 0 && t_of(i - 1) > -w) --i;
    while (i < full && t_of(i) <= -w) ++i;
    const int64_t lo = i;
    bank->first.push_back(lo);
    bank->start.push_back(int64_t(bank->taps64.size()));
    for (; i < full && t_of(i) < w; ++i) {
      // the float32 t may sit on the clamp where the float64 one does not: clamp as torchaudio
      const float t32 = std::clamp(tap_time<float>(p, i, width, orig, next, base), -float(w), float(w));
      bank->taps64.push_back(tap_value<double>(t_of(i), w, scale, method, beta));
      bank->taps32.push_back(tap_value<float>(t32, w, scale, method, beta));
    }
    bank->count.push_back(i - lo);
  }
  return bank;
}

std::shared_ptr<const FilterBank> cached_bank(int64_t orig, int64_t next, int64_t lpw, double rolloff, Window method,
                                              double beta) {
  using Key = std::tuple<int64_t, int64_t, int64_t, double, int, double>;
  static std::mutex mu;
  static std::map<Key, std::shared_ptr<const FilterBank>> cache;
  const Key key{orig, next, lpw, rolloff, int(method), method == Window::Kaiser ? beta : 0.0};
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  auto bank = make_bank(orig, next, lpw, rolloff, method, beta);  // outside the lock: may be large
  std::lock_guard<std::mutex> lock(mu);
  // Random fractional pitch shifts ask for a new pair of rates nearly every call: bound the
  // cache by starting over rather than growing without end.
  if (cache.size() >= 64) cache.clear();
  return cache.emplace(key, bank).first->second;
}

// `shift` = -width: first[] counts from the start of torchaudio's left-padded input.
constexpr int64_t kBlock = 2048;  // outputs per parallel work item

Tensor apply_bank(const Tensor& x0, const std::shared_ptr<const FilterBank>& bank, int64_t shift, int64_t n_out);
Tensor apply_bank_transposed(const Tensor& g0, const std::shared_ptr<const FilterBank>& bank, int64_t shift,
                             int64_t n_in);

Shape with_last(Shape s, int64_t n) {
  s.back() = n;
  return s;
}

int64_t leading_rows(const Shape& s) {
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < s.size(); ++d) rows *= s[d];
  return rows;
}

// y[..., m] = sum_j taps[p][j] * x[..., k * orig + shift + first[p] + j], x zero outside.
Tensor apply_bank(const Tensor& x0, const std::shared_ptr<const FilterBank>& bank, int64_t shift, int64_t n_out) {
  const Tensor x = contiguous_raw(x0);
  const int64_t n_in = x.sizes().back();
  const int64_t rows = leading_rows(x.sizes());
  Tensor y = empty(with_last(x.sizes(), n_out), {.dtype = x.dtype()});
  if (y.numel() > 0) {
    const FilterBank& b = *bank;
    const int64_t blocks = (n_out + kBlock - 1) / kBlock;
    dispatch_floating(x.dtype(), "resample_polyphase", [&]<class T>() {
      const T* src = x.data_ptr<T>();
      T* dst = y.data_ptr<T>();
      const T* taps = b.taps<T>();
#pragma omp parallel for schedule(static) if (rows * n_out > 32768)
      for (int64_t item = 0; item < rows * blocks; ++item) {
        const int64_t r = item / blocks, m0 = (item % blocks) * kBlock, m1 = std::min(n_out, m0 + kBlock);
        const T* in = src + r * n_in;
        T* out = dst + r * n_out;
        int64_t k = m0 / b.next, p = m0 % b.next;
        for (int64_t m = m0; m < m1; ++m) {
          const int64_t s = k * b.orig + shift + b.first[size_t(p)], c = b.count[size_t(p)];
          const T* w = taps + b.start[size_t(p)];
          T acc = 0;
          if (s >= 0 && s + c <= n_in) {
            const T* v = in + s;
            for (int64_t j = 0; j < c; ++j) acc += w[j] * v[j];
          } else {
            const int64_t j0 = std::max<int64_t>(0, -s), j1 = std::min(c, n_in - s);
            for (int64_t j = j0; j < j1; ++j) acc += w[j] * in[s + j];
          }
          out[m] = acc;
          if (++p == b.next) p = 0, ++k;
        }
      }
    });
  }
  if (autograd::any_requires_grad({x0})) {
    autograd::record("ResamplePolyphaseBackward", {x0}, {y}, [bank, shift, n_in](const autograd::tensor_list& g) {
      return autograd::tensor_list{apply_bank_transposed(g[0], bank, shift, n_in)};
    });
  }
  return y;
}

// The adjoint of apply_bank: gx[..., k * orig + shift + first[p] + j] += taps[p][j] * g[..., m].
Tensor apply_bank_transposed(const Tensor& g0, const std::shared_ptr<const FilterBank>& bank, int64_t shift,
                             int64_t n_in) {
  const Tensor g = contiguous_raw(g0);
  const int64_t n_out = g.sizes().back();
  const int64_t rows = leading_rows(g.sizes());
  Tensor gx = zeros(with_last(g.sizes(), n_in), {.dtype = g.dtype()});
  if (gx.numel() > 0 && n_out > 0) {
    const FilterBank& b = *bank;
    dispatch_floating(g.dtype(), "resample_polyphase backward", [&]<class T>() {
      const T* src = g.data_ptr<T>();
      T* dst = gx.data_ptr<T>();
      const T* taps = b.taps<T>();
      // Outputs scatter into overlapping input ranges: rows are the unit of parallelism.
#pragma omp parallel for schedule(static) if (rows > 1 && rows * n_out > 32768)
      for (int64_t r = 0; r < rows; ++r) {
        const T* gy = src + r * n_out;
        T* out = dst + r * n_in;
        int64_t k = 0, p = 0;
        for (int64_t m = 0; m < n_out; ++m) {
          const int64_t s = k * b.orig + shift + b.first[size_t(p)], c = b.count[size_t(p)];
          const T* w = taps + b.start[size_t(p)];
          const T v = gy[m];
          const int64_t j0 = std::max<int64_t>(0, -s), j1 = std::min(c, n_in - s);
          for (int64_t j = j0; j < j1; ++j) out[s + j] += w[j] * v;
          if (++p == b.next) p = 0, ++k;
        }
      }
    });
  }
  if (autograd::any_requires_grad({g0})) {
    autograd::record("ResamplePolyphaseTransposeBackward", {g0}, {gx},
                     [bank, shift, n_out](const autograd::tensor_list& gg) {
                       return autograd::tensor_list{apply_bank(gg[0], bank, shift, n_out)};
                     });
  }
  return gx;
}

Window parse_method(const std::string& method) {
  if (method == "sinc_interp_hann" || method == "sinc_interpolation") return Window::Hann;
  if (method == "sinc_interp_kaiser" || method == "kaiser_window") return Window::Kaiser;
  fail("resample_polyphase: method '", method, "', expected \"sinc_interp_hann\" or \"sinc_interp_kaiser\"");
}

}  // namespace

Tensor resample_polyphase(const Tensor& waveform, int64_t orig_freq, int64_t new_freq, int64_t lowpass_filter_width,
                          double rolloff, const std::string& method, double beta) {
  FM_CHECK(waveform.defined(), "resample_polyphase: undefined waveform");
  FM_CHECK(waveform.dtype() == DType::Float32 || waveform.dtype() == DType::Float64, "resample_polyphase: waveform ",
           waveform.describe(), ", expected float32 or float64");
  FM_CHECK(waveform.dim() >= 1, "resample_polyphase: waveform ", waveform.describe(),
           ", expected at least 1 dimension (time)");
  FM_CHECK(waveform.device().is_cpu(), "resample_polyphase: waveform ", waveform.describe(), ", expected a CPU tensor");
  FM_CHECK(orig_freq > 0 && new_freq > 0, "resample_polyphase: orig_freq ", orig_freq, " and new_freq ", new_freq,
           " must be positive");
  FM_CHECK(lowpass_filter_width > 0, "resample_polyphase: lowpass_filter_width ", lowpass_filter_width,
           " must be positive");
  FM_CHECK(rolloff > 0 && std::isfinite(rolloff), "resample_polyphase: rolloff ", rolloff,
           " must be positive (a fraction of the lower Nyquist frequency)");
  const Window window = parse_method(method);
  FM_CHECK(window == Window::Hann || std::isfinite(beta), "resample_polyphase: beta ", beta, " must be finite");
  if (orig_freq == new_freq) return waveform;
  const int64_t g = std::gcd(orig_freq, new_freq);
  const int64_t orig = orig_freq / g, next = new_freq / g;
  // The bank holds ~2 * width * max(orig, next) / rolloff taps: bound it (and the work) so a
  // pair of nearly equal, coprime rates gives an error instead of exhausting memory.
  const double taps = 2.0 * double(lowpass_filter_width) * double(std::max(orig, next)) / rolloff;
  FM_CHECK(taps <= 64e6, "resample_polyphase: ", orig_freq, " -> ", new_freq, " Hz reduces to ", orig, " -> ", next,
           " with lowpass_filter_width ", lowpass_filter_width, ": its filter bank (~", taps,
           " taps) is too large; choose rates with a larger common divisor");
  const auto bank = cached_bank(orig, next, lowpass_filter_width, rolloff, window, beta);
  const double base = double(std::min(orig, next)) * rolloff;
  const auto width = int64_t(std::ceil(double(lowpass_filter_width * orig) / base));
  const int64_t n_in = waveform.sizes().back();
  const int64_t n_out = (next * n_in + orig - 1) / orig;  // ceil(new * time / orig)
  return apply_bank(waveform, bank, -width, n_out);
}

}  // namespace fm::audio
