#include "audio/mfcc.h"

#include <cmath>
#include <numbers>
#include <vector>

#include "autograd/elementwise.h"
#include "autograd/linalg.h"
#include "autograd/views.h"
#include "tensor/factory.h"

namespace fm::audio {
namespace {

void check_options(const char* op, const MFCCOptions& o) {
  FM_CHECK(o.dct_type == 2, op, ": only DCT type 2 is supported, got dct_type = ", o.dct_type);
  FM_CHECK(o.n_mfcc > 0 && o.n_mfcc <= o.mel.n_mels, op, ": expected 0 < n_mfcc <= n_mels, got n_mfcc = ", o.n_mfcc,
           ", n_mels = ", o.mel.n_mels);
}

constexpr double kLogOffset = 1e-6;  // torchaudio's log_mels offset
constexpr double kTopDb = 80.0;      // torchaudio's MFCC.top_db

// Works on [..., frames, n_mels], the layout the mel spectrogram's GEMM produced (the mel
// spectrogram is its transposed view), so the dB and the DCT run on contiguous data. top_db's
// maximum over the last three dims is the same in either layout.
Tensor cepstrum(const Tensor& mel, const Tensor& dct, bool log_mels, AmplitudeToDB* to_db) {
  const Tensor mt = transpose(mel, -1, -2);
  Tensor m = log_mels ? log(add(mt, kLogOffset))
                      : (to_db ? (*to_db)(mt) : amplitude_to_db(mt, 10.0, 1e-10, 0.0, kTopDb));
  return transpose(matmul(m, dct), -1, -2);
}

}  // namespace

Tensor create_dct(int64_t n_mfcc, int64_t n_mels, const std::string& norm, DType dtype) {
  FM_CHECK(norm.empty() || norm == "ortho", "create_dct: norm must be \"ortho\" or none, got \"", norm, "\"");
  FM_CHECK(n_mfcc > 0 && n_mels > 0, "create_dct: n_mfcc and n_mels must be positive, got ", n_mfcc, ", ", n_mels);
  std::vector<double> d(static_cast<size_t>(n_mels * n_mfcc));
  for (int64_t n = 0; n < n_mels; ++n)
    for (int64_t k = 0; k < n_mfcc; ++k) {
      double v = std::cos(std::numbers::pi / static_cast<double>(n_mels) * (static_cast<double>(n) + 0.5) *
                          static_cast<double>(k));
      if (norm.empty()) {
        v *= 2.0;
      } else {
        if (k == 0) v /= std::sqrt(2.0);
        v *= std::sqrt(2.0 / static_cast<double>(n_mels));
      }
      d[n * n_mfcc + k] = v;
    }
  Tensor t = from_vector(d, {n_mels, n_mfcc});
  return dtype == DType::Float64 ? t : to(t, dtype);
}

Tensor mfcc(const Tensor& x, const MFCCOptions& o) {
  check_options("mfcc", o);
  return cepstrum(mel_spectrogram(x, o.mel), create_dct(o.n_mfcc, o.mel.n_mels, o.norm, x.dtype()), o.log_mels,
                  nullptr);
}

MFCC::MFCC(const MFCCOptions& o) : options(o) {
  check_options("MFCC", o);
  mel_spectrogram = register_module("MelSpectrogram", std::make_shared<MelSpectrogram>(o.mel));
  amplitude_to_db = register_module("amplitude_to_DB", std::make_shared<AmplitudeToDB>("power", kTopDb));
  dct_mat = register_buffer("dct_mat", create_dct(o.n_mfcc, o.mel.n_mels, o.norm));
}

Tensor MFCC::forward(const Tensor& x) {
  return cepstrum((*mel_spectrogram)(x), dct_mat, options.log_mels, amplitude_to_db.get());
}

}  // namespace fm::audio
