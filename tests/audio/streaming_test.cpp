// Streaming STFT / mel spectrogram: chunks of any size give exactly the offline result, and each
// frame comes out as soon as its last sample has arrived.
#include <gtest/gtest.h>

#include <vector>

#include "audio/features.h"
#include "audio/stft.h"
#include "audio/streaming.h"
#include "support/test_support.h"

namespace fm {
namespace {

using namespace fm::audio;

// Chunk sizes cycling through 1 sample, odd sizes and sizes beyond n_fft, from a seed.
std::vector<int64_t> chunk_sizes(int64_t total, int64_t n_fft, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> sizes;
  const std::vector<int64_t> menu = {1, 3, 7, 0, n_fft - 1, n_fft + 5, 2 * n_fft + 3, 1, 13};
  const auto picks =
      randint(0, static_cast<int64_t>(menu.size()), {4096}, {.dtype = DType::Int64}, &gen).to_vector<int64_t>();
  int64_t used = 0;
  for (size_t i = 0; used < total; ++i) {
    const int64_t s = std::min(menu[picks[i % picks.size()]], total - used);
    sizes.push_back(s);
    used += s;
  }
  return sizes;
}

template <class S>
Tensor run_stream(S& stream, const Tensor& x, const std::vector<int64_t>& sizes, int64_t time_dim) {
  std::vector<Tensor> parts;
  int64_t at = 0;
  for (int64_t s : sizes) {
    parts.push_back(stream.push(slice(x, -1, at, at + s)));
    at += s;
  }
  parts.push_back(stream.flush());
  return cat(parts, time_dim);
}

struct StftCase {
  int64_t n_fft, hop;
  std::optional<int64_t> win;
  bool center;
  std::string pad_mode;
  bool normalized;
};

TEST(AudioStreaming, StftEqualsOfflineForAnyChunking) {
  const std::vector<StftCase> cases = {
      {64, 16, std::nullopt, true, "reflect", false}, {256, 64, std::nullopt, true, "reflect", false},
      {100, 37, 80, true, "constant", false},         {63, 20, std::nullopt, true, "reflect", true},
      {32, 32, std::nullopt, false, "reflect", false}, {16, 40, std::nullopt, true, "reflect", false},  // hop > n_fft
      {128, 50, std::nullopt, false, "constant", false},
  };
  for (DType dt : {DType::Float64, DType::Float32}) {
    Tensor x = to(testing::leaf64({2, 3, 1001}, -1, 1, 17).detach(), dt);
    for (const auto& c : cases) {
      Tensor win = hann_window(c.win.value_or(c.n_fft), true, dt);
      Tensor offline = stft(x, c.n_fft, c.hop, c.win, win, c.center, c.pad_mode, c.normalized);
      for (uint64_t seed : {1, 2, 3}) {
        StreamingStft s(c.n_fft, c.hop, c.win, Tensor(), c.center, c.pad_mode, c.normalized);
        Tensor streamed = run_stream(s, x, chunk_sizes(1001, c.n_fft, seed), -2);
        EXPECT_EQ(streamed.sizes(), offline.sizes()) << "n_fft " << c.n_fft << " hop " << c.hop;
        EXPECT_CLOSE(streamed, offline, 1e-5, 1e-5) << "n_fft " << c.n_fft << " hop " << c.hop << " seed " << seed;
      }
    }
  }
}

TEST(AudioStreaming, OneSampleAtATimeAndReuse) {
  Tensor x = testing::leaf64({300}, -1, 1, 5).detach();
  Tensor offline = stft(x, 32, 8);
  StreamingStft s(32, 8);
  for (int round = 0; round < 2; ++round) {  // flush resets: a second stream gives the same
    Tensor streamed = run_stream(s, x, std::vector<int64_t>(300, 1), -2);
    EXPECT_CLOSE(streamed, offline, 1e-12, 1e-12);
    EXPECT_EQ(s.frames_emitted(), 0);
  }
}

TEST(AudioStreaming, FramesComeOutAsSoonAsComplete) {
  const int64_t n_fft = 64, hop = 16, p = n_fft / 2;
  Tensor x = testing::leaf64({400}, -1, 1, 6).detach();
  StreamingStft s(n_fft, hop);
  int64_t got = 0;
  for (int64_t n = 1; n <= 400; ++n) {
    got += s.push(slice(x, -1, n - 1, n)).sizes()[1];
    // frame f needs padded samples up to f*hop + n_fft, i.e. signal samples up to f*hop + n_fft - p,
    // and the left reflection needs p + 1 samples
    const int64_t want = n >= p + 1 && n + p >= n_fft ? (n + p - n_fft) / hop + 1 : 0;
    ASSERT_EQ(got, want) << "after " << n << " samples";
  }
  // constant padding needs no look-ahead for the left edge
  StreamingStft c(n_fft, hop, std::nullopt, Tensor(), true, "constant");
  EXPECT_EQ(c.push(slice(x, -1, 0, n_fft - p)).sizes()[1], 1);
  EXPECT_EQ(s.flush().sizes()[1], stft(x, n_fft, hop).sizes()[1] - got);
}

TEST(AudioStreaming, MelEqualsOffline) {
  std::vector<MelOptions> opts(4);
  opts[0].n_fft = 256;
  opts[0].n_mels = 40;
  opts[1].n_fft = 128;
  opts[1].hop_length = 32;
  opts[1].f_min = 50;
  opts[1].f_max = 6000;
  opts[1].n_mels = 24;
  opts[1].norm = "slaney";
  opts[1].mel_scale = "slaney";
  opts[1].normalized = true;
  opts[2].n_fft = 200;
  opts[2].win_length = 160;
  opts[2].hop_length = 50;
  opts[2].power = 1.0;
  opts[2].pad = 30;
  opts[2].n_mels = 32;
  opts[3].n_fft = 64;
  opts[3].center = false;
  opts[3].power = 1.5;
  opts[3].n_mels = 16;
  for (DType dt : {DType::Float64, DType::Float32}) {
    Tensor x = to(testing::leaf64({2, 2000}, -1, 1, 23).detach(), dt);
    for (size_t i = 0; i < opts.size(); ++i) {
      Tensor offline = mel_spectrogram(x, opts[i]);
      StreamingMelSpectrogram m(opts[i]);
      Tensor streamed = run_stream(m, x, chunk_sizes(2000, opts[i].n_fft, 40 + i), -1);
      EXPECT_EQ(streamed.sizes(), offline.sizes()) << "options " << i;
      EXPECT_CLOSE(streamed, offline, 1e-5, 1e-5) << "options " << i << " dtype " << dt;
    }
  }
}

TEST(AudioStreaming, Errors) {
  StreamingStft s(64, 16);
  EXPECT_THROW_MSG(s.flush(), "no chunk was pushed");
  s.push(zeros({2, 10}));
  EXPECT_THROW_MSG(s.push(zeros({3, 10})), "does not continue the stream");
  EXPECT_THROW_MSG(s.push(zeros({2, 10}, {.dtype = DType::Float64})), "does not continue the stream");
  EXPECT_THROW_MSG(s.flush(), "reflect padding of n_fft/2 = 32 needs a signal longer than that, got 10 samples");
  // after the failed flush the stream starts over
  EXPECT_EQ(s.push(zeros({5, 40})).sizes(), (Shape{5, 33, 1, 2}));
  StreamingStft nc(64, 16, std::nullopt, Tensor(), false);
  nc.push(zeros({20}));
  EXPECT_THROW_MSG(nc.flush(), "no frame");
  EXPECT_THROW_MSG(StreamingStft(64, 0), "hop_length must be positive");
  EXPECT_THROW_MSG(StreamingStft(64, 16, 80), "expected 0 < win_length <= n_fft");
  EXPECT_THROW_MSG(StreamingStft(64, 16, std::nullopt, Tensor(), true, "circular"), "pad_mode must be");
}

}  // namespace
}  // namespace fm
