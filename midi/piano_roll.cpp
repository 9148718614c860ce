#include "midi/piano_roll.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "tensor/error.h"
#include "tensor/factory.h"

namespace fm::midi {

namespace {

void check(const PianoRollOptions& o, const char* op) {
  FM_CHECK(std::isfinite(o.frames_per_second) && o.frames_per_second > 0, "midi: ", op, ": frames_per_second ",
           o.frames_per_second, " (expected a finite value > 0)");
  FM_CHECK(o.onset_frames >= 1, "midi: ", op, ": onset_frames ", o.onset_frames, " (expected >= 1)");
  FM_CHECK(o.offset_frames >= 0, "midi: ", op, ": offset_frames ", o.offset_frames, " (expected >= 0)");
  FM_CHECK(o.num_frames >= -1, "midi: ", op, ": num_frames ", o.num_frames, " (expected >= 0, or -1 for automatic)");
}

int64_t to_frame(double seconds, double fps, const char* op) {
  const double f = seconds * fps;
  FM_CHECK(std::isfinite(f) && f >= -0.5 && f < 1e12, "midi: ", op, ": note time ", seconds,
           " s (expected finite and >= 0)");
  return static_cast<int64_t>(std::floor(f + 0.5));
}

struct FrameNote {
  int64_t start, end;
  int key, velocity;
};

// The notes on the frame grid, uncut, in onset order.
std::vector<FrameNote> frame_notes(const std::vector<Note>& notes, const PianoRollOptions& o, const char* op) {
  check(o, op);
  std::vector<FrameNote> out;
  for (const Note& n : notes) {
    if (n.is_drum && !o.include_drums) continue;
    if (n.pitch < kPianoMinPitch || n.pitch > kPianoMaxPitch) continue;
    FM_CHECK(n.offset >= n.onset, "midi: ", op, ": note with onset ", n.onset, " and offset ", n.offset,
             " (expected onset <= offset)");
    const int64_t start = to_frame(n.onset, o.frames_per_second, op);
    const int64_t end = std::max(to_frame(n.offset, o.frames_per_second, op), start + o.onset_frames);
    out.push_back({start, end, n.pitch - kPianoMinPitch, std::clamp(n.velocity, 1, 127)});
  }
  std::stable_sort(out.begin(), out.end(), [](const FrameNote& a, const FrameNote& b) {
    return std::tie(a.start, a.key) < std::tie(b.start, b.key);
  });
  return out;
}

int64_t frame_count(const std::vector<FrameNote>& notes, const PianoRollOptions& o) {
  if (o.num_frames >= 0) return o.num_frames;
  int64_t t = 0;
  for (const auto& n : notes) t = std::max(t, n.end + o.offset_frames);
  return t;
}

bool note_less(const Note& a, const Note& b) {
  return std::tie(a.onset, a.pitch, a.offset) < std::tie(b.onset, b.pitch, b.offset);
}

// The Onsets and Frames decoder over rolls read as T.
template <class T>
std::vector<Note> decode_rolls(const Tensor& onsets, const Tensor& frames, const Tensor& velocities, int64_t t,
                               double fps, const PianoRollDecodeOptions& o) {
  const std::vector<T> on = onsets.to_vector<T>();
  const std::vector<T> fr = frames.to_vector<T>();
  const std::vector<T> vel = velocities.defined() ? velocities.to_vector<T>() : std::vector<T>();
  // Frames outer, keys inner: the rolls are read in memory order, one state per key.
  std::vector<Note> notes;
  std::vector<int64_t> start(kPianoKeys, -1);
  std::vector<double> vsum(kPianoKeys, 0.0);
  std::vector<int> vcount(kPianoKeys, 0);
  std::vector<char> prev_on(kPianoKeys, 0);
  auto close = [&](int key, int64_t end) {
    Note n;
    n.pitch = key + kPianoMinPitch;
    n.onset = start[key] / fps;
    n.offset = end / fps;
    n.velocity = vcount[key] == 0 ? std::clamp(o.default_velocity, 1, 127)
                                  : std::clamp(static_cast<int>(std::lround(vsum[key] / vcount[key] * 127.0)), 1, 127);
    n.program = o.program;
    n.channel = o.channel;
    n.is_drum = false;
    notes.push_back(n);
    start[key] = -1;
  };
  for (int64_t f = 0; f < t; ++f) {
    for (int key = 0; key < kPianoKeys; ++key) {
      const size_t i = static_cast<size_t>(f) * kPianoKeys + key;
      const bool is_on = on[i] > o.onset_threshold;
      const bool is_fr = fr[i] > o.frame_threshold;
      const bool rising = is_on && !prev_on[key];
      prev_on[key] = is_on;
      if (start[key] >= 0 && (rising || !(is_on || is_fr))) close(key, f);
      if (start[key] < 0 && rising) {
        start[key] = f;
        vsum[key] = 0;
        vcount[key] = 0;
      }
      if (start[key] >= 0 && is_on && !vel.empty()) {
        vsum[key] += vel[i];
        ++vcount[key];
      }
    }
  }
  for (int key = 0; key < kPianoKeys; ++key)
    if (start[key] >= 0) close(key, t);
  return notes;
}

}  // namespace

PianoRollOptions PianoRollOptions::from_hop(double sample_rate, int64_t hop_length) {
  FM_CHECK(sample_rate > 0 && hop_length > 0, "midi: PianoRollOptions::from_hop: sample_rate ", sample_rate,
           " and hop_length ", hop_length, " must be positive");
  PianoRollOptions o;
  o.frames_per_second = sample_rate / static_cast<double>(hop_length);
  return o;
}

PianoRollOptions PianoRollOptions::from_hop_seconds(double hop_seconds) {
  FM_CHECK(std::isfinite(hop_seconds) && hop_seconds > 0, "midi: PianoRollOptions::from_hop_seconds: hop ",
           hop_seconds, " s must be positive");
  PianoRollOptions o;
  o.frames_per_second = 1.0 / hop_seconds;
  return o;
}

PianoRoll notes_to_piano_roll(const std::vector<Note>& notes, const PianoRollOptions& o) {
  const auto fn = frame_notes(notes, o, "notes_to_piano_roll");
  const int64_t t = frame_count(fn, o);
  FM_CHECK(t <= (int64_t{1} << 31) / kPianoKeys, "midi: notes_to_piano_roll: ", t,
           " frames is too many (notes up to ", t / o.frames_per_second, " s)");
  // Filled in place: a long file's rolls are tens of megabytes.
  PianoRoll r;
  r.frames = zeros({t, kPianoKeys});
  r.onsets = zeros({t, kPianoKeys});
  r.offsets = zeros({t, kPianoKeys});
  r.velocities = zeros({t, kPianoKeys});
  float* frames = r.frames.data_ptr<float>();
  float* onsets = r.onsets.data_ptr<float>();
  float* offsets = r.offsets.data_ptr<float>();
  float* velocities = r.velocities.data_ptr<float>();
  auto fill = [&](float* roll, int64_t from, int64_t to, int key, float value) {
    for (int64_t f = std::max<int64_t>(from, 0); f < std::min(to, t); ++f) roll[f * kPianoKeys + key] = value;
  };
  for (const auto& n : fn) {
    fill(frames, n.start, n.end, n.key, 1.f);
    fill(onsets, n.start, n.start + o.onset_frames, n.key, 1.f);
    fill(velocities, n.start, n.start + o.onset_frames, n.key, static_cast<float>(n.velocity) / 127.f);
    fill(offsets, n.end, n.end + o.offset_frames, n.key, 1.f);
  }
  r.frames_per_second = o.frames_per_second;
  return r;
}

std::vector<Note> piano_roll_to_notes(const Tensor& onsets, const Tensor& frames, const Tensor& velocities,
                                      double fps, const PianoRollDecodeOptions& o) {
  auto check_roll = [](const Tensor& r, const char* name) {
    FM_CHECK(r.defined() && r.is_floating_point() && r.dim() == 2 && r.size(1) == kPianoKeys,
             "midi: piano_roll_to_notes: ", name, " must be a float32/float64 [T, 88] tensor, got ",
             r.defined() ? r.describe() : std::string("undefined"));
  };
  check_roll(onsets, "onsets");
  check_roll(frames, "frames");
  FM_CHECK(onsets.size(0) == frames.size(0), "midi: piano_roll_to_notes: onsets ", onsets.describe(), " and frames ",
           frames.describe(), " must have the same number of frames");
  if (velocities.defined()) {
    check_roll(velocities, "velocities");
    FM_CHECK(velocities.size(0) == frames.size(0), "midi: piano_roll_to_notes: velocities ", velocities.describe(),
             " and frames ", frames.describe(), " must have the same number of frames");
  }
  FM_CHECK(std::isfinite(fps) && fps > 0, "midi: piano_roll_to_notes: frames_per_second ", fps,
           " (expected a finite value > 0)");
  const int64_t t = frames.size(0);
  // Float32 rolls (what models give) are read as they are; anything else as float64.
  const bool f32 = onsets.dtype() == DType::Float32 && frames.dtype() == DType::Float32 &&
                   (!velocities.defined() || velocities.dtype() == DType::Float32);
  std::vector<Note> notes = f32 ? decode_rolls<float>(onsets, frames, velocities, t, fps, o)
                                : decode_rolls<double>(onsets, frames, velocities, t, fps, o);
  std::stable_sort(notes.begin(), notes.end(), note_less);
  return notes;
}

std::vector<Note> piano_roll_to_notes(const PianoRoll& roll, const PianoRollDecodeOptions& o) {
  return piano_roll_to_notes(roll.onsets, roll.frames, roll.velocities, roll.frames_per_second, o);
}

std::vector<Note> quantize_to_frames(const std::vector<Note>& notes, const PianoRollOptions& o,
                                     const PianoRollDecodeOptions& d) {
  const auto fn = frame_notes(notes, o, "quantize_to_frames");
  const int64_t t = frame_count(fn, o);
  std::vector<Note> out;
  for (const auto& f : fn) {
    if (f.start >= t) continue;
    Note n;
    n.pitch = f.key + kPianoMinPitch;
    n.velocity = f.velocity;
    n.onset = f.start / o.frames_per_second;
    n.offset = std::min(f.end, t) / o.frames_per_second;
    n.program = d.program;
    n.channel = d.channel;
    out.push_back(n);
  }
  std::stable_sort(out.begin(), out.end(), note_less);
  return out;
}

}  // namespace fm::midi
