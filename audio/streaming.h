#pragma once
// STFT and mel spectrogram over audio that arrives in chunks (the real-time models): push()
// takes any number of samples and returns the frames completed by them; flush() at the end of
// the stream applies the right padding and returns the last frames. The frames of all calls,
// concatenated along time, equal the offline stft / mel_spectrogram of the whole signal.
//
// With center = true the frame t is centred on sample t*hop: the left reflect padding needs
// the first n_fft/2 + 1 samples, so the first frame comes out once they have arrived (constant
// padding needs nothing), and the right padding needs the stream's end (flush). Each frame is
// emitted as soon as its last sample is known. Inference only (no autograd).
#include <cstdint>
#include <optional>
#include <string>

#include "audio/features.h"
#include "tensor/tensor.h"

namespace fm::audio {

class StreamingStft {
 public:
  // The arguments of stft (hop_length n_fft/4, win_length n_fft, periodic Hann by default);
  // `pad` zero-pads the whole signal on both sides first (Spectrogram's pad).
  explicit StreamingStft(int64_t n_fft, std::optional<int64_t> hop_length = std::nullopt,
                         std::optional<int64_t> win_length = std::nullopt, const Tensor& window = Tensor(),
                         bool center = true, const std::string& pad_mode = "reflect", bool normalized = false,
                         int64_t pad = 0);

  // chunk [..., t] (t >= 0; the leading shape and dtype stay those of the first chunk) ->
  // the completed frames [..., n_fft/2+1, k, 2] (k may be 0).
  Tensor push(const Tensor& chunk);
  // Ends the stream: the remaining frames [..., n_fft/2+1, k, 2]; then the object is ready for
  // a new stream. Throws where the offline stft would (a signal too short for the padding).
  Tensor flush();
  // Forgets the current stream.
  void reset();

  int64_t n_fft() const { return n_fft_; }
  int64_t hop_length() const { return hop_; }
  int64_t frames_emitted() const { return frames_emitted_; }
  int64_t samples_pushed() const { return samples_; }

 private:
  void feed(const Tensor& x);       // samples of the (zero-padded) signal
  void append(const Tensor& x);     // samples of the centre-padded signal
  Tensor take_frames();
  Tensor empty_frames() const;

  int64_t n_fft_, hop_, win_length_, pad_;
  Tensor user_window_;  // as given (undefined: periodic Hann)
  Tensor window_;       // win_length, in the stream's dtype once known
  bool center_, normalized_;
  std::string pad_mode_;

  // per-stream state; rows are the flattened leading dims
  bool started_ = false;          // first chunk seen (shape and dtype fixed)
  bool left_done_ = false;        // left centre padding emitted
  Shape lead_;
  DType dtype_ = DType::Float32;
  int64_t rows_ = 0;
  Tensor head_;   // [rows, h] signal before the left reflect padding could be made
  Tensor tail_;   // [rows, <= n_fft/2+1] the last samples, for the right reflect padding
  Tensor buf_;    // [rows, L] padded samples from the start of the next frame on
  int64_t skip_ = 0;  // padded samples to drop before the next frame (hop > n_fft)
  int64_t signal_len_ = 0;  // samples fed (including `pad`)
  int64_t samples_ = 0;
  int64_t frames_emitted_ = 0;
};

// torchaudio.transforms.MelSpectrogram on a stream: [..., t] chunks -> [..., n_mels, k].
class StreamingMelSpectrogram {
 public:
  explicit StreamingMelSpectrogram(const MelOptions& options = {});
  Tensor push(const Tensor& chunk);
  Tensor flush();
  void reset() { stft_.reset(); }
  const MelOptions& options() const { return options_; }

 private:
  Tensor to_mel(const Tensor& spec);

  MelOptions options_;
  int64_t win_length_, hop_length_;
  StreamingStft stft_;
  Tensor window_norm_;  // [1] sqrt(sum(window^2)) for normalized
  Tensor fb_;           // [n_freqs, n_mels] in the stream's dtype
};

}  // namespace fm::audio
