#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "midi/notes.h"
#include "midi/smf.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using namespace fm::midi;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes header(int format, int ntracks, int division) {
  return {'M', 'T', 'h', 'd', 0, 0, 0, 6, uint8_t(format >> 8), uint8_t(format), uint8_t(ntracks >> 8),
          uint8_t(ntracks), uint8_t(division >> 8), uint8_t(division)};
}
Bytes mtrk(const Bytes& body) {
  // Built byte by byte: GCC 12's -Wstringop-overread misfires on vector range inserts here.
  Bytes out;
  out.reserve(body.size() + 8);
  for (char c : std::string("MTrk")) out.push_back(static_cast<uint8_t>(c));
  const uint32_t n = static_cast<uint32_t>(body.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(n >> shift));
  for (uint8_t b : body) out.push_back(b);
  return out;
}
Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
File parse(const Bytes& b) { return read_smf_from_bytes(b.data(), b.size()); }

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

File sample_file() {
  File f;
  f.format = 1;
  f.ticks_per_quarter = 384;
  Track t0;
  t0.events = {track_name(0, "conductor"), time_signature(0, 6, 3), key_signature(0, -3, true),
               tempo_bpm(0, 100), tempo(1536, 400000), end_of_track(3000)};
  Track t1;
  t1.events = {track_name(0, "piano"),
               program_change(0, 0, 5),
               control_change(0, 0, 64, 127),
               note_on(0, 0, 60, 90),
               note_on(0, 0, 64, 80),
               pitch_bend(100, 0, -8192),
               pitch_bend(101, 0, 8191),
               note_off(384, 0, 60, 40),
               note_off(384, 0, 64),
               note_on(384, 3, 67, 1),
               note_off(200000, 3, 67)};
  Event at;
  at.tick = 200000;
  at.kind = EventKind::PolyAftertouch;
  at.channel = 3;
  at.data1 = 67;
  at.data2 = 12;
  t1.events.push_back(at);
  at.kind = EventKind::ChannelAftertouch;
  at.data2 = 0;
  t1.events.push_back(at);
  t1.events.push_back(end_of_track(200000));
  f.tracks = {t0, t1};
  return f;
}

}  // namespace

TEST(Smf, WriteReadRoundTripIsIdentical) {
  const File f = sample_file();
  const Bytes bytes = write_smf_to_bytes(f);
  const File back = parse(bytes);
  EXPECT_EQ(back, f);
  EXPECT_EQ(track_name(back.tracks[1]), "piano");
  // Writing what was read gives the same bytes.
  EXPECT_EQ(write_smf_to_bytes(back), bytes);
}

TEST(Smf, WriterAppendsEndOfTrackAndFileRoundTripsOnDisk) {
  File f;
  f.format = 0;
  f.ticks_per_quarter = 96;
  f.tracks.resize(1);
  f.tracks[0].events = {note_on(0, 0, 60, 100), note_off(96, 0, 60)};
  const auto path = fs::temp_directory_path() / "fermata_smf_roundtrip.mid";
  write_smf(f, path.string());
  const File back = read_smf(path.string());
  fs::remove(path);
  ASSERT_EQ(back.tracks.size(), 1u);
  ASSERT_EQ(back.tracks[0].events.size(), 3u);
  EXPECT_EQ(back.tracks[0].events.back(), end_of_track(96));
  EXPECT_EQ(back.format, 0);
}

TEST(Smf, WriterRejectsWhatItCannotWrite) {
  File f;
  f.tracks.resize(1);
  f.tracks[0].events = {note_on(10, 0, 60, 100), note_off(5, 0, 60)};
  EXPECT_THROW_MSG(write_smf_to_bytes(f), "comes before the previous event");
  f.tracks[0].events = {end_of_track(0), note_on(10, 0, 60, 100)};
  EXPECT_THROW_MSG(write_smf_to_bytes(f), "after its end_of_track");
  f.format = 0;
  f.tracks.resize(2);
  EXPECT_THROW_MSG(write_smf_to_bytes(f), "format-0 file needs exactly 1 track");
  f.format = 2;
  EXPECT_THROW_MSG(write_smf_to_bytes(f), "format 2");
  EXPECT_THROW_MSG(note_on(0, 16, 60, 100), "channel 16");
  EXPECT_THROW_MSG(note_on(0, 0, 128, 100), "pitch 128");
}

TEST(Smf, RunningStatusAndNoteOnVelocityZero) {
  // 90 3C 40 | (running) 3C 00 | (running) 3E 50 | 80 3E 00 | EOT
  const Bytes body{0x00, 0x90, 0x3C, 0x40, 0x60, 0x3C, 0x00, 0x00, 0x3E, 0x50, 0x60, 0x80, 0x3E, 0x00,
                   0x00, 0xFF, 0x2F, 0x00};
  const File f = parse(cat(header(0, 1, 96), mtrk(body)));
  ASSERT_EQ(f.tracks.size(), 1u);
  const auto& ev = f.tracks[0].events;
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0], note_on(0, 0, 60, 64));
  EXPECT_EQ(ev[1], note_off(96, 0, 60, 0));  // note-on velocity 0 is a note-off
  EXPECT_EQ(ev[2], note_on(96, 0, 62, 80));
  EXPECT_EQ(ev[3], note_off(192, 0, 62, 0));
  EXPECT_EQ(ev[4].kind, EventKind::EndOfTrack);
  // Running status survives meta events in between (as most readers allow).
  const Bytes body2{0x00, 0x91, 0x3C, 0x40, 0x00, 0xFF, 0x01, 0x01, 'x', 0x10, 0x3C, 0x00};
  const File g = parse(cat(header(0, 1, 96), mtrk(body2)));
  ASSERT_EQ(g.tracks[0].events.size(), 3u);
  EXPECT_EQ(g.tracks[0].events[1], note_off(16, 1, 60, 0));
  EXPECT_EQ(g.tracks[0].events[2], end_of_track(16));  // added: the chunk ended without one
}

TEST(Smf, UnknownChunksSysexAndUnknownMetaAreSkipped) {
  Bytes bytes = header(1, 1, 96);
  bytes = cat(bytes, Bytes{'J', 'U', 'N', 'K', 0, 0, 0, 2, 0xAA, 0xBB});
  const Bytes body{0x00, 0xF0, 0x03, 0x01, 0x02, 0xF7, 0x00, 0xF7, 0x01, 0x05, 0x00, 0xFF, 0x7F, 0x02, 0x01, 0x02,
                   0x00, 0x90, 0x40, 0x40, 0x00, 0xFF, 0x2F, 0x00, 0x12, 0x34};  // bytes after EOT ignored
  bytes = cat(bytes, mtrk(body));
  const File f = parse(bytes);
  ASSERT_EQ(f.tracks.size(), 1u);
  ASSERT_EQ(f.tracks[0].events.size(), 2u);
  EXPECT_EQ(f.tracks[0].events[0], note_on(0, 0, 64, 64));
}

TEST(Smf, SkippedEventsMakingADeltaBeyondTheVlqLimitStillRoundTrip) {
  // Two SysEx events each 0x0FFFFFFF ticks apart, then a note: the note's delta in the events
  // exceeds what one variable-length quantity holds, so the writer splits it.
  const Bytes body{0xFF, 0xFF, 0xFF, 0x7F, 0xF0, 0x00, 0xFF, 0xFF, 0xFF, 0x7F, 0xF7, 0x00,
                   0x05, 0x90, 0x3C, 0x40, 0x00, 0xFF, 0x2F, 0x00};
  const File f = parse(cat(header(0, 1, 96), mtrk(body)));
  ASSERT_EQ(f.tracks[0].events.size(), 2u);
  EXPECT_EQ(f.tracks[0].events[0], note_on(2 * 0x0FFFFFFFll + 5, 0, 60, 64));
  EXPECT_EQ(parse(write_smf_to_bytes(f)), f);
}

TEST(Smf, TempoMapConvertsTicksToSeconds) {
  // Default 120 bpm at 480 tpq: 1 quarter = 0.5 s.
  File f;
  f.ticks_per_quarter = 480;
  f.tracks.resize(2);
  EXPECT_DOUBLE_EQ(TempoMap(f).seconds(480), 0.5);
  // 60 bpm from tick 960 (1.0 s), then 240 bpm from 1440 (2.0 s); set in the second track.
  f.tracks[1].events = {tempo(960, 1000000), tempo(1440, 250000)};
  const TempoMap m(f);
  EXPECT_DOUBLE_EQ(m.seconds(0), 0.0);
  EXPECT_DOUBLE_EQ(m.seconds(960), 1.0);
  EXPECT_DOUBLE_EQ(m.seconds(1200), 1.5);
  EXPECT_DOUBLE_EQ(m.seconds(1440), 2.0);
  EXPECT_DOUBLE_EQ(m.seconds(1920), 2.25);
  EXPECT_EQ(m.ticks(1.5), 1200);
  EXPECT_EQ(m.ticks(2.25), 1920);
  EXPECT_EQ(m.ticks(0.25), 240);
  // A tempo at tick 0 replaces the default; the later of two at one tick wins.
  f.tracks[0].events = {tempo(0, 1000000), tempo(0, 2000000)};
  f.tracks[1].events.clear();
  EXPECT_DOUBLE_EQ(TempoMap(f).seconds(480), 2.0);
}

// ---------------------------------------------------------------- malformed input, one rule each

TEST(SmfMalformed, TruncatedHeader) {
  const Bytes b{'M', 'T', 'h', 'd', 0, 0, 0, 6, 0};
  EXPECT_THROW_MSG(parse(b), "header length 6 but only 1 bytes remain");
  EXPECT_THROW_MSG(parse(Bytes{'M', 'T'}), "<bytes>: header, byte 0: expected the \"MThd\" header magic");
  EXPECT_THROW_MSG(parse(Bytes{}), "expected the \"MThd\" header magic");
  EXPECT_THROW_MSG(read_smf_from_bytes(nullptr, 0), "header magic");
}

TEST(SmfMalformed, BadMagic) {
  Bytes b = cat(header(0, 1, 96), mtrk({0x00, 0xFF, 0x2F, 0x00}));
  b[0] = 'R';
  EXPECT_THROW_MSG(parse(b), "not a Standard MIDI File");
}

TEST(SmfMalformed, TrackLengthBeyondTheFile) {
  Bytes b = cat(header(0, 1, 96), Bytes{'M', 'T', 'r', 'k', 0, 0, 0x10, 0, 0x00, 0xFF, 0x2F, 0x00});
  EXPECT_THROW_MSG(parse(b), "track 0, byte 18: chunk \"MTrk\" of length 4096 but only 4 bytes remain in the file");
  // An unknown chunk too long for the file.
  Bytes c = cat(header(0, 1, 96), Bytes{'X', 'X', 'X', 'X', 0xFF, 0xFF, 0xFF, 0xFF});
  EXPECT_THROW_MSG(parse(c), "chunk \"XXXX\" of length 4294967295");
}

TEST(SmfMalformed, VlqLongerThanFourBytes) {
  const Bytes b = cat(header(0, 1, 96), mtrk({0x81, 0x81, 0x81, 0x81, 0x01, 0x90, 0x3C, 0x40}));
  EXPECT_THROW_MSG(parse(b), "track 0, byte 22: expected a delta time (a variable-length quantity of at most 4 bytes)");
  const Bytes t = cat(header(0, 1, 96), mtrk({0x81, 0x81}));
  EXPECT_THROW_MSG(parse(t), "the track ends after 2 of its bytes");
}

TEST(SmfMalformed, RunningStatusWithNoPreviousStatus) {
  const Bytes b = cat(header(0, 1, 96), mtrk({0x00, 0x3C, 0x40}));
  EXPECT_THROW_MSG(parse(b), "track 0, byte 23: data byte 0x3C with running status but there is no previous status");
}

TEST(SmfMalformed, SysexLengthBeyondTheTrack) {
  const Bytes b = cat(header(0, 1, 96), mtrk({0x00, 0xF0, 0x7F, 0x01, 0x02, 0x00, 0xFF, 0x2F, 0x00}));
  EXPECT_THROW_MSG(parse(b), "SysEx of length 127 but only 6 bytes remain in the track");
}

TEST(SmfMalformed, Format2) {
  const Bytes b = cat(header(2, 1, 96), mtrk({0x00, 0xFF, 0x2F, 0x00}));
  EXPECT_THROW_MSG(parse(b), "format 2 (independent sequences) is not supported");
  EXPECT_THROW_MSG(parse(cat(header(7, 1, 96), mtrk({}))), "format 7");
}

TEST(SmfMalformed, OtherRules) {
  const Bytes eot{0x00, 0xFF, 0x2F, 0x00};
  EXPECT_THROW_MSG(parse(cat(header(0, 2, 96), mtrk(eot))), "format-0 file declares 2 tracks");
  EXPECT_THROW_MSG(parse(cat(header(1, 0, 96), mtrk(eot))), "declares 0 tracks");
  EXPECT_THROW_MSG(parse(cat(header(1, 1, 0xE728), mtrk(eot))), "SMPTE time division");
  EXPECT_THROW_MSG(parse(cat(header(1, 1, 0), mtrk(eot))), "0 ticks per quarter");
  EXPECT_THROW_MSG(parse(cat(header(1, 3, 96), mtrk(eot))), "expected 3 tracks but the file ends after 1");
  EXPECT_THROW_MSG(parse(cat(header(1, 1, 96), mtrk({0x00, 0xFF, 0x51, 0x02, 0x07, 0xA1}))),
                   "tempo meta event of length 2 (expected 3)");
  EXPECT_THROW_MSG(parse(cat(header(1, 1, 96), mtrk({0x00, 0xFF, 0x03, 0x09, 'a'}))),
                   "meta event 0x3 of length 9 but only 1 bytes remain");
  EXPECT_THROW_MSG(parse(cat(header(1, 1, 96), mtrk({0x00, 0x90, 0x3C}))), "expected a note-on velocity (1 byte)");
  EXPECT_THROW_MSG(parse(cat(header(1, 1, 96), mtrk({0x00, 0x90, 0x3C, 0x90}))), "got 0x90");
  EXPECT_THROW_MSG(parse(cat(header(1, 1, 96), mtrk({0x00, 0xF8}))), "unexpected status byte 0xF8");
  EXPECT_THROW_MSG(parse(cat(header(1, 1, 96), Bytes{'M', 'T', 'r'})), "expected a chunk header");
  // The path names the file.
  const auto path = fs::temp_directory_path() / "fermata_bad.mid";
  {
    std::ofstream out(path, std::ios::binary);
    out << "MThd";
  }
  EXPECT_THROW_MSG(read_smf(path.string()), "fermata_bad.mid: header, byte 4");
  fs::remove(path);
  EXPECT_THROW_MSG(read_smf("/nonexistent/x.mid"), "cannot open");
}

// Every prefix of a valid file either parses or fails with an fm::Error.
TEST(SmfMalformed, EveryTruncationFailsCleanly) {
  const Bytes good = write_smf_to_bytes(sample_file());
  for (size_t n = 0; n < good.size(); ++n) {
    try {
      parse(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
    } catch (const fm::Error& e) {
      EXPECT_NE(std::string(e.what()).find("<bytes>"), std::string::npos) << e.what();
    }
  }
}

// ---------------------------------------------------------------- files written by make_midi_samples.py

TEST(MidiSamples, ScaleFormat0) {
  const File f = read_smf(fm::testing::data_path("midi/data/scale_format0.mid"));
  EXPECT_EQ(f.format, 0);
  EXPECT_EQ(f.ticks_per_quarter, 96);
  EXPECT_EQ(track_name(f.tracks[0]), "scale");
  const auto notes = extract_notes(f);
  ASSERT_EQ(notes.size(), 3u);
  const int pitch[] = {60, 62, 64}, vel[] = {80, 90, 100};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(notes[i].pitch, pitch[i]);
    EXPECT_EQ(notes[i].velocity, vel[i]);
    EXPECT_DOUBLE_EQ(notes[i].onset, 0.5 * i);
    EXPECT_DOUBLE_EQ(notes[i].offset, 0.5 * (i + 1));
    EXPECT_EQ(notes[i].program, 0);
    EXPECT_FALSE(notes[i].is_drum);
  }
}

TEST(MidiSamples, TempoChangeFormat1) {
  const File f = read_smf(fm::testing::data_path("midi/data/tempo_change_format1.mid"));
  EXPECT_EQ(f.format, 1);
  ASSERT_EQ(f.tracks.size(), 2u);
  EXPECT_EQ(track_name(f.tracks[0]), "conductor");
  EXPECT_EQ(track_name(f.tracks[1]), "violin");
  EXPECT_EQ(f.tracks[0].events[1], time_signature(0, 3, 2, 24, 8));
  EXPECT_EQ(f.tracks[0].events[2], key_signature(0, -2, true));
  const auto notes = extract_notes(f);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].pitch, 67);
  EXPECT_EQ(notes[0].velocity, 100);
  EXPECT_DOUBLE_EQ(notes[0].onset, 0.0);
  EXPECT_DOUBLE_EQ(notes[0].offset, 0.5);
  EXPECT_EQ(notes[1].pitch, 69);
  EXPECT_EQ(notes[1].velocity, 80);
  EXPECT_DOUBLE_EQ(notes[1].onset, 1.0);
  EXPECT_DOUBLE_EQ(notes[1].offset, 1.25);
  for (const auto& n : notes) {
    EXPECT_EQ(n.program, 40);
    EXPECT_EQ(n.channel, 1);
  }
  // The file survives a write/read round trip.
  EXPECT_EQ(parse(write_smf_to_bytes(f)), f);
}

TEST(MidiSamples, OverlapDrums) {
  const File f = read_smf(fm::testing::data_path("midi/data/overlap_drums.mid"));
  const auto notes = extract_notes(f);
  const double tick = 1.0 / 192;
  ASSERT_EQ(notes.size(), 5u);
  // sorted by onset, then pitch
  EXPECT_EQ(notes[0].pitch, 36);
  EXPECT_TRUE(notes[0].is_drum);
  EXPECT_EQ(notes[0].channel, 9);
  EXPECT_DOUBLE_EQ(notes[0].offset, 24 * tick);
  EXPECT_EQ(notes[1].pitch, 60);
  EXPECT_DOUBLE_EQ(notes[1].offset, 96 * tick);  // FIFO: the first off closes the first on
  EXPECT_EQ(notes[1].velocity, 100);
  EXPECT_EQ(notes[2].pitch, 64);
  EXPECT_DOUBLE_EQ(notes[2].offset, 192 * tick);  // never closed: ends at the end of track
  EXPECT_EQ(notes[3].pitch, 60);
  EXPECT_DOUBLE_EQ(notes[3].onset, 48 * tick);
  EXPECT_DOUBLE_EQ(notes[3].offset, 144 * tick);
  EXPECT_EQ(notes[3].velocity, 50);
  EXPECT_EQ(notes[4].pitch, 42);
  EXPECT_TRUE(notes[4].is_drum);
  EXPECT_DOUBLE_EQ(notes[4].onset, 96 * tick);
  EXPECT_DOUBLE_EQ(notes[4].offset, 120 * tick);
}

// ---------------------------------------------------------------- fuzz corpus replay

TEST(MidiFuzzCorpus, EveryFileParsesOrFailsCleanly) {
  fm::testing::replay_fuzz_corpus("midi", [](const std::vector<uint8_t>& bytes, const std::string& name) {
    const File f = read_smf_from_bytes(bytes.data(), bytes.size());
    // a file that parses survives a write/read round trip, and its notes can be extracted
    const auto again = write_smf_to_bytes(f);
    EXPECT_EQ(read_smf_from_bytes(again.data(), again.size()), f) << name;
    (void)extract_notes(f);
  }, 10, 3);
}
