#include "audio/io.h"

#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>

#include "audio/audio_header.h"
#include "tensor/error.h"

namespace fm::audio {

namespace {

constexpr int64_t kChunkFrames = 1 << 16;

// ---------------------------------------------------------------- byte sources for reading

// A validated byte source seen by libsndfile through its virtual I/O: it never reads past
// the size that was validated.
struct VirtualReader {
  ByteSource source;
  int64_t pos = 0;
};

sf_count_t vr_len(void* u) { return static_cast<VirtualReader*>(u)->source.size; }
sf_count_t vr_seek(sf_count_t offset, int whence, void* u) {
  auto* v = static_cast<VirtualReader*>(u);
  const int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? v->pos : v->source.size;
  const int64_t to = base + offset;
  if (to < 0) return -1;
  v->pos = to;
  return to;
}
sf_count_t vr_read(void* dst, sf_count_t n, void* u) {
  auto* v = static_cast<VirtualReader*>(u);
  if (n <= 0 || v->pos >= v->source.size) return 0;
  const size_t k = v->source.read_at(v->pos, dst, size_t(std::min<int64_t>(n, v->source.size - v->pos)));
  v->pos += int64_t(k);
  return sf_count_t(k);
}
sf_count_t vr_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t vr_tell(void* u) { return static_cast<VirtualReader*>(u)->pos; }

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// The file opened once: validated and decoded through the same handle.
struct FileSource {
  std::unique_ptr<std::FILE, FileCloser> file;
  ByteSource source;
};

FileSource open_file(const std::string& path) {
  std::error_code ec;
  FM_CHECK(!std::filesystem::is_directory(path, ec), "audio: ", path, ": is a directory, expected a sound file");
  FileSource fs;
  fs.file.reset(std::fopen(path.c_str(), "rb"));
  FM_CHECK(fs.file != nullptr, "audio: ", path, ": cannot open: ", std::strerror(errno));
  std::FILE* f = fs.file.get();
  FM_CHECK(fseeko(f, 0, SEEK_END) == 0, "audio: ", path, ": cannot seek: ", std::strerror(errno));
  fs.source.size = ftello(f);
  FM_CHECK(fs.source.size >= 0, "audio: ", path, ": cannot tell its size: ", std::strerror(errno));
  fs.source.read_at = [f](int64_t offset, void* dst, size_t n) -> size_t {
    if (fseeko(f, offset, SEEK_SET) != 0) return 0;
    return std::fread(dst, 1, n, f);
  };
  return fs;
}

ByteSource memory_source(const uint8_t* data, size_t size) {
  ByteSource s;
  s.size = int64_t(size);
  s.read_at = [data, size](int64_t offset, void* dst, size_t n) -> size_t {
    if (offset < 0 || size_t(offset) >= size) return 0;
    const size_t k = std::min(n, size - size_t(offset));
    std::memcpy(dst, data + offset, k);
    return k;
  };
  return s;
}

// ---------------------------------------------------------------- opening for reading

std::string subtype_name(int format) {
  switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8: return "PCM_S8";
    case SF_FORMAT_PCM_16: return "PCM_16";
    case SF_FORMAT_PCM_24: return "PCM_24";
    case SF_FORMAT_PCM_32: return "PCM_32";
    case SF_FORMAT_PCM_U8: return "PCM_U8";
    case SF_FORMAT_FLOAT: return "FLOAT";
    case SF_FORMAT_DOUBLE: return "DOUBLE";
    case SF_FORMAT_ULAW: return "ULAW";
    case SF_FORMAT_ALAW: return "ALAW";
    case SF_FORMAT_VORBIS: return "VORBIS";
    case SF_FORMAT_OPUS: return "OPUS";
    default: return "UNKNOWN";
  }
}

struct SndCloser {
  void operator()(SNDFILE* s) const { sf_close(s); }
};

struct OpenedSound {
  VirtualReader reader;  // libsndfile holds a pointer to it: never moved after opening
  std::unique_ptr<SNDFILE, SndCloser> sf;
  SF_INFO info{};
  AudioHeader header;
};

void open_sound(OpenedSound& o, const ByteSource& source, const std::string& name) {
  o.header = check_audio_header(source, name);
  o.reader.source = source;
  SF_VIRTUAL_IO io{vr_len, vr_seek, vr_read, vr_write, vr_tell};
  o.sf.reset(sf_open_virtual(&io, SFM_READ, &o.info, &o.reader));
  FM_CHECK(o.sf != nullptr, "audio: ", name, ": libsndfile cannot read this ", container_name(o.header.container),
           " file: ", sf_strerror(nullptr));
  const int major = o.info.format & SF_FORMAT_TYPEMASK;
  const bool same = (o.header.container == AudioContainer::WAV && (major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX)) ||
                    (o.header.container == AudioContainer::FLAC && major == SF_FORMAT_FLAC) ||
                    (o.header.container == AudioContainer::OGG && major == SF_FORMAT_OGG);
  FM_CHECK(same, "audio: ", name, ": libsndfile read the ", container_name(o.header.container),
           " file as major format 0x", std::hex, major);
  FM_CHECK(o.info.channels == o.header.channels && o.info.samplerate == o.header.sample_rate, "audio: ", name,
           ": libsndfile reports ", o.info.channels, " channels at ", o.info.samplerate, " Hz, the header declares ",
           o.header.channels, " at ", o.header.sample_rate);
  FM_CHECK(o.info.frames >= 0, "audio: ", name, ": libsndfile reports ", o.info.frames, " frames");
}

AudioInfo make_info(const OpenedSound& o) {
  AudioInfo i;
  i.sample_rate = o.info.samplerate;
  i.channels = o.info.channels;
  i.frames = o.info.frames;
  i.format = container_name(o.header.container);
  i.subtype = subtype_name(o.info.format);
  return i;
}

// Clamped so that absurd seconds cannot overflow (they then fail the range checks).
int64_t seconds_to_frames(double s, int64_t rate) { return int64_t(std::llround(std::min(s * double(rate), 1e18))); }

Audio read_window(OpenedSound& o, const LoadOptions& opt, const std::string& name) {
  FM_CHECK(std::isfinite(opt.offset) && opt.offset >= 0, "audio: ", name, ": load offset ", opt.offset,
           " s, expected a finite value >= 0");
  FM_CHECK(!opt.duration || (std::isfinite(*opt.duration) && *opt.duration >= 0), "audio: ", name,
           ": load duration ", opt.duration.value_or(0), " s, expected a finite value >= 0");
  FM_CHECK(!opt.sample_rate || (*opt.sample_rate > 0 && *opt.sample_rate <= kMaxAudioSampleRate), "audio: ", name,
           ": load sample_rate ", opt.sample_rate.value_or(0), ", expected 1..", kMaxAudioSampleRate);
  const int64_t rate = o.info.samplerate, channels = o.info.channels, frames = o.info.frames;
  const int64_t start = seconds_to_frames(opt.offset, rate);
  FM_CHECK(start <= frames, "audio: ", name, ": offset ", opt.offset, " s (frame ", start,
           ") is past the end of the file (", frames, " frames at ", rate, " Hz)");
  const int64_t wanted = opt.duration ? seconds_to_frames(*opt.duration, rate) : frames - start;
  const int64_t expected = std::min(wanted, frames - start);
  if (start > 0) {
    const sf_count_t at = sf_seek(o.sf.get(), start, SEEK_SET);
    FM_CHECK(at == start, "audio: ", name, ": cannot seek to frame ", start, ": ", sf_strerror(o.sf.get()));
  }
  // Decoded in chunks into a growing buffer: a FLAC or OGG header's frame count is a claim,
  // and memory follows what is really decoded. A WAV's count comes from its data chunk, which
  // was checked to lie within the file, so its buffer is reserved at once.
  std::vector<float> interleaved;
  const bool trusted = o.header.container == AudioContainer::WAV;
  interleaved.reserve(size_t((trusted ? expected : std::min<int64_t>(expected, kChunkFrames)) * channels));
  int64_t got = 0;
  const int64_t chunk = std::max<int64_t>(256, (int64_t(1) << 20) / channels);  // ~4 MB of floats per read
  while (got < expected) {
    const int64_t n = std::min(chunk, expected - got);
    interleaved.resize(size_t((got + n) * channels));
    const sf_count_t r = sf_readf_float(o.sf.get(), interleaved.data() + got * channels, n);
    if (r <= 0) break;
    got += r;
    if (r < n) break;
  }
  FM_CHECK(got == expected, "audio: ", name, ": truncated or corrupt: decoded ", got, " of the ", expected,
           " frames from frame ", start, " that the header declares (", sf_strerror(o.sf.get()), ")");
  Tensor samples = empty({opt.mono ? 1 : channels, got}, {.dtype = DType::Float32});
  float* dst = samples.data_ptr<float>();
  const float* src = interleaved.data();
  if (opt.mono) {
    const float inv = 1.0f / float(channels);
    for (int64_t t = 0; t < got; ++t) {
      float s = 0;
      for (int64_t c = 0; c < channels; ++c) s += src[t * channels + c];
      dst[t] = s * inv;
    }
  } else {
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t t = 0; t < got; ++t) dst[c * got + t] = src[t * channels + c];
  }
  Audio a{samples, rate};
  if (opt.sample_rate && *opt.sample_rate != rate) {
    a.samples = resample(a.samples, rate, *opt.sample_rate, opt.quality);
    a.sample_rate = *opt.sample_rate;
  }
  return a;
}

// ---------------------------------------------------------------- writing

std::string upper(std::string s) {
  for (auto& ch : s) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

int major_format(const std::string& path, const std::string& format) {
  std::string f = upper(format);
  if (f.empty()) {
    const std::string ext = upper(std::filesystem::path(path).extension().string());
    FM_CHECK(ext == ".WAV" || ext == ".FLAC" || ext == ".OGG", "audio.save: ", path,
             ": cannot tell the format from the extension '", std::filesystem::path(path).extension().string(),
             "', expected .wav, .flac or .ogg, or SaveOptions::format");
    f = ext.substr(1);
  }
  if (f == "WAV") return SF_FORMAT_WAV;
  if (f == "FLAC") return SF_FORMAT_FLAC;
  if (f == "OGG") return SF_FORMAT_OGG;
  fail("audio.save: ", path, ": format '", format, "', expected WAV, FLAC or OGG");
}

int subtype_format(const std::string& path, const std::string& subtype, int major) {
  const std::string s = upper(subtype);
  if (major == SF_FORMAT_OGG && (s == "PCM_16" || s == "VORBIS")) return SF_FORMAT_VORBIS;
  if (s == "PCM_S8") return SF_FORMAT_PCM_S8;
  if (s == "PCM_16") return SF_FORMAT_PCM_16;
  if (s == "PCM_24") return SF_FORMAT_PCM_24;
  if (s == "PCM_32") return SF_FORMAT_PCM_32;
  if (s == "PCM_U8") return SF_FORMAT_PCM_U8;
  if (s == "FLOAT") return SF_FORMAT_FLOAT;
  if (s == "DOUBLE") return SF_FORMAT_DOUBLE;
  if (s == "ULAW") return SF_FORMAT_ULAW;
  if (s == "ALAW") return SF_FORMAT_ALAW;
  if (s == "VORBIS") return SF_FORMAT_VORBIS;
  fail("audio.save: ", path, ": subtype '", subtype,
       "', expected PCM_S8, PCM_16, PCM_24, PCM_32, PCM_U8, FLOAT, DOUBLE, ULAW, ALAW or VORBIS");
}

struct Prepared {
  Tensor samples;  // float64 [channels, frames], contiguous
  SF_INFO info{};
};

Prepared prepare(const std::string& path, const Tensor& samples, int64_t sample_rate, const SaveOptions& opt) {
  FM_CHECK(samples.defined(), "audio.save: ", path, ": undefined samples");
  FM_CHECK(samples.dtype() == DType::Float32 || samples.dtype() == DType::Float64, "audio.save: ", path,
           ": samples ", samples.describe(), ", expected float32 or float64");
  FM_CHECK(samples.dim() == 1 || samples.dim() == 2, "audio.save: ", path, ": samples ", samples.describe(),
           ", expected [channels, frames] or [frames]");
  Prepared p;
  Tensor s = samples.dim() == 1 ? make_view(samples, {1, samples.size(0)}, {0, samples.stride(0)}, samples.storage_offset())
                                : samples;
  p.samples = contiguous_raw(to_raw(s.detach(), DType::Float64, Device::cpu()));
  const int64_t channels = p.samples.size(0);
  FM_CHECK(channels >= 1 && channels <= kMaxAudioChannels, "audio.save: ", path, ": ", channels,
           " channels, expected 1..", kMaxAudioChannels);
  FM_CHECK(sample_rate >= 1 && sample_rate <= kMaxAudioSampleRate, "audio.save: ", path, ": sample rate ",
           sample_rate, ", expected 1..", kMaxAudioSampleRate);
  const double* d = p.samples.data_ptr<double>();
  for (int64_t i = 0, n = p.samples.numel(); i < n; ++i)
    FM_CHECK(std::isfinite(d[i]), "audio.save: ", path, ": samples contain ", d[i], " at index ", i);
  const int major = major_format(path, opt.format);
  p.info.samplerate = int(sample_rate);
  p.info.channels = int(channels);
  p.info.format = major | subtype_format(path, opt.subtype, major);
  FM_CHECK(sf_format_check(&p.info), "audio.save: ", path, ": libsndfile cannot write subtype ", upper(opt.subtype),
           " in ", major == SF_FORMAT_WAV ? "WAV" : major == SF_FORMAT_FLAC ? "FLAC" : "OGG", " with ", channels,
           " channels at ", sample_rate, " Hz");
  FM_CHECK(major != SF_FORMAT_FLAC || (channels <= 8 && sample_rate <= 655350), "audio.save: ", path,
           ": FLAC holds at most 8 channels and 655350 Hz, got ", channels, " channels at ", sample_rate, " Hz");
  return p;
}

void write_samples(SNDFILE* sf, const Prepared& p, const SaveOptions& opt, const std::string& path) {
  sf_command(sf, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  if ((p.info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_VORBIS) {
    double q = std::clamp(opt.vorbis_quality, 0.0, 1.0);
    sf_command(sf, SFC_SET_VBR_ENCODING_QUALITY, &q, sizeof(q));
  }
  const int64_t channels = p.samples.size(0), frames = p.samples.size(1);
  const double* src = p.samples.data_ptr<double>();
  std::vector<double> buf(size_t(std::min(kChunkFrames, std::max<int64_t>(frames, 1)) * channels));
  for (int64_t t0 = 0; t0 < frames; t0 += kChunkFrames) {
    const int64_t n = std::min(kChunkFrames, frames - t0);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t c = 0; c < channels; ++c) buf[size_t(t * channels + c)] = src[c * frames + t0 + t];
    const sf_count_t w = sf_writef_double(sf, buf.data(), n);
    FM_CHECK(w == n, "audio.save: ", path, ": wrote ", t0 + w, " of ", frames, " frames: ", sf_strerror(sf));
  }
}

// An in-memory file libsndfile writes into (it seeks back to fill in header sizes).
struct VirtualWriter {
  std::vector<uint8_t> bytes;
  int64_t pos = 0;
};
sf_count_t vw_len(void* u) { return sf_count_t(static_cast<VirtualWriter*>(u)->bytes.size()); }
sf_count_t vw_seek(sf_count_t offset, int whence, void* u) {
  auto* v = static_cast<VirtualWriter*>(u);
  const int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? v->pos : int64_t(v->bytes.size());
  if (base + offset < 0) return -1;
  v->pos = base + offset;
  return v->pos;
}
sf_count_t vw_read(void* dst, sf_count_t n, void* u) {
  auto* v = static_cast<VirtualWriter*>(u);
  const int64_t k = std::max<int64_t>(0, std::min<int64_t>(n, int64_t(v->bytes.size()) - v->pos));
  if (k > 0) std::memcpy(dst, v->bytes.data() + v->pos, size_t(k));
  v->pos += k;
  return k;
}
sf_count_t vw_write(const void* src, sf_count_t n, void* u) {
  auto* v = static_cast<VirtualWriter*>(u);
  if (v->pos + n > int64_t(v->bytes.size())) v->bytes.resize(size_t(v->pos + n));
  std::memcpy(v->bytes.data() + v->pos, src, size_t(n));
  v->pos += n;
  return n;
}
sf_count_t vw_tell(void* u) { return static_cast<VirtualWriter*>(u)->pos; }

}  // namespace

AudioInfo info(const std::string& path) {
  FileSource f = open_file(path);
  OpenedSound o;
  open_sound(o, f.source, path);
  return make_info(o);
}

Audio load(const std::string& path, const LoadOptions& options) {
  FileSource f = open_file(path);
  OpenedSound o;
  open_sound(o, f.source, path);
  return read_window(o, options, path);
}

AudioInfo info_from_bytes(const uint8_t* data, size_t size, const std::string& name) {
  OpenedSound o;
  open_sound(o, memory_source(data, size), name);
  return make_info(o);
}

Audio load_from_bytes(const uint8_t* data, size_t size, const LoadOptions& options, const std::string& name) {
  OpenedSound o;
  open_sound(o, memory_source(data, size), name);
  return read_window(o, options, name);
}

void save(const std::string& path, const Tensor& samples, int64_t sample_rate, const SaveOptions& options) {
  Prepared p = prepare(path, samples, sample_rate, options);
  // The temporary file lies beside the target so that the rename stays on one file system.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  struct Remove {
    const std::string& p;
    bool armed = true;
    ~Remove() {
      if (armed) std::remove(p.c_str());
    }
  } guard{tmp};
  {
    std::unique_ptr<SNDFILE, SndCloser> sf(sf_open(tmp.c_str(), SFM_WRITE, &p.info));
    FM_CHECK(sf != nullptr, "audio.save: ", path, ": cannot create ", tmp, ": ", sf_strerror(nullptr));
    write_samples(sf.get(), p, options, path);
    FM_CHECK(sf_close(sf.release()) == 0, "audio.save: ", path, ": closing failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  FM_CHECK(!ec, "audio.save: ", path, ": cannot rename ", tmp, " to it: ", ec.message());
  guard.armed = false;
}

std::vector<uint8_t> save_to_bytes(const Tensor& samples, int64_t sample_rate, const SaveOptions& options) {
  FM_CHECK(!options.format.empty(), "audio.save_to_bytes: SaveOptions::format must be WAV, FLAC or OGG");
  Prepared p = prepare("<bytes>", samples, sample_rate, options);
  VirtualWriter w;
  SF_VIRTUAL_IO io{vw_len, vw_seek, vw_read, vw_write, vw_tell};
  {
    std::unique_ptr<SNDFILE, SndCloser> sf(sf_open_virtual(&io, SFM_WRITE, &p.info, &w));
    FM_CHECK(sf != nullptr, "audio.save_to_bytes: libsndfile cannot write: ", sf_strerror(nullptr));
    write_samples(sf.get(), p, options, "<bytes>");
  }
  return std::move(w.bytes);
}

}  // namespace fm::audio
