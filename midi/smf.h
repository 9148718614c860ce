#pragma once
// Standard MIDI Files (SMF): a reader and a writer for formats 0 and 1.
//
// Reader. Everything is validated before it is trusted: the "MThd" header (length >= 6, format
// 0 or 1 -- format 2 is refused by name --, a format-0 file has exactly one track, at least one
// track, metrical time division; SMPTE divisions are refused), every chunk length against the
// bytes that remain, every variable-length quantity (at most 4 bytes), every meta and SysEx
// length against the bytes left in its track, every data byte (< 0x80). Unknown chunks are
// skipped by their length; SysEx (F0 and F7) is skipped by its length; meta events other than
// tempo, time signature, key signature, track name and end of track are skipped. Running status
// is honoured for channel messages (meta and SysEx events leave it in place, as most readers
// do); a data byte with no previous status is an error. A note-on with velocity 0 is read as a
// note-off with velocity 0. A track ends at its end-of-track event (anything after it in the
// chunk is ignored) or, without one, at the end of its chunk, where the reader adds an
// end-of-track event at the last event's tick: every track read ends with one. Every failure is an fm::Error
// "midi: SOURCE: track T, byte B: what was expected" where SOURCE is the path (or "<bytes>"),
// T the track index (or "header") and B the offset in the file -- never a crash.
//
// Writer. Writes ticks-per-quarter and the tracks as given (format 0 needs exactly one track),
// with running status, appending an end-of-track event to a track that lacks one. The reader
// reads what it writes back to identical events.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fm::midi {

enum class EventKind : uint8_t {
  NoteOff,            // channel, data1 = pitch, data2 = velocity
  NoteOn,             // channel, data1 = pitch, data2 = velocity (> 0)
  PolyAftertouch,     // channel, data1 = pitch, data2 = pressure
  ControlChange,      // channel, data1 = controller, data2 = value
  ProgramChange,      // channel, data1 = program
  ChannelAftertouch,  // channel, data1 = pressure
  PitchBend,          // channel, value = bend in -8192..8191
  Tempo,              // value = microseconds per quarter note (0..0xFFFFFF)
  TimeSignature,      // data1 = numerator, data2 = log2(denominator), data3 = MIDI clocks per
                      // metronome click, data4 = 32nd notes per quarter
  KeySignature,       // value = sharps (> 0) or flats (< 0), -7..7; data1 = 0 major, 1 minor
  TrackName,          // text
  EndOfTrack,
};

const char* to_string(EventKind kind);

struct Event {
  int64_t tick = 0;  // absolute, from the start of the track
  EventKind kind = EventKind::NoteOn;
  uint8_t channel = 0;  // 0..15 (channel messages only)
  uint8_t data1 = 0;
  uint8_t data2 = 0;
  uint8_t data3 = 0;
  uint8_t data4 = 0;
  int32_t value = 0;
  std::string text;

  bool is_channel_message() const { return kind <= EventKind::PitchBend; }
  bool operator==(const Event&) const = default;
};

struct Track {
  std::vector<Event> events;  // non-decreasing ticks
  bool operator==(const Track&) const = default;
};

struct File {
  int format = 1;                // 0 or 1
  int ticks_per_quarter = 480;   // 1..32767
  std::vector<Track> tracks;
  bool operator==(const File&) const = default;
};

// Convenience constructors for events.
Event note_on(int64_t tick, int channel, int pitch, int velocity);
Event note_off(int64_t tick, int channel, int pitch, int velocity = 0);
Event control_change(int64_t tick, int channel, int controller, int value);
Event program_change(int64_t tick, int channel, int program);
Event pitch_bend(int64_t tick, int channel, int value);
Event tempo(int64_t tick, int microseconds_per_quarter);
Event tempo_bpm(int64_t tick, double bpm);
Event time_signature(int64_t tick, int numerator, int denominator_log2, int clocks_per_click = 24,
                     int thirty_seconds_per_quarter = 8);
Event key_signature(int64_t tick, int sharps, bool minor);
Event track_name(int64_t tick, const std::string& name);
Event end_of_track(int64_t tick);

// The track's name (its first TrackName event), or "".
std::string track_name(const Track& track);

// Reads a file from disk; errors name `path`.
File read_smf(const std::string& path);
// Parses an in-memory file; `source` names it in error messages.
File read_smf_from_bytes(const uint8_t* data, size_t size, const std::string& source = "<bytes>");

// The bytes of `file` as an SMF. Throws fm::Error for what cannot be written (format other than
// 0/1, a format-0 file without exactly one track, decreasing ticks, an end-of-track event that
// is not last, out-of-range fields).
std::vector<uint8_t> write_smf_to_bytes(const File& file);
void write_smf(const File& file, const std::string& path);

// Ticks -> seconds from the Tempo events of every track (120 bpm until the first; a later event
// at the same tick as an earlier one wins).
class TempoMap {
 public:
  explicit TempoMap(const File& file);
  TempoMap(int ticks_per_quarter, std::vector<std::pair<int64_t, int>> tempos);  // (tick, us/quarter)
  double seconds(int64_t tick) const;
  // The tick at `seconds` (rounded to nearest).
  int64_t ticks(double seconds) const;
  int ticks_per_quarter() const { return tpq_; }

 private:
  struct Segment {
    int64_t tick;
    double seconds;   // at `tick`
    int us_per_quarter;
  };
  void build(std::vector<std::pair<int64_t, int>> tempos);
  int tpq_;
  std::vector<Segment> segments_;
};

inline constexpr int kDefaultTempo = 500000;  // 120 bpm

}  // namespace fm::midi
