#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "data/mma.h"
#include "midi/chords.h"
#include "midi/notes.h"
#include "midi/smf.h"
#include "support/test_support.h"

using namespace fm::midi;
using Q = ChordQuality;

namespace {

// The chord's tones as notes from `start` to `end`: root position with the root in octave 3
// (MIDI 48 + root), or inverted (the lowest `inversion` chord tones raised an octave), with an
// optional doubled root an octave up.
std::vector<Note> render(const Chord& c, double start, double end, int inversion = 0, bool double_root = false) {
  std::vector<int> pitches;
  int prev = -1;
  for (int i : chord_intervals(c.quality)) {
    const int above = i < prev ? i + 12 : i;  // a ninth sits above the seventh
    pitches.push_back(48 + c.root + above);
    prev = above;
  }
  std::sort(pitches.begin(), pitches.end());
  for (int k = 0; k < inversion; ++k) pitches[k] += 12;
  if (double_root) pitches.push_back(48 + c.root + 24);
  std::vector<Note> notes;
  for (int p : pitches) {
    Note n;
    n.pitch = p;
    n.onset = start;
    n.offset = end;
    notes.push_back(n);
  }
  return notes;
}

std::set<int> pc_set(const Chord& c) {
  const auto v = pitch_classes(c);
  return {v.begin(), v.end()};
}

}  // namespace

TEST(Chords, ParsesCommonNames) {
  EXPECT_EQ(parse_chord("C"), (Chord{0, Q::Major, -1}));
  EXPECT_EQ(parse_chord("F#m7"), (Chord{6, Q::Minor7, -1}));
  EXPECT_EQ(parse_chord("Bbmaj7"), (Chord{10, Q::Major7, -1}));
  EXPECT_EQ(parse_chord("G7"), (Chord{7, Q::Dominant7, -1}));
  EXPECT_EQ(parse_chord("Ebdim"), (Chord{3, Q::Diminished, -1}));
  EXPECT_EQ(parse_chord("Asus4"), (Chord{9, Q::Sus4, -1}));
  EXPECT_EQ(parse_chord("C/E"), (Chord{0, Q::Major, 4}));
  EXPECT_EQ(parse_chord("Dm7/G"), (Chord{2, Q::Minor7, 7}));
  EXPECT_EQ(parse_chord("Cb"), (Chord{11, Q::Major, -1}));
  EXPECT_EQ(parse_chord("B#m"), (Chord{0, Q::Minor, -1}));
  EXPECT_EQ(parse_chord("E&7"), (Chord{3, Q::Dominant7, -1}));  // MMA's flat
  EXPECT_EQ(parse_chord("CM7"), (Chord{0, Q::Major7, -1}));
  EXPECT_EQ(parse_chord("Cm7b5"), (Chord{0, Q::HalfDiminished7, -1}));
  EXPECT_EQ(parse_chord("C\xC3\xB8"), (Chord{0, Q::HalfDiminished7, -1}));
  EXPECT_EQ(parse_chord("C+"), (Chord{0, Q::Augmented, -1}));
  EXPECT_EQ(parse_chord("Cmb5"), (Chord{0, Q::Diminished, -1}));
  EXPECT_EQ(parse_chord("C5"), (Chord{0, Q::Power, -1}));
  // MMA's "dim" is a seventh chord.
  EXPECT_EQ(parse_chord("Cdim", ChordSyntax::Mma), (Chord{0, Q::Diminished7, -1}));
  EXPECT_THROW_MSG(parse_chord("Hm"), "root letter");
  EXPECT_THROW_MSG(parse_chord(""), "root letter");
  EXPECT_THROW_MSG(parse_chord("Cxyz"), "unknown chord quality 'xyz'");
  EXPECT_THROW_MSG(parse_chord("C/Q"), "bass after '/'");
}

TEST(Chords, FormatAndParseRoundTripForEveryRootAndQuality) {
  for (Q q : all_chord_qualities())
    for (int root = 0; root < 12; ++root)
      for (int bass : {-1, (root + 4) % 12})
        for (Spelling sp : {Spelling::Default, Spelling::Sharps, Spelling::Flats}) {
          const Chord c{root, q, bass};
          EXPECT_EQ(parse_chord(format_chord(c, sp)), c) << format_chord(c, sp);
          EXPECT_EQ(parse_chord(to_mma(c), ChordSyntax::Mma), c) << to_mma(c);
        }
  EXPECT_EQ(format_chord(parse_chord("F#m7")), "F#m7");
  EXPECT_EQ(format_chord(parse_chord("A#maj7")), "Bbmaj7");
  EXPECT_EQ(format_chord(parse_chord("Bbmaj7"), Spelling::Sharps), "A#maj7");
  EXPECT_EQ(to_mma(parse_chord("Ebdim")), "Ebmb5");
  EXPECT_EQ(to_mma(parse_chord("C/E")), "C/E");
  EXPECT_EQ(to_mma(parse_chord("Cmaj7")), "Cmaj7");
}

TEST(Chords, PitchClassesAndTransposition) {
  EXPECT_EQ(pitch_classes(parse_chord("C")), (std::vector<int>{0, 4, 7}));
  EXPECT_EQ(pitch_classes(parse_chord("Bbmaj9")), (std::vector<int>{0, 2, 5, 9, 10}));
  EXPECT_EQ(pitch_classes(parse_chord("C/E")), (std::vector<int>{0, 4, 7}));      // bass is a chord tone
  EXPECT_EQ(pitch_classes(parse_chord("C/Bb")), (std::vector<int>{0, 4, 7, 10}));  // bass added
  const auto v = pitch_class_vector(parse_chord("Am"));
  EXPECT_EQ(v, (std::array<float, 12>{1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(transpose(parse_chord("A/C#"), 5), parse_chord("D/F#"));
  EXPECT_EQ(transpose(parse_chord("C"), -1), parse_chord("B"));
}

TEST(Chords, RecognisesRenderedChordsInEveryInversion) {
  ChordRecognitionOptions all;
  all.vocabulary = all_chord_qualities();
  for (Q q : all_chord_qualities()) {
    const int tones = static_cast<int>(chord_intervals(q).size());
    for (int root = 0; root < 12; ++root) {
      const Chord c{root, q, -1};
      for (int inv = 0; inv < tones; ++inv) {
        const auto notes = render(c, 1.0, 2.0, inv);
        const auto m = recognize_chord(notes, 0.5, 2.5, all);
        ASSERT_TRUE(m.has_value());
        EXPECT_NEAR(m->score, 1.0, 1e-12);
        // Always the right pitch-class set; the exact chord in root position (the bass breaks
        // ties between chords sharing a set) and for every chord whose set is its own.
        EXPECT_EQ(pc_set(m->chord), pc_set(c)) << format_chord(c) << " inversion " << inv;
        if (inv == 0) EXPECT_EQ(m->chord, c) << format_chord(c) << " got " << format_chord(m->chord);
        const bool ambiguous = q == Q::Major6 || q == Q::Minor7 || q == Q::HalfDiminished7 || q == Q::Minor6 ||
                               q == Q::Sus2 || q == Q::Sus4 || q == Q::Diminished7 || q == Q::Augmented ||
                               q == Q::Power;
        if (!ambiguous) EXPECT_EQ(m->chord, c) << format_chord(c) << " inversion " << inv;
      }
    }
  }
}

TEST(Chords, BassBreaksTiesBetweenChordsOfOneSet) {
  // C E G A: C6 over C, Am7 over A.
  std::vector<Note> c6 = render(parse_chord("C6"), 0, 1);
  EXPECT_EQ(recognize_chord(c6, 0, 1)->chord, parse_chord("C6"));
  std::vector<Note> am7 = render(parse_chord("Am7"), 0, 1);
  EXPECT_EQ(recognize_chord(am7, 0, 1)->chord, parse_chord("Am7"));
  // A doubled root lowers the score but not the answer.
  const auto doubled = recognize_chord(render(parse_chord("F7"), 0, 1, 0, true), 0, 1);
  EXPECT_EQ(doubled->chord, parse_chord("F7"));
  EXPECT_LT(doubled->score, 0.99);
  // Without a bass, the vocabulary order decides: Minor7 comes before Major6 in the default.
  std::array<double, 12> p{};
  for (int pc : {0, 4, 7, 9}) p[pc] = 1;
  EXPECT_EQ(match_chord(p)->chord, parse_chord("Am7"));
  ChordRecognitionOptions sixth_first;
  sixth_first.vocabulary = {Q::Major6, Q::Minor7};
  EXPECT_EQ(match_chord(p, -1, sixth_first)->chord, parse_chord("C6"));
}

TEST(Chords, RecognisesSegmentsWeightedByDuration) {
  // I - vi - IV - V in G, one chord per second, with a passing tone and a drum hit that must not
  // change the answer, and a silent segment at the end.
  const std::vector<std::string> names{"G", "Em", "C", "D7"};
  std::vector<Note> notes;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto n = render(parse_chord(names[i]), static_cast<double>(i), i + 1.0);
    notes.insert(notes.end(), n.begin(), n.end());
  }
  Note passing;  // A for 0.1 s in the G bar
  passing.pitch = 69;
  passing.onset = 0.5;
  passing.offset = 0.6;
  notes.push_back(passing);
  Note drum;
  drum.pitch = 37;
  drum.onset = 1.0;
  drum.offset = 1.9;
  drum.is_drum = true;
  drum.channel = 9;
  notes.push_back(drum);
  const auto got = recognize_chords(notes, {0, 1, 2, 3, 4, 5});
  ASSERT_EQ(got.size(), 5u);
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_TRUE(got[i].has_value()) << i;
    EXPECT_EQ(got[i]->chord, parse_chord(names[i])) << i;
  }
  EXPECT_FALSE(got[4].has_value());
  EXPECT_LT(got[0]->score, 1.0);
  // The profile counts overlap with the window.
  const auto p = pitch_class_profile(notes, 0.5, 1.5);
  EXPECT_DOUBLE_EQ(p[7], 1.0);   // G, in both the G and the Em chord
  EXPECT_DOUBLE_EQ(p[4], 0.5);   // E of Em
  EXPECT_DOUBLE_EQ(p[2], 0.5);   // D of G
  EXPECT_NEAR(p[9], 0.1, 1e-12);  // the passing A
  EXPECT_DOUBLE_EQ(p[1], 0.0);   // the drum is left out
  EXPECT_THROW_MSG(recognize_chords(notes, {0, 1, 1}), "increase strictly");
}

TEST(Chords, SegmentSweepAgreesWithOneWindowAtATime) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> pitch(30, 90);
  std::uniform_real_distribution<double> on(0, 20), len(0.05, 3);
  std::vector<Note> notes;
  for (int i = 0; i < 300; ++i) {
    Note n;
    n.pitch = pitch(rng);
    n.onset = on(rng);
    n.offset = n.onset + len(rng);
    n.is_drum = i % 17 == 0;
    notes.push_back(n);
  }
  std::vector<double> bounds{-1.0};
  std::uniform_real_distribution<double> step(0.05, 0.7);
  while (bounds.back() < 25) bounds.push_back(bounds.back() + step(rng));
  const auto swept = recognize_chords(notes, bounds);
  ASSERT_EQ(swept.size(), bounds.size() - 1);
  int chords = 0;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    const auto one = recognize_chord(notes, bounds[i], bounds[i + 1]);
    ASSERT_EQ(swept[i].has_value(), one.has_value()) << i;
    if (!one) continue;
    ++chords;
    EXPECT_EQ(swept[i]->chord, one->chord) << i;
    EXPECT_NEAR(swept[i]->score, one->score, 1e-12) << i;
  }
  EXPECT_GT(chords, 20);
}

// MMA (the accompaniment generator the corpora use) renders every chord we name in its syntax,
// with slash chords as inversions; we read its MIDI back and recognise each bar.
TEST(Chords, MmaRendersEveryChordWeNameAndWeRecogniseIt) {
  if (!fm::data::mma_available()) GTEST_SKIP() << "mma is not installed (Debian package mma)";
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("fermata_chords_mma_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<Chord> chords;
  for (Q q : all_chord_qualities())
    for (int root = 0; root < 12; ++root) chords.push_back({root, q, (q == Q::Major || q == Q::Dominant7) && root % 3 == 0 ? (root + chord_intervals(q)[1]) % 12 : -1});
  {
    std::ofstream f(dir / "all.mma");
    f << "Tempo 240\nTime 4\nBegin Chord-Test\n Voice Piano1\n Sequence { 1 1 90 }\n Octave 4\nEnd\n";
    for (size_t i = 0; i < chords.size(); ++i) f << i + 1 << " " << to_mma(chords[i]) << "\n";
  }
  const std::string cmd = "cd '" + dir.string() + "' && mma all.mma -f all.mid > mma.log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "mma failed, see " << (dir / "mma.log");
  const auto notes = extract_notes(read_smf((dir / "all.mid").string()));
  ChordRecognitionOptions all;
  all.vocabulary = all_chord_qualities();
  std::vector<double> bars;
  for (size_t i = 0; i <= chords.size(); ++i) bars.push_back(i * 1.0);  // 4 beats at 240 bpm
  const auto got = recognize_chords(notes, bars, all);
  for (size_t i = 0; i < chords.size(); ++i) {
    ASSERT_TRUE(got[i].has_value()) << to_mma(chords[i]);
    Chord want = chords[i];
    want.bass = -1;
    EXPECT_EQ(pc_set(got[i]->chord), pc_set(want)) << to_mma(chords[i]);
    if (chords[i].bass < 0) EXPECT_EQ(got[i]->chord, want) << to_mma(chords[i]) << " got " << format_chord(got[i]->chord);
    else EXPECT_EQ(got[i]->chord.root, want.root) << to_mma(chords[i]);  // inversions keep the root
  }
  fs::remove_all(dir);
}
