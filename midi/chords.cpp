#include "midi/chords.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <utility>

#include "tensor/error.h"

namespace fm::midi {

namespace {

struct QualityInfo {
  ChordQuality quality;
  std::vector<int> intervals;
  const char* suffix;
  const char* mma;
  std::vector<std::string> aliases;  // other accepted suffixes
};

const std::vector<QualityInfo>& table() {
  using Q = ChordQuality;
  static const std::vector<QualityInfo> t = {
      {Q::Major, {0, 4, 7}, "", "M", {"M", "maj", "major"}},
      {Q::Minor, {0, 3, 7}, "m", "m", {"min", "mi", "-", "minor"}},
      {Q::Diminished, {0, 3, 6}, "dim", "mb5", {"o", "\xC2\xB0", "dim3", "mb5", "m(b5)"}},
      {Q::Augmented, {0, 4, 8}, "aug", "aug", {"+", "+5"}},
      {Q::Sus2, {0, 2, 7}, "sus2", "sus2", {}},
      {Q::Sus4, {0, 5, 7}, "sus4", "sus4", {"sus"}},
      {Q::Power, {0, 7}, "5", "5", {}},
      {Q::Dominant7, {0, 4, 7, 10}, "7", "7", {"dom7"}},
      {Q::Major7, {0, 4, 7, 11}, "maj7", "maj7", {"M7", "ma7", "j7", "\xCE\x94", "\xCE\x94" "7"}},
      {Q::Minor7, {0, 3, 7, 10}, "m7", "m7", {"min7", "mi7", "-7"}},
      {Q::Diminished7, {0, 3, 6, 9}, "dim7", "dim7", {"o7", "\xC2\xB0" "7"}},
      {Q::HalfDiminished7,
       {0, 3, 6, 10},
       "m7b5",
       "m7b5",
       {"\xC3\xB8", "\xC3\xB8" "7", "hdim7", "m7-5", "min7b5", "-7b5"}},
      {Q::Major6, {0, 4, 7, 9}, "6", "6", {"M6", "maj6"}},
      {Q::Minor6, {0, 3, 7, 9}, "m6", "m6", {"min6", "-6"}},
      {Q::MinorMajor7, {0, 3, 7, 11}, "mM7", "mM7", {"m(maj7)", "mmaj7", "minmaj7", "-maj7"}},
      {Q::Augmented7, {0, 4, 8, 10}, "aug7", "aug7", {"+7", "7#5", "7+5"}},
      {Q::Dominant7Sus4, {0, 5, 7, 10}, "7sus4", "7sus4", {"7sus"}},
      {Q::Dominant9, {0, 4, 7, 10, 2}, "9", "9", {}},
      {Q::Major9, {0, 4, 7, 11, 2}, "maj9", "maj9", {"M9"}},
      {Q::Minor9, {0, 3, 7, 10, 2}, "m9", "m9", {"min9", "-9"}},
  };
  return t;
}

const QualityInfo& info(ChordQuality q) {
  const auto i = static_cast<size_t>(q);
  FM_CHECK(i < table().size(), "midi: chord quality ", i, " unknown");
  return table()[i];
}

int mod12(int v) { return ((v % 12) + 12) % 12; }

// Parses a note name at text[pos...]: a letter and accidentals. Returns the pitch class and
// advances pos, or -1 if there is no letter.
int parse_pitch_class(const std::string& text, size_t& pos) {
  static constexpr int kLetter[7] = {9, 11, 0, 2, 4, 5, 7};  // A..G
  if (pos >= text.size()) return -1;
  const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text[pos])));
  if (c < 'A' || c > 'G') return -1;
  int pc = kLetter[c - 'A'];
  ++pos;
  while (pos < text.size() && (text[pos] == '#' || text[pos] == 'b' || text[pos] == '&')) {
    pc += text[pos] == '#' ? 1 : -1;
    ++pos;
  }
  return mod12(pc);
}

}  // namespace

const std::vector<ChordQuality>& all_chord_qualities() {
  static const std::vector<ChordQuality> all = [] {
    std::vector<ChordQuality> v;
    for (const auto& q : table()) v.push_back(q.quality);
    return v;
  }();
  return all;
}

const std::vector<int>& chord_intervals(ChordQuality q) { return info(q).intervals; }
const char* quality_suffix(ChordQuality q) { return info(q).suffix; }
const char* quality_mma_suffix(ChordQuality q) { return info(q).mma; }

std::string pitch_class_name(int pc, Spelling spelling) {
  static const char* kDefault[12] = {"C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
  static const char* kSharps[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
  static const char* kFlats[12] = {"C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"};
  FM_CHECK(pc >= 0 && pc < 12, "midi: pitch_class_name: pitch class ", pc, " outside 0..11");
  switch (spelling) {
    case Spelling::Sharps: return kSharps[pc];
    case Spelling::Flats: return kFlats[pc];
    default: return kDefault[pc];
  }
}

Chord parse_chord(const std::string& text, ChordSyntax syntax) {
  size_t pos = 0;
  Chord c;
  c.root = parse_pitch_class(text, pos);
  FM_CHECK(c.root >= 0, "midi: parse_chord: '", text, "' does not start with a root letter A-G");
  std::string suffix = text.substr(pos);
  const size_t slash = suffix.find('/');
  if (slash != std::string::npos) {
    const std::string bass = suffix.substr(slash + 1);
    size_t bpos = 0;
    c.bass = parse_pitch_class(bass, bpos);
    FM_CHECK(c.bass >= 0 && bpos == bass.size(), "midi: parse_chord: '", text, "': the bass after '/' must be a ",
             "note name such as E or Bb, got '", bass, "'");
    suffix = suffix.substr(0, slash);
  }
  if (syntax == ChordSyntax::Mma && suffix == "dim") {
    c.quality = ChordQuality::Diminished7;
    return c;
  }
  for (const auto& q : table()) {
    if (suffix == q.suffix || std::find(q.aliases.begin(), q.aliases.end(), suffix) != q.aliases.end()) {
      c.quality = q.quality;
      return c;
    }
  }
  fail("midi: parse_chord: '", text, "': unknown chord quality '", suffix,
       "' (expected one of \"\", m, dim, aug, sus2, sus4, 5, 7, maj7, m7, dim7, m7b5, 6, m6, mM7, aug7, 7sus4, 9, "
       "maj9, m9 or an alias listed in midi/chords.h)");
}

std::string format_chord(const Chord& c, Spelling spelling) {
  std::string s = pitch_class_name(mod12(c.root), spelling) + quality_suffix(c.quality);
  if (c.bass >= 0) {
    s += '/';  // (not "/" + name: GCC 12 warns falsely on that with -Wrestrict)
    s += pitch_class_name(mod12(c.bass), spelling);
  }
  return s;
}

std::string to_mma(const Chord& c) {
  // MMA knows both spellings of every root; the default spelling is kept for readability.
  // Major is written bare ("C"), which MMA reads as "M".
  const char* suffix = c.quality == ChordQuality::Major ? "" : quality_mma_suffix(c.quality);
  std::string s = pitch_class_name(mod12(c.root)) + suffix;
  if (c.bass >= 0) {
    s += '/';
    s += pitch_class_name(mod12(c.bass));
  }
  return s;
}

std::vector<int> pitch_classes(const Chord& c) {
  FM_CHECK(c.root >= 0 && c.root < 12, "midi: chord root ", c.root, " outside 0..11");
  std::vector<int> pcs;
  for (int i : chord_intervals(c.quality)) pcs.push_back(mod12(c.root + i));
  if (c.bass >= 0) pcs.push_back(mod12(c.bass));
  std::sort(pcs.begin(), pcs.end());
  pcs.erase(std::unique(pcs.begin(), pcs.end()), pcs.end());
  return pcs;
}

std::array<float, 12> pitch_class_vector(const Chord& c) {
  std::array<float, 12> v{};
  for (int pc : pitch_classes(c)) v[pc] = 1.0f;
  return v;
}

Chord transpose(const Chord& c, int semitones) {
  Chord t = c;
  t.root = mod12(c.root + semitones);
  if (c.bass >= 0) t.bass = mod12(c.bass + semitones);
  return t;
}

std::array<double, 12> pitch_class_profile(const std::vector<Note>& notes, double start, double end,
                                           bool include_drums) {
  FM_CHECK(std::isfinite(start) && std::isfinite(end) && start <= end, "midi: pitch_class_profile: window [",
           start, ", ", end, ") (expected finite start <= end)");
  std::array<double, 12> p{};
  for (const Note& n : notes) {
    if (n.is_drum && !include_drums) continue;
    const double overlap = std::min(n.offset, end) - std::max(n.onset, start);
    if (overlap > 0) p[mod12(n.pitch)] += overlap;
  }
  return p;
}

std::optional<ChordMatch> match_chord(const std::array<double, 12>& profile, int bass_pitch_class,
                                      const ChordRecognitionOptions& o) {
  double total = 0, norm2 = 0;
  for (double v : profile) {
    FM_CHECK(std::isfinite(v) && v >= 0, "midi: match_chord: profile value ", v, " (expected finite and >= 0)");
    total += v;
    norm2 += v * v;
  }
  if (total < o.min_weight || norm2 <= 0) return std::nullopt;
  std::vector<ChordQuality> vocab = o.vocabulary;
  if (vocab.empty())
    for (ChordQuality q : all_chord_qualities())
      if (q != ChordQuality::Power) vocab.push_back(q);

  const double norm = std::sqrt(norm2);
  std::optional<ChordMatch> best;
  bool best_on_bass = false;
  constexpr double kTie = 1e-9;
  for (ChordQuality q : vocab) {
    const auto& iv = chord_intervals(q);
    const double tnorm = std::sqrt(static_cast<double>(iv.size()));
    for (int root = 0; root < 12; ++root) {
      double dot = 0;
      for (int i : iv) dot += profile[mod12(root + i)];
      const double score = dot / (norm * tnorm);
      const bool on_bass = root == bass_pitch_class;
      // Strictly better, or tied and rooted on the bass when the best is not; otherwise the
      // first seen (vocabulary order, then root order) stays.
      if (!best || score > best->score + kTie || (score > best->score - kTie && on_bass && !best_on_bass)) {
        best = ChordMatch{Chord{root, q, -1}, score};
        best_on_bass = on_bass;
      }
    }
  }
  return best;
}

namespace {

// The chord of the window [start, end) from the notes given (any that sound in it count).
template <class NoteRange>
std::optional<ChordMatch> recognize_in(const NoteRange& notes, double start, double end,
                                       const ChordRecognitionOptions& o) {
  std::array<double, 12> profile{};
  int lowest = 128;
  for (const Note* n : notes) {
    const double overlap = std::min(n->offset, end) - std::max(n->onset, start);
    if (overlap <= 0) continue;
    profile[mod12(n->pitch)] += overlap;
    lowest = std::min(lowest, n->pitch);
  }
  return match_chord(profile, lowest < 128 ? mod12(lowest) : -1, o);
}

}  // namespace

std::optional<ChordMatch> recognize_chord(const std::vector<Note>& notes, double start, double end,
                                          const ChordRecognitionOptions& o) {
  FM_CHECK(std::isfinite(start) && std::isfinite(end) && start <= end, "midi: recognize_chord: window [", start,
           ", ", end, ") (expected finite start <= end)");
  std::vector<const Note*> kept;
  for (const Note& n : notes)
    if (!n.is_drum || o.include_drums) kept.push_back(&n);
  return recognize_in(kept, start, end, o);
}

std::vector<std::optional<ChordMatch>> recognize_chords(const std::vector<Note>& notes,
                                                        const std::vector<double>& boundaries,
                                                        const ChordRecognitionOptions& o) {
  for (size_t i = 0; i + 1 < boundaries.size(); ++i)
    FM_CHECK(std::isfinite(boundaries[i]) && std::isfinite(boundaries[i + 1]) && boundaries[i] < boundaries[i + 1],
             "midi: recognize_chords: boundaries must be finite and increase strictly, got ", boundaries[i],
             " then ", boundaries[i + 1], " at index ", i);
  // One sweep over the notes in onset order, keeping those that may still sound: linear in the
  // notes plus the segments (times the notes sounding at once), not their product.
  std::vector<const Note*> sorted;
  for (const Note& n : notes)
    if (!n.is_drum || o.include_drums) sorted.push_back(&n);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Note* a, const Note* b) { return a->onset < b->onset; });
  std::vector<std::optional<ChordMatch>> out;
  std::vector<const Note*> active;
  size_t next = 0;
  for (size_t i = 0; i + 1 < boundaries.size(); ++i) {
    const double start = boundaries[i], end = boundaries[i + 1];
    while (next < sorted.size() && sorted[next]->onset < end) active.push_back(sorted[next++]);
    active.erase(std::remove_if(active.begin(), active.end(), [&](const Note* n) { return n->offset <= start; }),
                 active.end());
    out.push_back(recognize_in(active, start, end, o));
  }
  return out;
}

}  // namespace fm::midi
