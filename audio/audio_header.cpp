#include "audio/audio_header.h"

#include <array>
#include <cstring>
#include <vector>

#include "tensor/error.h"

namespace fm::audio {

const char* container_name(AudioContainer c) {
  switch (c) {
    case AudioContainer::WAV: return "WAV";
    case AudioContainer::FLAC: return "FLAC";
    case AudioContainer::OGG: return "OGG";
  }
  return "?";
}

namespace {

uint32_t le16(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8; }
uint32_t le32(const uint8_t* p) { return le16(p) | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint32_t be24(const uint8_t* p) { return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | uint32_t(p[2]); }

// Reads exactly n bytes at offset or reports the file as truncated.
class Reader {
 public:
  Reader(const ByteSource& s, const std::string& name) : s_(s), name_(name) {}
  int64_t size() const { return s_.size; }
  template <size_t N>
  std::array<uint8_t, N> at(int64_t offset, const char* what) const {
    std::array<uint8_t, N> b{};
    read(offset, b.data(), N, what);
    return b;
  }
  void read(int64_t offset, uint8_t* dst, size_t n, const char* what) const {
    FM_CHECK(offset >= 0 && offset + int64_t(n) <= s_.size, "audio: ", name_, ": truncated: the ", what, " at byte ",
             offset, " needs ", n, " bytes, the file has ", s_.size);
    FM_CHECK(s_.read_at(offset, dst, n) == n, "audio: ", name_, ": could not read ", n, " bytes at byte ", offset);
  }

 private:
  const ByteSource& s_;
  const std::string& name_;
};

void check_rate_channels(int64_t channels, int64_t rate, const char* where, const std::string& name) {
  FM_CHECK(channels >= 1 && channels <= kMaxAudioChannels, "audio: ", name, ": ", where, " declares ", channels,
           " channels, expected 1..", kMaxAudioChannels);
  FM_CHECK(rate >= 1 && rate <= kMaxAudioSampleRate, "audio: ", name, ": ", where, " declares a sample rate of ",
           rate, " Hz, expected 1..", kMaxAudioSampleRate);
}

// RIFF/WAVE: every chunk inside the RIFF chunk and the file, one sane fmt chunk of a codec we
// allow (PCM, IEEE float, A-law, mu-law; plain or WAVE_FORMAT_EXTENSIBLE), then a data chunk.
AudioHeader check_wav(const Reader& r, const std::string& name) {
  const auto head = r.at<12>(0, "RIFF header");
  FM_CHECK(std::memcmp(head.data() + 8, "WAVE", 4) == 0, "audio: ", name,
           ": RIFF file of form '", std::string(reinterpret_cast<const char*>(head.data() + 8), 4),
           "', expected WAVE");
  int64_t riff_end = 8 + int64_t(le32(head.data() + 4));
  if (riff_end == r.size() + 1) riff_end = r.size();  // the pad byte after an odd last chunk is missing
  FM_CHECK(riff_end <= r.size(), "audio: ", name, ": truncated: the RIFF chunk declares ", riff_end - 8,
           " bytes, the file holds ", r.size() - 8, " after its header");
  AudioHeader h;
  h.container = AudioContainer::WAV;
  bool have_fmt = false, have_data = false;
  int64_t pos = 12, chunks = 0;
  while (pos + 8 <= riff_end && !have_data) {
    FM_CHECK(++chunks <= 4096, "audio: ", name, ": more than 4096 RIFF chunks before the data chunk");
    const auto ch = r.at<8>(pos, "chunk header");
    const std::string id(reinterpret_cast<const char*>(ch.data()), 4);
    const int64_t size = le32(ch.data() + 4);
    FM_CHECK(pos + 8 + size <= riff_end, "audio: ", name, ": truncated: chunk '", id, "' at byte ", pos,
             " declares ", size, " bytes, only ", riff_end - pos - 8, " remain in the RIFF chunk");
    if (id == "fmt ") {
      FM_CHECK(!have_fmt, "audio: ", name, ": two fmt chunks");
      FM_CHECK(size >= 16, "audio: ", name, ": fmt chunk of ", size, " bytes, expected at least 16");
      std::array<uint8_t, 40> f{};
      r.read(pos + 8, f.data(), size >= 40 ? 40 : 16, "fmt chunk");
      uint32_t tag = le16(f.data());
      const int64_t channels = le16(f.data() + 2), rate = le32(f.data() + 4);
      const int64_t block_align = le16(f.data() + 12), bits = le16(f.data() + 14);
      check_rate_channels(channels, rate, "fmt chunk", name);
      if (tag == 0xFFFE) {
        FM_CHECK(size >= 40, "audio: ", name, ": WAVE_FORMAT_EXTENSIBLE fmt chunk of ", size,
                 " bytes, expected at least 40");
        const int64_t valid_bits = le16(f.data() + 18);
        FM_CHECK(valid_bits <= bits, "audio: ", name, ": fmt chunk declares ", valid_bits,
                 " valid bits in a container of ", bits);
        tag = le16(f.data() + 24);  // the sub-format GUID starts with the format tag
      }
      const bool pcm = tag == 1, ieee = tag == 3, law = tag == 6 || tag == 7;
      FM_CHECK(pcm || ieee || law, "audio: ", name, ": WAV codec 0x", std::hex, tag, std::dec,
               " is not supported (PCM, IEEE float, A-law and mu-law are)");
      FM_CHECK((pcm && bits >= 8 && bits <= 32 && bits % 8 == 0) || (ieee && (bits == 32 || bits == 64)) ||
                   (law && bits == 8),
               "audio: ", name, ": fmt chunk declares ", bits, " bits per sample for codec 0x", std::hex, tag,
               std::dec, ", expected 8/16/24/32 for PCM, 32/64 for float, 8 for A-law/mu-law");
      FM_CHECK(block_align == channels * (bits / 8), "audio: ", name, ": fmt chunk declares a block align of ",
               block_align, " bytes, expected ", channels * (bits / 8), " (", channels, " channels of ", bits,
               " bits)");
      h.channels = channels;
      h.sample_rate = rate;
      have_fmt = true;
    } else if (id == "data") {
      FM_CHECK(have_fmt, "audio: ", name, ": data chunk before the fmt chunk");
      have_data = true;
    }
    pos += 8 + size + (size & 1);
  }
  FM_CHECK(have_fmt, "audio: ", name, ": WAV file without a fmt chunk");
  FM_CHECK(have_data, "audio: ", name, ": WAV file without a data chunk");
  return h;
}

// FLAC: "fLaC", STREAMINFO first, every metadata block within the file, then a frame sync code.
AudioHeader check_flac(const Reader& r, const std::string& name) {
  AudioHeader h;
  h.container = AudioContainer::FLAC;
  int64_t pos = 4, blocks = 0;
  uint64_t total_samples = 0;
  for (bool last = false; !last;) {
    FM_CHECK(++blocks <= 4096, "audio: ", name, ": more than 4096 FLAC metadata blocks");
    const auto bh = r.at<4>(pos, "FLAC metadata block header");
    last = (bh[0] & 0x80) != 0;
    const int type = bh[0] & 0x7F;
    const int64_t length = be24(bh.data() + 1);
    FM_CHECK(type != 127, "audio: ", name, ": FLAC metadata block of invalid type 127 at byte ", pos);
    FM_CHECK(pos + 4 + length <= r.size(), "audio: ", name, ": truncated: FLAC metadata block at byte ", pos,
             " declares ", length, " bytes, only ", r.size() - pos - 4, " remain");
    if (blocks == 1) {
      FM_CHECK(type == 0 && length == 34, "audio: ", name,
               ": the first FLAC metadata block must be a STREAMINFO of 34 bytes, found type ", type, " of ",
               length, " bytes");
      const auto si = r.at<34>(pos + 4, "STREAMINFO");
      const int64_t min_block = le16(std::array<uint8_t, 2>{si[1], si[0]}.data());
      const int64_t max_block = le16(std::array<uint8_t, 2>{si[3], si[2]}.data());
      const int64_t rate = int64_t(si[10]) << 12 | int64_t(si[11]) << 4 | si[12] >> 4;
      const int64_t channels = ((si[12] >> 1) & 7) + 1;
      const int64_t bits = ((si[12] & 1) << 4 | si[13] >> 4) + 1;
      total_samples = uint64_t(si[13] & 0x0F) << 32 | uint64_t(si[14]) << 24 | uint64_t(si[15]) << 16 |
                      uint64_t(si[16]) << 8 | si[17];
      FM_CHECK(min_block >= 16 && max_block >= min_block, "audio: ", name, ": STREAMINFO block sizes ", min_block,
               "..", max_block, ", expected 16 <= min <= max");
      FM_CHECK(bits >= 4, "audio: ", name, ": STREAMINFO declares ", bits, " bits per sample, expected 4..32");
      check_rate_channels(channels, rate, "STREAMINFO", name);
      FM_CHECK(rate <= 655350, "audio: ", name, ": STREAMINFO sample rate ", rate, " Hz, FLAC allows up to 655350");
      h.channels = channels;
      h.sample_rate = rate;
    } else {
      FM_CHECK(type != 0, "audio: ", name, ": a second STREAMINFO block at byte ", pos);
    }
    pos += 4 + length;
  }
  if (total_samples > 0 || pos < r.size()) {
    const auto sync = r.at<2>(pos, "first FLAC frame");
    FM_CHECK(sync[0] == 0xFF && (sync[1] & 0xFE) == 0xF8, "audio: ", name,
             ": no FLAC frame sync code after the metadata, at byte ", pos);
  }
  return h;
}

// OGG: every page starts with "OggS", is version 0 and lies within the file; the first page
// begins a Vorbis stream with a sane identification header.
AudioHeader check_ogg(const Reader& r, const std::string& name) {
  AudioHeader h;
  h.container = AudioContainer::OGG;
  std::vector<uint8_t> body;
  for (int64_t pos = 0, page = 0; pos < r.size(); ++page) {
    const auto ph = r.at<27>(pos, "OGG page header");
    FM_CHECK(std::memcmp(ph.data(), "OggS", 4) == 0, "audio: ", name, ": OGG page ", page, " at byte ", pos,
             " does not start with OggS");
    FM_CHECK(ph[4] == 0, "audio: ", name, ": OGG page ", page, " of version ", int(ph[4]), ", expected 0");
    FM_CHECK(ph[5] <= 7, "audio: ", name, ": OGG page ", page, " has unknown header flags ", int(ph[5]));
    const int nseg = ph[26];
    std::array<uint8_t, 255> lacing{};
    r.read(pos + 27, lacing.data(), size_t(nseg), "OGG segment table");
    int64_t body_size = 0;
    for (int i = 0; i < nseg; ++i) body_size += lacing[size_t(i)];
    const int64_t body_at = pos + 27 + nseg;
    FM_CHECK(body_at + body_size <= r.size(), "audio: ", name, ": truncated: OGG page ", page, " at byte ", pos,
             " declares ", body_size, " bytes, only ", r.size() - body_at, " remain");
    if (page == 0) {
      FM_CHECK(ph[5] & 0x02, "audio: ", name, ": the first OGG page does not begin a stream");
      FM_CHECK(nseg >= 1 && lacing[0] >= 30, "audio: ", name,
               ": the first OGG packet is too short for a Vorbis identification header");
      body.resize(30);
      r.read(body_at, body.data(), 30, "Vorbis identification header");
      FM_CHECK(body[0] == 1 && std::memcmp(body.data() + 1, "vorbis", 6) == 0, "audio: ", name,
               ": the OGG stream is not Vorbis (only OGG/Vorbis is supported)");
      FM_CHECK(le32(body.data() + 7) == 0, "audio: ", name, ": Vorbis version ", le32(body.data() + 7),
               ", expected 0");
      check_rate_channels(body[11], le32(body.data() + 12), "Vorbis identification header", name);
      const int bs0 = body[28] & 0x0F, bs1 = body[28] >> 4;
      FM_CHECK(bs0 >= 6 && bs0 <= bs1 && bs1 <= 13 && (body[29] & 1), "audio: ", name,
               ": Vorbis identification header has block sizes 2^", bs0, "/2^", bs1,
               " or no framing bit, expected 6 <= b0 <= b1 <= 13");
      h.channels = body[11];
      h.sample_rate = le32(body.data() + 12);
    }
    pos = body_at + body_size;
  }
  return h;
}

}  // namespace

AudioHeader check_audio_header(const ByteSource& source, const std::string& name) {
  const Reader r(source, name);
  FM_CHECK(source.size >= 12, "audio: ", name, ": ", source.size == 0 ? "empty file" : "truncated: only ",
           source.size == 0 ? "" : std::to_string(source.size) + " bytes, too short for a sound file");
  const auto magic = r.at<4>(0, "magic");
  if (std::memcmp(magic.data(), "RIFF", 4) == 0) return check_wav(r, name);
  if (std::memcmp(magic.data(), "fLaC", 4) == 0) return check_flac(r, name);
  if (std::memcmp(magic.data(), "OggS", 4) == 0) return check_ogg(r, name);
  fail("audio: ", name, ": not a WAV, FLAC or OGG file (it starts with bytes ", int(magic[0]), " ", int(magic[1]),
       " ", int(magic[2]), " ", int(magic[3]), "; expected RIFF....WAVE, fLaC or OggS)");
}

AudioHeader check_audio_header(const uint8_t* data, size_t size, const std::string& name) {
  ByteSource s;
  s.size = int64_t(size);
  s.read_at = [data, size](int64_t offset, void* dst, size_t n) -> size_t {
    if (offset < 0 || size_t(offset) >= size) return 0;
    const size_t k = std::min(n, size - size_t(offset));
    std::memcpy(dst, data + offset, k);
    return k;
  };
  return check_audio_header(s, name);
}

}  // namespace fm::audio
