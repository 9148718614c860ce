#include "midi/events.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <tuple>

#include "tensor/error.h"
#include "tensor/factory.h"

namespace fm::midi {

namespace {

bool quantized_less(const Note& a, const Note& b) {
  return std::tie(a.onset, a.pitch, a.offset) < std::tie(b.onset, b.pitch, b.offset);
}

int64_t to_step(double seconds) {
  FM_CHECK(std::isfinite(seconds) && seconds >= 0 && seconds < 1e12,
           "midi: encode_events: note time ", seconds, " s (expected a finite time >= 0)");
  return static_cast<int64_t>(std::floor(seconds * kStepsPerSecond + 0.5));
}

double to_seconds(int64_t step) { return static_cast<double>(step) / kStepsPerSecond; }

struct StepNote {
  int64_t on, off;
  int pitch, velocity;
};

std::vector<StepNote> step_notes(const std::vector<Note>& notes, const EventEncodingOptions& o) {
  std::vector<StepNote> out;
  out.reserve(notes.size());
  for (const Note& n : notes) {
    if (n.is_drum && !o.include_drums) continue;
    FM_CHECK(n.pitch >= 0 && n.pitch < kNumNotePitches, "midi: encode_events: note pitch ", n.pitch,
             " outside 0..127");
    FM_CHECK(n.offset >= n.onset, "midi: encode_events: note with onset ", n.onset, " and offset ", n.offset,
             " (expected onset <= offset)");
    const int64_t on = to_step(n.onset);
    const int64_t off = std::max(on + 1, to_step(n.offset));
    out.push_back({on, off, n.pitch, bin_to_velocity(velocity_to_bin(n.velocity))});
  }
  return out;
}

}  // namespace

int64_t note_on_token(int pitch) {
  FM_CHECK(pitch >= 0 && pitch < kNumNotePitches, "midi: note_on_token: pitch ", pitch, " outside 0..127");
  return kNoteOnOffset + pitch;
}
int64_t note_off_token(int pitch) {
  FM_CHECK(pitch >= 0 && pitch < kNumNotePitches, "midi: note_off_token: pitch ", pitch, " outside 0..127");
  return kNoteOffOffset + pitch;
}
int64_t time_shift_token(int steps) {
  FM_CHECK(steps >= 1 && steps <= kNumTimeShifts, "midi: time_shift_token: ", steps, " steps outside 1..",
           kNumTimeShifts);
  return kTimeShiftOffset + steps - 1;
}
int64_t velocity_token(int bin) {
  FM_CHECK(bin >= 1 && bin <= kNumVelocityBins, "midi: velocity_token: bin ", bin, " outside 1..",
           kNumVelocityBins);
  return kVelocityOffset + bin - 1;
}

TokenInfo token_info(int64_t t) {
  FM_CHECK(t >= 0 && t < kVocabSize, "midi: token ", t, " outside the vocabulary 0..", kVocabSize - 1);
  if (t < kNoteOffOffset) return {TokenType::NoteOn, static_cast<int>(t - kNoteOnOffset)};
  if (t < kTimeShiftOffset) return {TokenType::NoteOff, static_cast<int>(t - kNoteOffOffset)};
  if (t < kVelocityOffset) return {TokenType::TimeShift, static_cast<int>(t - kTimeShiftOffset + 1)};
  return {TokenType::Velocity, static_cast<int>(t - kVelocityOffset + 1)};
}

std::string token_to_string(int64_t t) {
  if (t < 0 || t >= kVocabSize) return "<invalid " + std::to_string(t) + ">";
  const TokenInfo info = token_info(t);
  const std::string v = std::to_string(info.value);
  switch (info.type) {
    case TokenType::NoteOn: return "NOTE_ON(" + v + ")";
    case TokenType::NoteOff: return "NOTE_OFF(" + v + ")";
    case TokenType::TimeShift: return "TIME_SHIFT(" + std::to_string(info.value * 1000 / kStepsPerSecond) + "ms)";
    case TokenType::Velocity: {
      const int lo = bin_to_velocity(info.value);
      const int hi = std::min(127, lo + kVelocityBinSize - 1);
      return "VELOCITY(" + v + ": " + std::to_string(lo) + ".." + std::to_string(hi) + ")";
    }
  }
  return "";
}

std::string tokens_to_string(const std::vector<int64_t>& tokens) {
  std::string s;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) s += ' ';
    s += token_to_string(tokens[i]);
  }
  return s;
}

int velocity_to_bin(int velocity) { return (std::clamp(velocity, 1, 127) - 1) / kVelocityBinSize + 1; }

int bin_to_velocity(int bin) {
  FM_CHECK(bin >= 1 && bin <= kNumVelocityBins, "midi: bin_to_velocity: bin ", bin, " outside 1..",
           kNumVelocityBins);
  return 1 + (bin - 1) * kVelocityBinSize;
}

std::vector<Note> quantize_notes(const std::vector<Note>& notes, const EventEncodingOptions& o) {
  std::vector<Note> out;
  for (const StepNote& s : step_notes(notes, o)) {
    Note n;
    n.pitch = s.pitch;
    n.velocity = s.velocity;
    n.onset = to_seconds(s.on);
    n.offset = to_seconds(s.off);
    out.push_back(n);
  }
  std::stable_sort(out.begin(), out.end(), quantized_less);
  return out;
}

std::vector<int64_t> encode_events(const std::vector<Note>& notes, const EventEncodingOptions& o) {
  // Magenta's order: notes ranked by (onset, pitch); events sorted by (step, rank, is_off). A note
  // ending at a step started before any note starting there, so offs come first at each step.
  std::vector<StepNote> sn = step_notes(notes, o);
  std::stable_sort(sn.begin(), sn.end(),
                   [](const StepNote& a, const StepNote& b) { return std::tie(a.on, a.pitch) < std::tie(b.on, b.pitch); });
  struct Ev {
    int64_t step;
    size_t rank;
    int kind;  // 0 = on, 1 = off
  };
  std::vector<Ev> evs;
  evs.reserve(sn.size() * 2);
  for (size_t i = 0; i < sn.size(); ++i) {
    evs.push_back({sn[i].on, i, 0});
    evs.push_back({sn[i].off, i, 1});
  }
  std::sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) {
    return std::tie(a.step, a.rank, a.kind) < std::tie(b.step, b.rank, b.kind);
  });
  std::vector<int64_t> tokens;
  tokens.reserve(evs.size() * 2);
  int64_t step = 0;
  int bin = -1;
  for (const Ev& e : evs) {
    while (step < e.step) {
      const int64_t shift = std::min<int64_t>(kNumTimeShifts, e.step - step);
      tokens.push_back(time_shift_token(static_cast<int>(shift)));
      step += shift;
    }
    const StepNote& n = sn[e.rank];
    if (e.kind == 1) {
      tokens.push_back(note_off_token(n.pitch));
    } else {
      const int b = velocity_to_bin(n.velocity);
      if (b != bin) tokens.push_back(velocity_token(b));
      bin = b;
      tokens.push_back(note_on_token(n.pitch));
    }
  }
  return tokens;
}

Tensor encode_events_tensor(const std::vector<Note>& notes, const EventEncodingOptions& o) {
  std::vector<int64_t> t = encode_events(notes, o);
  const int64_t n = static_cast<int64_t>(t.size());
  return from_vector(t, {n});
}

std::vector<Note> decode_events(const std::vector<int64_t>& tokens) {
  struct Open {
    int64_t step;
    int velocity;
  };
  std::vector<std::deque<Open>> open(kNumNotePitches);
  std::vector<Note> notes;
  auto close = [&](int pitch, const Open& o, int64_t end) {
    if (end <= o.step) return;
    Note n;
    n.pitch = pitch;
    n.velocity = o.velocity;
    n.onset = to_seconds(o.step);
    n.offset = to_seconds(end);
    notes.push_back(n);
  };
  int64_t step = 0;
  int velocity = kDefaultVelocity;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int64_t t = tokens[i];
    FM_CHECK(t >= 0 && t < kVocabSize, "midi: decode_events: token ", t, " at position ", i,
             " outside the vocabulary 0..", kVocabSize - 1);
    const TokenInfo info = token_info(t);
    switch (info.type) {
      case TokenType::NoteOn: open[info.value].push_back({step, velocity}); break;
      case TokenType::NoteOff: {
        auto& q = open[info.value];
        if (q.empty()) break;
        const Open o = q.front();
        q.pop_front();
        close(info.value, o, step);
        break;
      }
      case TokenType::TimeShift: step += info.value; break;
      case TokenType::Velocity: velocity = bin_to_velocity(info.value); break;
    }
  }
  for (int p = 0; p < kNumNotePitches; ++p)
    for (const Open& o : open[p]) close(p, o, step);
  std::stable_sort(notes.begin(), notes.end(), quantized_less);
  return notes;
}

std::vector<Note> decode_events(const Tensor& tokens) {
  FM_CHECK(tokens.dtype() == DType::Int64 && tokens.dim() == 1, "midi: decode_events: tokens must be int64 [L], got ",
           tokens.describe());
  return decode_events(tokens.to_vector<int64_t>());
}

std::vector<int64_t> transpose_events(const std::vector<int64_t>& tokens, int semitones, TransposeMode mode) {
  std::vector<int64_t> out;
  out.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int64_t t = tokens[i];
    FM_CHECK(t >= 0 && t < kVocabSize, "midi: transpose_events: token ", t, " at position ", i,
             " outside the vocabulary 0..", kVocabSize - 1);
    const TokenInfo info = token_info(t);
    if (info.type != TokenType::NoteOn && info.type != TokenType::NoteOff) {
      out.push_back(t);
      continue;
    }
    int p = info.value + semitones;
    if (p < 0 || p >= kNumNotePitches) {
      if (mode == TransposeMode::Drop) continue;
      p = std::clamp(p, 0, kNumNotePitches - 1);
    }
    out.push_back(info.type == TokenType::NoteOn ? note_on_token(p) : note_off_token(p));
  }
  return out;
}

}  // namespace fm::midi
