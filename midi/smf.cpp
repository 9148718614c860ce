#include "midi/smf.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

#include "tensor/error.h"

namespace fm::midi {

const char* to_string(EventKind kind) {
  switch (kind) {
    case EventKind::NoteOff: return "note_off";
    case EventKind::NoteOn: return "note_on";
    case EventKind::PolyAftertouch: return "poly_aftertouch";
    case EventKind::ControlChange: return "control_change";
    case EventKind::ProgramChange: return "program_change";
    case EventKind::ChannelAftertouch: return "channel_aftertouch";
    case EventKind::PitchBend: return "pitch_bend";
    case EventKind::Tempo: return "tempo";
    case EventKind::TimeSignature: return "time_signature";
    case EventKind::KeySignature: return "key_signature";
    case EventKind::TrackName: return "track_name";
    case EventKind::EndOfTrack: return "end_of_track";
  }
  return "?";
}

// ---------------------------------------------------------------- constructors

namespace {
void check7(int v, const char* what) { FM_CHECK(v >= 0 && v <= 127, "midi: ", what, " ", v, " outside 0..127"); }
void check_channel(int c) { FM_CHECK(c >= 0 && c <= 15, "midi: channel ", c, " outside 0..15"); }
void check_tick(int64_t t) { FM_CHECK(t >= 0, "midi: negative tick ", t); }
Event channel_event(int64_t tick, EventKind kind, int channel, int d1, int d2) {
  check_tick(tick);
  check_channel(channel);
  Event e;
  e.tick = tick;
  e.kind = kind;
  e.channel = static_cast<uint8_t>(channel);
  e.data1 = static_cast<uint8_t>(d1);
  e.data2 = static_cast<uint8_t>(d2);
  return e;
}
}  // namespace

Event note_on(int64_t tick, int channel, int pitch, int velocity) {
  check7(pitch, "pitch");
  FM_CHECK(velocity >= 1 && velocity <= 127, "midi: note_on velocity ", velocity, " outside 1..127");
  return channel_event(tick, EventKind::NoteOn, channel, pitch, velocity);
}
Event note_off(int64_t tick, int channel, int pitch, int velocity) {
  check7(pitch, "pitch");
  check7(velocity, "velocity");
  return channel_event(tick, EventKind::NoteOff, channel, pitch, velocity);
}
Event control_change(int64_t tick, int channel, int controller, int value) {
  check7(controller, "controller");
  check7(value, "value");
  return channel_event(tick, EventKind::ControlChange, channel, controller, value);
}
Event program_change(int64_t tick, int channel, int program) {
  check7(program, "program");
  return channel_event(tick, EventKind::ProgramChange, channel, program, 0);
}
Event pitch_bend(int64_t tick, int channel, int value) {
  FM_CHECK(value >= -8192 && value <= 8191, "midi: pitch bend ", value, " outside -8192..8191");
  Event e = channel_event(tick, EventKind::PitchBend, channel, 0, 0);
  e.value = value;
  return e;
}
Event tempo(int64_t tick, int us) {
  check_tick(tick);
  FM_CHECK(us > 0 && us <= 0xFFFFFF, "midi: tempo ", us, " us/quarter outside 1..16777215");
  Event e;
  e.tick = tick;
  e.kind = EventKind::Tempo;
  e.value = us;
  return e;
}
Event tempo_bpm(int64_t tick, double bpm) {
  FM_CHECK(bpm > 0 && std::isfinite(bpm), "midi: tempo_bpm: bpm must be positive, got ", bpm);
  return tempo(tick, static_cast<int>(std::lround(60e6 / bpm)));
}
Event time_signature(int64_t tick, int num, int den_log2, int clocks, int n32) {
  check_tick(tick);
  FM_CHECK(num >= 1 && num <= 255 && den_log2 >= 0 && den_log2 <= 255 && clocks >= 0 && clocks <= 255 &&
               n32 >= 0 && n32 <= 255,
           "midi: time_signature fields must be bytes");
  Event e;
  e.tick = tick;
  e.kind = EventKind::TimeSignature;
  e.data1 = static_cast<uint8_t>(num);
  e.data2 = static_cast<uint8_t>(den_log2);
  e.data3 = static_cast<uint8_t>(clocks);
  e.data4 = static_cast<uint8_t>(n32);
  return e;
}
Event key_signature(int64_t tick, int sharps, bool minor) {
  check_tick(tick);
  FM_CHECK(sharps >= -7 && sharps <= 7, "midi: key_signature sharps ", sharps, " outside -7..7");
  Event e;
  e.tick = tick;
  e.kind = EventKind::KeySignature;
  e.value = sharps;
  e.data1 = minor ? 1 : 0;
  return e;
}
Event track_name(int64_t tick, const std::string& name) {
  check_tick(tick);
  Event e;
  e.tick = tick;
  e.kind = EventKind::TrackName;
  e.text = name;
  return e;
}
Event end_of_track(int64_t tick) {
  check_tick(tick);
  Event e;
  e.tick = tick;
  e.kind = EventKind::EndOfTrack;
  return e;
}

std::string track_name(const Track& track) {
  for (const auto& e : track.events)
    if (e.kind == EventKind::TrackName) return e.text;
  return "";
}

// ---------------------------------------------------------------- reader

namespace {

std::string hex(unsigned v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::uppercase << v;
  return os.str();
}

// A bounded cursor over the file. `end` is the end of the current chunk (or of the file);
// every read checks the bytes left before it touches them.
struct Cursor {
  const uint8_t* data;
  size_t size;
  const std::string& source;
  size_t pos = 0;
  size_t end = 0;
  int track = -1;  // -1: header / chunk framing

  template <class... A>
  [[noreturn]] void error(size_t at, const A&... parts) const {
    if (track < 0)
      fail("midi: ", source, ": header, byte ", at, ": ", parts...);
    else
      fail("midi: ", source, ": track ", track, ", byte ", at, ": ", parts...);
  }
  size_t left() const { return end - pos; }
  void need(size_t n, const char* what) const {
    if (left() < n)
      error(pos, "expected ", what, " (", n, " byte", n == 1 ? "" : "s", ") but only ", left(),
            " byte", left() == 1 ? "" : "s", track < 0 ? " remain in the file" : " remain in the track");
  }
  uint8_t u8(const char* what) {
    need(1, what);
    return data[pos++];
  }
  uint32_t be16(const char* what) {
    need(2, what);
    uint32_t v = (uint32_t(data[pos]) << 8) | data[pos + 1];
    pos += 2;
    return v;
  }
  uint32_t be32(const char* what) {
    need(4, what);
    uint32_t v = (uint32_t(data[pos]) << 24) | (uint32_t(data[pos + 1]) << 16) | (uint32_t(data[pos + 2]) << 8) |
                 data[pos + 3];
    pos += 4;
    return v;
  }
  // A variable-length quantity: 7 bits a byte, most significant first, at most 4 bytes.
  uint32_t vlq(const char* what) {
    const size_t start = pos;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      if (left() < 1)
        error(pos, "expected ", what, " (a variable-length quantity) but the track ends after ", i, " of its bytes");
      const uint8_t b = data[pos++];
      v = (v << 7) | (b & 0x7F);
      if (!(b & 0x80)) return v;
    }
    error(start, "expected ", what, " (a variable-length quantity of at most 4 bytes) but it is longer than 4 bytes");
  }
  uint8_t data_byte(const char* what) {
    const size_t at = pos;
    const uint8_t b = u8(what);
    if (b & 0x80) error(at, "expected ", what, " (a data byte < 0x80), got ", hex(b));
    return b;
  }
};

void parse_track(Cursor& c, Track& track) {
  int64_t tick = 0;
  int running = -1;  // running status, -1: none yet
  while (c.pos < c.end) {
    const uint32_t delta = c.vlq("a delta time");
    tick += delta;
    const size_t at = c.pos;
    uint8_t status = c.u8("a status byte");
    bool have_first = false;
    uint8_t first = 0;
    if (status < 0x80) {
      if (running < 0) c.error(at, "data byte ", hex(status), " with running status but there is no previous status byte");
      first = status;
      have_first = true;
      status = static_cast<uint8_t>(running);
    }
    if (status < 0xF0) {
      running = status;
      const uint8_t hi = status & 0xF0;
      Event e;
      e.tick = tick;
      e.channel = status & 0x0F;
      auto d = [&](const char* what) -> uint8_t {
        if (have_first) {
          have_first = false;
          return first;
        }
        return c.data_byte(what);
      };
      switch (hi) {
        case 0x80: e.kind = EventKind::NoteOff; e.data1 = d("a note-off pitch"); e.data2 = d("a note-off velocity"); break;
        case 0x90:
          e.kind = EventKind::NoteOn;
          e.data1 = d("a note-on pitch");
          e.data2 = d("a note-on velocity");
          if (e.data2 == 0) e.kind = EventKind::NoteOff;  // note-on with velocity 0 is a note-off
          break;
        case 0xA0: e.kind = EventKind::PolyAftertouch; e.data1 = d("an aftertouch pitch"); e.data2 = d("an aftertouch pressure"); break;
        case 0xB0: e.kind = EventKind::ControlChange; e.data1 = d("a controller number"); e.data2 = d("a controller value"); break;
        case 0xC0: e.kind = EventKind::ProgramChange; e.data1 = d("a program number"); break;
        case 0xD0: e.kind = EventKind::ChannelAftertouch; e.data1 = d("a channel pressure"); break;
        default: {  // 0xE0
          e.kind = EventKind::PitchBend;
          const uint8_t lsb = d("a pitch-bend LSB");
          const uint8_t msb = d("a pitch-bend MSB");
          e.value = ((int32_t(msb) << 7) | lsb) - 8192;
        }
      }
      track.events.push_back(std::move(e));
    } else if (status == 0xF0 || status == 0xF7) {
      const uint32_t len = c.vlq("a SysEx length");
      if (len > c.left())
        c.error(c.pos, "SysEx of length ", len, " but only ", c.left(), " bytes remain in the track");
      c.pos += len;  // skipped
    } else if (status == 0xFF) {
      const uint8_t type = c.u8("a meta event type");
      const uint32_t len = c.vlq("a meta event length");
      const size_t body = c.pos;
      if (len > c.left())
        c.error(body, "meta event ", hex(type), " of length ", len, " but only ", c.left(), " bytes remain in the track");
      const uint8_t* p = c.data + body;
      auto want_len = [&](uint32_t n, const char* name) {
        if (len != n) c.error(body, name, " meta event of length ", len, " (expected ", n, ")");
      };
      Event e;
      e.tick = tick;
      bool keep = true;
      switch (type) {
        case 0x51:
          want_len(3, "tempo");
          e.kind = EventKind::Tempo;
          e.value = (int32_t(p[0]) << 16) | (int32_t(p[1]) << 8) | p[2];
          break;
        case 0x58:
          want_len(4, "time signature");
          e.kind = EventKind::TimeSignature;
          e.data1 = p[0];
          e.data2 = p[1];
          e.data3 = p[2];
          e.data4 = p[3];
          break;
        case 0x59:
          want_len(2, "key signature");
          e.kind = EventKind::KeySignature;
          e.value = static_cast<int8_t>(p[0]);
          e.data1 = p[1];
          break;
        case 0x03:
          e.kind = EventKind::TrackName;
          e.text.assign(reinterpret_cast<const char*>(p), len);
          break;
        case 0x2F:
          want_len(0, "end of track");
          e.kind = EventKind::EndOfTrack;
          break;
        default: keep = false;  // other meta events are skipped
      }
      c.pos += len;
      if (keep) {
        const bool eot = e.kind == EventKind::EndOfTrack;
        track.events.push_back(std::move(e));
        if (eot) return;  // anything after end-of-track in the chunk is ignored
      }
    } else {
      c.error(at, "unexpected status byte ", hex(status), " (system messages other than SysEx do not belong in a file)");
    }
  }
}

}  // namespace

File read_smf_from_bytes(const uint8_t* data, size_t size, const std::string& source) {
  if (data == nullptr) size = 0;
  Cursor c{data, size, source};
  c.end = size;
  File f;
  if (size < 4 || std::string(reinterpret_cast<const char*>(data), 4) != "MThd") {
    if (size < 4) c.need(4, "the \"MThd\" header magic");
    c.error(0, "expected the \"MThd\" header magic, got \"", std::string(reinterpret_cast<const char*>(data), 4),
            "\" (not a Standard MIDI File)");
  }
  c.pos = 4;
  const uint32_t hlen = c.be32("the header length");
  if (hlen < 6) c.error(4, "header length ", hlen, " (expected at least 6)");
  if (hlen > c.left()) c.error(8, "header length ", hlen, " but only ", c.left(), " bytes remain in the file");
  const size_t header_end = c.pos + hlen;
  const uint32_t format = c.be16("the format");
  const uint32_t ntracks = c.be16("the track count");
  const uint32_t division = c.be16("the time division");
  if (format == 2) c.error(8, "format 2 (independent sequences) is not supported; expected format 0 or 1");
  if (format > 2) c.error(8, "format ", format, " is not a Standard MIDI File format; expected 0 or 1");
  if (ntracks == 0) c.error(10, "the file declares 0 tracks (expected at least 1)");
  if (format == 0 && ntracks != 1) c.error(10, "a format-0 file declares ", ntracks, " tracks (expected exactly 1)");
  if (division & 0x8000) c.error(12, "SMPTE time division ", hex(division), " is not supported (expected ticks per quarter note)");
  if (division == 0) c.error(12, "time division of 0 ticks per quarter note (expected at least 1)");
  f.format = static_cast<int>(format);
  f.ticks_per_quarter = static_cast<int>(division);
  c.pos = header_end;  // a longer header's extra bytes are skipped

  while (f.tracks.size() < ntracks) {
    if (c.left() == 0)
      c.error(c.pos, "expected ", ntracks, " tracks but the file ends after ", f.tracks.size());
    const size_t chunk_at = c.pos;
    c.need(8, "a chunk header (4-byte id and 4-byte length)");
    const std::string id(reinterpret_cast<const char*>(data + c.pos), 4);
    c.pos += 4;
    const uint32_t len = c.be32("a chunk length");
    if (len > c.left()) {
      if (id == "MTrk") c.track = static_cast<int>(f.tracks.size());
      c.error(chunk_at + 4, "chunk \"", id, "\" of length ", len, " but only ", c.left(), " bytes remain in the file");
    }
    if (id != "MTrk") {  // unknown chunk: skipped
      c.pos += len;
      continue;
    }
    c.track = static_cast<int>(f.tracks.size());
    const size_t file_end = c.end;
    c.end = c.pos + len;
    Track t;
    parse_track(c, t);
    // A track without an end-of-track event gets one at its last tick, so that every track read
    // ends with one (and writing it back reads back the same).
    if (t.events.empty() || t.events.back().kind != EventKind::EndOfTrack)
      t.events.push_back(end_of_track(t.events.empty() ? 0 : t.events.back().tick));
    c.pos = c.end;
    c.end = file_end;
    c.track = -1;
    f.tracks.push_back(std::move(t));
  }
  return f;
}

File read_smf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FM_CHECK(in, "midi: ", path, ": cannot open for reading");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  FM_CHECK(!in.bad(), "midi: ", path, ": read error");
  return read_smf_from_bytes(bytes.data(), bytes.size(), path);
}

// ---------------------------------------------------------------- writer

namespace {

constexpr uint64_t kMaxVlq = 0x0FFFFFFF;

void put_vlq(std::vector<uint8_t>& out, uint64_t v) {
  FM_CHECK(v <= kMaxVlq, "midi: write: delta time ", v, " exceeds the 4-byte variable-length limit 268435455");
  uint8_t buf[4];
  int n = 0;
  buf[n++] = v & 0x7F;
  while (v >>= 7) buf[n++] = static_cast<uint8_t>((v & 0x7F) | 0x80);
  while (n) out.push_back(buf[--n]);
}
void put_be(std::vector<uint8_t>& out, uint32_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void write_track(std::vector<uint8_t>& out, const Track& t, size_t index) {
  std::vector<uint8_t> body;
  int64_t prev = 0;
  int running = -1;
  bool ended = false;
  for (size_t i = 0; i < t.events.size(); ++i) {
    const Event& e = t.events[i];
    FM_CHECK(!ended, "midi: write: track ", index, " has events after its end_of_track (event ", i, ")");
    FM_CHECK(e.tick >= prev, "midi: write: track ", index, " event ", i, " at tick ", e.tick,
             " comes before the previous event's tick ", prev);
    uint64_t delta = static_cast<uint64_t>(e.tick - prev);
    // A delta beyond the 4-byte limit (the reader can produce one when it skips SysEx or unknown
    // meta events in between) is split with empty text meta events, which readers skip.
    while (delta > kMaxVlq) {
      put_vlq(body, kMaxVlq);
      body.insert(body.end(), {0xFF, 0x01, 0x00});
      running = -1;
      delta -= kMaxVlq;
    }
    put_vlq(body, delta);
    prev = e.tick;
    if (e.is_channel_message()) {
      FM_CHECK(e.channel <= 15, "midi: write: channel ", int(e.channel), " outside 0..15");
      static constexpr uint8_t kHi[] = {0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0, 0xE0};
      const uint8_t status = kHi[static_cast<int>(e.kind)] | e.channel;
      if (status != running) body.push_back(status);
      running = status;
      if (e.kind == EventKind::PitchBend) {
        FM_CHECK(e.value >= -8192 && e.value <= 8191, "midi: write: pitch bend ", e.value, " outside -8192..8191");
        const uint32_t v = static_cast<uint32_t>(e.value + 8192);
        body.push_back(v & 0x7F);
        body.push_back((v >> 7) & 0x7F);
      } else {
        FM_CHECK(e.data1 <= 127 && e.data2 <= 127, "midi: write: ", to_string(e.kind), " data bytes must be < 128");
        if (e.kind == EventKind::NoteOn)
          FM_CHECK(e.data2 > 0, "midi: write: note_on with velocity 0 (use note_off)");
        body.push_back(e.data1);
        if (e.kind != EventKind::ProgramChange && e.kind != EventKind::ChannelAftertouch) body.push_back(e.data2);
      }
      continue;
    }
    body.push_back(0xFF);
    running = -1;  // strict readers cancel running status at meta events: never rely on it there
    switch (e.kind) {
      case EventKind::Tempo:
        FM_CHECK(e.value >= 0 && e.value <= 0xFFFFFF, "midi: write: tempo ", e.value, " outside 0..16777215");
        body.push_back(0x51);
        body.push_back(3);
        put_be(body, static_cast<uint32_t>(e.value), 3);
        break;
      case EventKind::TimeSignature:
        body.insert(body.end(), {0x58, 4, e.data1, e.data2, e.data3, e.data4});
        break;
      case EventKind::KeySignature:
        FM_CHECK(e.value >= -128 && e.value <= 127, "midi: write: key signature ", e.value, " outside -128..127");
        body.insert(body.end(), {0x59, 2, static_cast<uint8_t>(static_cast<int8_t>(e.value)), e.data1});
        break;
      case EventKind::TrackName:
        body.push_back(0x03);
        put_vlq(body, e.text.size());
        body.insert(body.end(), e.text.begin(), e.text.end());
        break;
      case EventKind::EndOfTrack:
        body.insert(body.end(), {0x2F, 0});
        ended = true;
        break;
      default: fail("midi: write: unknown event kind");
    }
  }
  if (!ended) {
    put_vlq(body, 0);
    body.insert(body.end(), {0xFF, 0x2F, 0});
  }
  FM_CHECK(body.size() <= 0xFFFFFFFFull, "midi: write: track ", index, " exceeds 4 GiB");
  out.insert(out.end(), {'M', 'T', 'r', 'k'});
  put_be(out, static_cast<uint32_t>(body.size()), 4);
  out.insert(out.end(), body.begin(), body.end());
}

}  // namespace

std::vector<uint8_t> write_smf_to_bytes(const File& f) {
  FM_CHECK(f.format == 0 || f.format == 1, "midi: write: format ", f.format, " (expected 0 or 1)");
  FM_CHECK(!f.tracks.empty(), "midi: write: a file needs at least one track");
  FM_CHECK(f.format != 0 || f.tracks.size() == 1, "midi: write: a format-0 file needs exactly 1 track, got ",
           f.tracks.size());
  FM_CHECK(f.tracks.size() <= 0xFFFF, "midi: write: too many tracks (", f.tracks.size(), ")");
  FM_CHECK(f.ticks_per_quarter >= 1 && f.ticks_per_quarter <= 0x7FFF, "midi: write: ticks_per_quarter ",
           f.ticks_per_quarter, " outside 1..32767");
  std::vector<uint8_t> out{'M', 'T', 'h', 'd', 0, 0, 0, 6};
  put_be(out, static_cast<uint32_t>(f.format), 2);
  put_be(out, static_cast<uint32_t>(f.tracks.size()), 2);
  put_be(out, static_cast<uint32_t>(f.ticks_per_quarter), 2);
  for (size_t i = 0; i < f.tracks.size(); ++i) write_track(out, f.tracks[i], i);
  return out;
}

void write_smf(const File& file, const std::string& path) {
  const auto bytes = write_smf_to_bytes(file);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  FM_CHECK(out, "midi: ", path, ": cannot open for writing");
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  FM_CHECK(out, "midi: ", path, ": write error");
}

// ---------------------------------------------------------------- tempo map

TempoMap::TempoMap(const File& file) : tpq_(file.ticks_per_quarter) {
  FM_CHECK(tpq_ >= 1, "midi: TempoMap: ticks_per_quarter must be >= 1, got ", tpq_);
  std::vector<std::pair<int64_t, int>> tempos;
  for (const auto& t : file.tracks)
    for (const auto& e : t.events)
      if (e.kind == EventKind::Tempo) tempos.emplace_back(e.tick, e.value);
  build(std::move(tempos));
}

TempoMap::TempoMap(int tpq, std::vector<std::pair<int64_t, int>> tempos) : tpq_(tpq) {
  FM_CHECK(tpq_ >= 1, "midi: TempoMap: ticks_per_quarter must be >= 1, got ", tpq_);
  build(std::move(tempos));
}

void TempoMap::build(std::vector<std::pair<int64_t, int>> tempos) {
  // Stable: of several tempi at one tick, the one that comes last (track order, then event order) wins.
  std::stable_sort(tempos.begin(), tempos.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  segments_.push_back({0, 0.0, kDefaultTempo});
  for (const auto& [tick, us] : tempos) {
    Segment& last = segments_.back();
    if (tick == last.tick) {
      last.us_per_quarter = us;
      continue;
    }
    const double s = last.seconds + double(tick - last.tick) * last.us_per_quarter * 1e-6 / tpq_;
    segments_.push_back({tick, s, us});
  }
}

double TempoMap::seconds(int64_t tick) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), tick,
                             [](int64_t t, const Segment& s) { return t < s.tick; });
  const Segment& s = it == segments_.begin() ? segments_.front() : *(it - 1);
  return s.seconds + double(tick - s.tick) * s.us_per_quarter * 1e-6 / tpq_;
}

int64_t TempoMap::ticks(double seconds) const {
  FM_CHECK(std::isfinite(seconds), "midi: TempoMap::ticks: seconds must be finite");
  if (seconds <= 0) return 0;
  auto it = std::upper_bound(segments_.begin(), segments_.end(), seconds,
                             [](double t, const Segment& s) { return t < s.seconds; });
  // Several segments can start at the same second when a tempo is 0; take the last such.
  const Segment& s = *(it - 1);
  if (s.us_per_quarter == 0) return s.tick;
  return s.tick + static_cast<int64_t>(std::llround((seconds - s.seconds) * 1e6 * tpq_ / s.us_per_quarter));
}

}  // namespace fm::midi
