#include "midi/notes.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <map>
#include <tuple>

#include "tensor/error.h"

namespace fm::midi {

namespace {
bool note_less(const Note& a, const Note& b) {
  return std::tie(a.onset, a.pitch, a.channel, a.offset) < std::tie(b.onset, b.pitch, b.channel, b.offset);
}
}  // namespace

std::vector<Note> extract_notes(const File& file) {
  const TempoMap tempo(file);
  struct Ref {
    int64_t tick;
    size_t track;
    size_t index;
  };
  std::vector<Ref> refs;
  std::vector<int64_t> track_end(file.tracks.size(), 0);
  for (size_t t = 0; t < file.tracks.size(); ++t) {
    const auto& ev = file.tracks[t].events;
    if (!ev.empty()) track_end[t] = ev.back().tick;
    for (size_t i = 0; i < ev.size(); ++i)
      if (ev[i].is_channel_message()) refs.push_back({ev[i].tick, t, i});
  }
  std::stable_sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
    return std::tie(a.tick, a.track, a.index) < std::tie(b.tick, b.track, b.index);
  });

  struct Open {
    int64_t tick;
    int velocity;
    int program;
    size_t track;
  };
  std::array<int, 16> program{};
  std::map<std::pair<int, int>, std::deque<Open>> open;  // (channel, pitch) -> FIFO
  std::vector<Note> notes;
  auto close = [&](int channel, int pitch, const Open& o, int64_t end_tick) {
    if (end_tick <= o.tick) return;  // zero-length notes are dropped
    Note n;
    n.pitch = pitch;
    n.velocity = o.velocity;
    n.onset = tempo.seconds(o.tick);
    n.offset = tempo.seconds(end_tick);
    n.program = o.program;
    n.channel = channel;
    n.is_drum = channel == 9;
    notes.push_back(n);
  };
  for (const Ref& r : refs) {
    const Event& e = file.tracks[r.track].events[r.index];
    const int ch = e.channel & 0x0F;
    if (e.kind == EventKind::ProgramChange) {
      program[ch] = e.data1 & 0x7F;
    } else if (e.kind == EventKind::NoteOn && e.data2 > 0) {
      open[{ch, e.data1}].push_back({e.tick, e.data2, program[ch], r.track});
    } else if (e.kind == EventKind::NoteOff || e.kind == EventKind::NoteOn) {
      auto it = open.find({ch, e.data1});
      if (it == open.end() || it->second.empty()) continue;  // unmatched note-off
      const Open o = it->second.front();
      it->second.pop_front();
      close(ch, e.data1, o, e.tick);
    }
  }
  for (auto& [key, q] : open)
    for (const Open& o : q) close(key.first, key.second, o, track_end[o.track]);
  std::stable_sort(notes.begin(), notes.end(), note_less);
  return notes;
}

std::vector<Note> transpose(const std::vector<Note>& notes, int semitones, TransposeMode mode) {
  std::vector<Note> out;
  out.reserve(notes.size());
  for (Note n : notes) {
    if (!n.is_drum) {
      const int p = n.pitch + semitones;
      if (p < 0 || p > 127) {
        if (mode == TransposeMode::Drop) continue;
        n.pitch = std::clamp(p, 0, 127);
      } else {
        n.pitch = p;
      }
    }
    out.push_back(n);
  }
  return out;
}

File notes_to_smf(const std::vector<Note>& notes, const NotesToSmfOptions& opt) {
  FM_CHECK(opt.ticks_per_quarter >= 1 && opt.ticks_per_quarter <= 0x7FFF, "midi: notes_to_smf: ticks_per_quarter ",
           opt.ticks_per_quarter, " outside 1..32767");
  const Event tempo_event = tempo_bpm(0, opt.bpm);
  const double ticks_per_second = 1e6 * opt.ticks_per_quarter / tempo_event.value;
  auto to_tick = [&](double s) { return static_cast<int64_t>(std::llround(s * ticks_per_second)); };

  // Events with a sort rank at equal ticks: note-offs, then program changes, then note-ons.
  struct Keyed {
    int64_t tick;
    int rank;
    size_t order;
    Event event;
  };
  std::array<std::vector<Keyed>, 16> by_channel;
  std::vector<const Note*> sorted;
  for (const Note& n : notes) sorted.push_back(&n);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Note* a, const Note* b) { return note_less(*a, *b); });
  std::array<int, 16> program;
  program.fill(-1);
  size_t order = 0;
  for (const Note* n : sorted) {
    FM_CHECK(std::isfinite(n->onset) && std::isfinite(n->offset) && n->onset >= 0 && n->offset >= n->onset,
             "midi: notes_to_smf: note with onset ", n->onset, " and offset ", n->offset,
             " (expected 0 <= onset <= offset)");
    FM_CHECK(n->offset * ticks_per_second < 1e15, "midi: notes_to_smf: note offset ", n->offset,
             " s is too late to write");
    const int ch = n->is_drum ? 9 : n->channel;
    FM_CHECK(ch >= 0 && ch <= 15, "midi: notes_to_smf: channel ", ch, " outside 0..15");
    const int64_t on = to_tick(n->onset);
    const int64_t off = std::max(on + 1, to_tick(n->offset));
    auto& v = by_channel[ch];
    if (!n->is_drum && n->program != program[ch]) {
      v.push_back({on, 1, order++, program_change(on, ch, n->program)});
      program[ch] = n->program;
    }
    v.push_back({on, 2, order++, note_on(on, ch, n->pitch, std::clamp(n->velocity, 1, 127))});
    v.push_back({off, 0, order++, note_off(off, ch, n->pitch)});
  }
  auto finish = [](std::vector<Keyed>& v, Track& t) {
    std::stable_sort(v.begin(), v.end(), [](const Keyed& a, const Keyed& b) {
      return std::tie(a.tick, a.rank, a.order) < std::tie(b.tick, b.rank, b.order);
    });
    for (auto& k : v) t.events.push_back(std::move(k.event));
    t.events.push_back(end_of_track(t.events.empty() ? 0 : t.events.back().tick));
  };

  File f;
  f.ticks_per_quarter = opt.ticks_per_quarter;
  if (!opt.per_channel) {
    f.format = 0;
    std::vector<Keyed> all;
    for (auto& v : by_channel) all.insert(all.end(), v.begin(), v.end());
    Track t;
    t.events.push_back(tempo_event);
    finish(all, t);
    f.tracks.push_back(std::move(t));
  } else {
    f.format = 1;
    Track conductor;
    conductor.events.push_back(tempo_event);
    conductor.events.push_back(end_of_track(0));
    f.tracks.push_back(std::move(conductor));
    for (int ch = 0; ch < 16; ++ch) {
      if (by_channel[ch].empty()) continue;
      Track t;
      t.events.push_back(track_name(0, "channel " + std::to_string(ch + 1)));
      finish(by_channel[ch], t);
      f.tracks.push_back(std::move(t));
    }
  }
  return f;
}

}  // namespace fm::midi
