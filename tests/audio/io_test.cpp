// Sound files: save -> load round trips per format, windows, mono mix-down, resampling on
// load, errors for missing/truncated/garbage files, and the fuzz corpus of the header check.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "audio/audio_header.h"
#include "audio/fft.h"
#include "audio/io.h"
#include "support/test_support.h"

namespace fm {
namespace {

namespace fs = std::filesystem;
using namespace fm::audio;

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("fermata_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

// [channels, n]: channel c is a sine of 220 * (c + 1) Hz, amplitude 0.8 / (c + 1).
Tensor sines(int64_t channels, int64_t n, int64_t rate) {
  std::vector<float> v(static_cast<size_t>(channels * n));
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t t = 0; t < n; ++t)
      v[size_t(c * n + t)] = float(0.8 / double(c + 1) * std::sin(2 * M_PI * 220.0 * double(c + 1) * double(t) / double(rate)));
  return from_vector(v, {channels, n});
}

// A ramp whose every sample is distinct and exactly representable in 16 bits: sample t is
// (t mod 32768 - 16384) / 32768.
Tensor ramp(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) v[size_t(t)] = float(double(t % 32768 - 16384) / 32768.0);
  return from_vector(v, {1, n});
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

SaveOptions as(const std::string& subtype) {
  SaveOptions o;
  o.subtype = subtype;
  return o;
}
SaveOptions in_format(const std::string& format) {
  SaveOptions o;
  o.format = format;
  return o;
}
LoadOptions window(double offset, std::optional<double> duration = std::nullopt,
                   std::optional<int64_t> sample_rate = std::nullopt, bool mono = false) {
  LoadOptions o;
  o.offset = offset;
  o.duration = duration;
  o.sample_rate = sample_rate;
  o.mono = mono;
  return o;
}

TEST(AudioIo, LosslessRoundTripsPerFormatAndSubtype) {
  TempDir dir;
  const int64_t rate = 44100, n = 4410;
  Tensor x = sines(2, n, rate);
  struct Case {
    const char* file;
    const char* subtype;
    const char* format;
    double atol;
  };
  for (const Case& c : {Case{"a.wav", "PCM_16", "WAV", 1.0 / 32768}, Case{"a24.wav", "PCM_24", "WAV", 1.0 / 8388608},
                        Case{"a32.wav", "PCM_32", "WAV", 1e-7}, Case{"af.wav", "FLOAT", "WAV", 0},
                        Case{"ad.wav", "DOUBLE", "WAV", 0}, Case{"a8.wav", "PCM_U8", "WAV", 1.0 / 128},
                        Case{"a.flac", "PCM_16", "FLAC", 1.0 / 32768}, Case{"a24.flac", "PCM_24", "FLAC", 1.0 / 8388608},
                        Case{"A.FLAC", "PCM_S8", "FLAC", 1.0 / 128}}) {
    const std::string path = dir / c.file;
    save(path, x, rate, as(c.subtype));
    const AudioInfo i = info(path);
    EXPECT_EQ(i.format, c.format) << c.file;
    EXPECT_EQ(i.subtype, c.subtype) << c.file;
    EXPECT_EQ(i.channels, 2);
    EXPECT_EQ(i.sample_rate, rate);
    EXPECT_EQ(i.frames, n);
    const Audio a = load(path);
    EXPECT_EQ(a.sample_rate, rate);
    EXPECT_EQ(a.samples.dtype(), DType::Float32);
    EXPECT_CLOSE(a.samples, x, 0, c.atol) << c.file;
  }
}

TEST(AudioIo, OggVorbisRoundTripKeepsTheSignal) {
  TempDir dir;
  const int64_t rate = 44100, n = 44100;
  Tensor x = sines(2, n, rate);
  const std::string path = dir / "a.ogg";
  save(path, x, rate);  // the default subtype means VORBIS for OGG
  const AudioInfo i = info(path);
  EXPECT_EQ(i.format, "OGG");
  EXPECT_EQ(i.subtype, "VORBIS");
  EXPECT_EQ(i.channels, 2);
  EXPECT_EQ(i.frames, n);
  const Audio a = load(path);
  ASSERT_EQ(a.samples.sizes(), x.sizes());
  // lossy: the error is small beside the signal (SNR above 30 dB)
  const auto got = a.samples.to_vector<float>(), want = x.to_vector<float>();
  double err = 0, sig = 0;
  for (size_t k = 0; k < got.size(); ++k) err += std::pow(got[k] - want[k], 2), sig += std::pow(want[k], 2);
  EXPECT_GT(10 * std::log10(sig / err), 30.0);
}

TEST(AudioIo, ManyChannelsOneDimensionalAndOddRates) {
  TempDir dir;
  Tensor x = sines(6, 1000, 8000);
  save(dir / "six.wav", x, 8000, as("FLOAT"));
  EXPECT_CLOSE(load(dir / "six.wav").samples, x, 0, 0);
  save(dir / "six.flac", x, 96000, as("PCM_24"));
  EXPECT_EQ(load(dir / "six.flac").sample_rate, 96000);
  Tensor many = sines(40, 100, 8000);
  save(dir / "forty.wav", many, 12345, as("FLOAT"));
  EXPECT_EQ(info(dir / "forty.wav").channels, 40);
  EXPECT_CLOSE(load(dir / "forty.wav").samples, many, 0, 0);
  // [frames] is one channel; float64 input
  Tensor mono64 = to_raw(make_view(x, {1000}, {1}, 0), DType::Float64, Device::cpu());
  save(dir / "one.wav", mono64, 11025, as("DOUBLE"));
  const Audio one = load(dir / "one.wav");
  EXPECT_EQ(one.samples.sizes(), (Shape{1, 1000}));
  EXPECT_CLOSE(one.samples, make_view(x, {1, 1000}, {1000, 1}, 0), 0, 0);
}

TEST(AudioIo, MonoIsTheMeanOfTheChannels) {
  TempDir dir;
  Tensor x = sines(3, 500, 8000);
  save(dir / "s.wav", x, 8000, as("FLOAT"));
  const Audio m = load(dir / "s.wav", window(0, std::nullopt, std::nullopt, true));
  ASSERT_EQ(m.samples.sizes(), (Shape{1, 500}));
  const auto v = x.to_vector<float>(), got = m.samples.to_vector<float>();
  for (int64_t t = 0; t < 500; ++t)
    EXPECT_NEAR(got[size_t(t)], (v[size_t(t)] + v[size_t(500 + t)] + v[size_t(1000 + t)]) / 3, 1e-6);
}

TEST(AudioIo, OffsetAndDurationReadExactlyThatWindow) {
  TempDir dir;
  const int64_t rate = 1000, n = 200000;  // long enough for seeking to skip whole FLAC/Vorbis blocks
  Tensor x = ramp(n);
  const auto all = x.to_vector<float>();
  for (const char* f : {"r.wav", "r.flac"}) {
    save(dir / f, x, rate);
    const Audio a = load(dir / f, window(123.456, 2.5));
    ASSERT_EQ(a.samples.sizes(), (Shape{1, 2500})) << f;
    const auto got = a.samples.to_vector<float>();
    for (int64_t t = 0; t < 2500; ++t) ASSERT_EQ(got[size_t(t)], all[size_t(123456 + t)]) << f << " " << t;
    // past the end the window stops at the end; offset == length is empty
    EXPECT_EQ(load(dir / f, window(199.0, 5.0)).samples.size(1), 1000);
    EXPECT_EQ(load(dir / f, window(200.0)).samples.size(1), 0);
    EXPECT_THROW_MSG(load(dir / f, window(200.5)), "past the end");
    EXPECT_THROW_MSG(load(dir / f, window(-1)), "expected a finite value >= 0");
  }
  // Vorbis: seeking is sample-accurate too; compare with the same window of the full decode
  Tensor s = sines(1, 20000, 8000);
  save(dir / "s.ogg", s, 8000);
  const auto full = load(dir / "s.ogg").samples.to_vector<float>();
  const auto win = load(dir / "s.ogg", window(1.0, 0.5)).samples.to_vector<float>();
  ASSERT_EQ(win.size(), 4000u);
  for (size_t t = 0; t < win.size(); ++t) ASSERT_NEAR(win[t], full[8000 + t], 1e-4) << t;
}

TEST(AudioIo, LoadResamplesWhenAsked) {
  TempDir dir;
  Tensor x = sines(2, 44100, 44100);
  save(dir / "x.wav", x, 44100, as("FLOAT"));
  const Audio a = load(dir / "x.wav", window(0, std::nullopt, 16000, true));
  EXPECT_EQ(a.sample_rate, 16000);
  EXPECT_EQ(a.samples.sizes(), (Shape{1, 16000}));
  const Audio b = load(dir / "x.wav", window(0.5, 0.25, 22050));
  EXPECT_EQ(b.samples.sizes(), (Shape{2, resampled_length(11025, 44100, 22050)}));
}

TEST(AudioIo, SaveIsAtomicAndReplacesTheFile) {
  TempDir dir;
  save(dir / "x.wav", sines(1, 100, 8000), 8000);
  save(dir / "x.wav", sines(2, 300, 8000), 8000);
  EXPECT_EQ(info(dir / "x.wav").frames, 300);
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);  // no temporary file left behind
  // a failed save leaves the old file and no temporary
  EXPECT_THROW_MSG(save(dir / "x.wav", sines(1, 10, 8000), 8000, as("VORBIS")), "cannot write subtype");
  EXPECT_EQ(info(dir / "x.wav").frames, 300);
}

TEST(AudioIo, BytesRoundTrip) {
  Tensor x = sines(2, 1000, 16000);
  for (const char* f : {"WAV", "FLAC"}) {
    const auto bytes = save_to_bytes(x, 16000, in_format(f));
    EXPECT_EQ(info_from_bytes(bytes.data(), bytes.size()).format, f);
    EXPECT_CLOSE(load_from_bytes(bytes.data(), bytes.size()).samples, x, 0, 1.0 / 32768);
  }
}

TEST(AudioIo, ErrorsNameTheFileAndWhatIsWrong) {
  TempDir dir;
  const std::string missing = dir / "missing.wav";
  EXPECT_THROW_MSG(load(missing), missing + ": cannot open: No such file or directory");
  EXPECT_THROW_MSG(info(missing), missing);
  EXPECT_THROW_MSG(load(dir.path.string()), "is a directory");

  const std::string garbage = dir / "garbage.wav";
  write_bytes(garbage, std::vector<uint8_t>(1000, 'x'));
  EXPECT_THROW_MSG(load(garbage), garbage + ": not a WAV, FLAC or OGG file");
  const std::string empty = dir / "empty.flac";
  write_bytes(empty, {});
  EXPECT_THROW_MSG(load(empty), empty + ": empty file");

  save(dir / "full.wav", sines(2, 1000, 8000), 8000);
  save(dir / "full.flac", sines(2, 20000, 8000), 8000);
  save(dir / "full.ogg", sines(2, 20000, 8000), 8000);
  for (const char* f : {"full.wav", "full.flac", "full.ogg"}) {
    auto bytes = read_bytes(dir / f);
    bytes.resize(bytes.size() * 2 / 3);
    const std::string cut = dir / (std::string("cut_") + f);
    write_bytes(cut, bytes);
    EXPECT_THROW_MSG(load(cut), cut + ": truncated");
    bytes.resize(30);
    write_bytes(cut, bytes);
    EXPECT_THROW_MSG(info(cut), cut + ": truncated");
  }
  // a WAV whose fmt chunk is not sane never reaches libsndfile
  auto wav = read_bytes(dir / "full.wav");
  wav[22] = 0;  // channels = 0
  write_bytes(dir / "zero.wav", wav);
  EXPECT_THROW_MSG(load(dir / "zero.wav"), "declares 0 channels, expected 1..1024");

  // a FLAC whose STREAMINFO claims 2^36 - 1 frames: decoding stops at the real end, without
  // allocating for the claim
  auto flac = save_to_bytes(sines(2, 1000, 8000), 8000, in_format("FLAC"));
  flac[8 + 13] |= 0x0F;
  for (int k = 14; k < 18; ++k) flac[size_t(8 + k)] = 0xFF;
  EXPECT_EQ(info_from_bytes(flac.data(), flac.size()).frames, (int64_t(1) << 36) - 1);
  EXPECT_THROW_MSG(load_from_bytes(flac.data(), flac.size(), LoadOptions{}, "lying.flac"),
                   "lying.flac: truncated or corrupt: decoded 1000 of the 68719476735 frames");
  EXPECT_EQ(load_from_bytes(flac.data(), flac.size(), window(0, 0.1)).samples.size(1), 800);

  EXPECT_THROW_MSG(save(dir / "x.mp3", sines(1, 10, 8000), 8000), "expected .wav, .flac or .ogg");
  EXPECT_THROW_MSG(save(dir / "x.wav", zeros({2, 10}, {.dtype = DType::Int64}), 8000), "expected float32 or float64");
  EXPECT_THROW_MSG(save(dir / "x.wav", zeros({1, 2, 10}), 8000), "expected [channels, frames] or [frames]");
  EXPECT_THROW_MSG(save(dir / "x.wav", full({1, 3}, NAN), 8000), "samples contain nan");
  EXPECT_THROW_MSG(save(dir / "x.flac", zeros({1, 3}), 8000, as("FLOAT")), "cannot write subtype FLOAT in FLAC");
  EXPECT_THROW_MSG(save(dir / "no/such/dir/x.wav", zeros({1, 3}), 8000), "cannot create");
  EXPECT_THROW_MSG(save(dir / "x.wav", zeros({1, 3}), 0), "sample rate 0");
}

TEST(AudioHeaderFuzzCorpus, EveryFileParsesOrFailsCleanly) {
  fm::testing::replay_fuzz_corpus("audio_header", [](const std::vector<uint8_t>& bytes, const std::string& name) {
    const AudioHeader h = check_audio_header(bytes.data(), bytes.size());
    const AudioInfo i = info_from_bytes(bytes.data(), bytes.size());
    EXPECT_EQ(i.channels, h.channels) << name;
    EXPECT_EQ(i.format, container_name(h.container)) << name;
    const Audio a = load_from_bytes(bytes.data(), bytes.size(), window(0, 1.0));
    EXPECT_EQ(a.samples.size(0), h.channels) << name;
  }, 10, 4);
}

}  // namespace
}  // namespace fm
