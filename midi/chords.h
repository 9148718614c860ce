#pragma once
// Chord symbols (root and quality), their pitch classes, their names as written on lead sheets
// and in MMA (Musical MIDI Accompaniment), and chord recognition from notes.
//
// Qualities, with the intervals above the root, the name format() writes, the MMA name
// to_mma() writes and the other names parse_chord() accepts:
//   Major       0 4 7         ""       "M"        "M" "maj" "major"
//   Minor       0 3 7         "m"      "m"        "min" "mi" "-"
//   Diminished  0 3 6         "dim"    "mb5"      "o" "°" "dim3" "mb5" "m(b5)"
//   Augmented   0 4 8         "aug"    "aug"      "+" "+5" "#5"
//   Sus2        0 2 7         "sus2"   "sus2"
//   Sus4        0 5 7         "sus4"   "sus4"     "sus"
//   Power       0 7           "5"      "5"
//   Dominant7   0 4 7 10      "7"      "7"        "dom7"
//   Major7      0 4 7 11      "maj7"   "maj7"     "M7" "ma7" "Δ" "Δ7" "j7"
//   Minor7      0 3 7 10      "m7"     "m7"       "min7" "mi7" "-7"
//   Diminished7 0 3 6 9       "dim7"   "dim7"     "o7" "°7"
//   HalfDim7    0 3 6 10      "m7b5"   "m7b5"     "ø" "ø7" "hdim7" "m7-5" "min7b5" "-7b5"
//   Major6      0 4 7 9       "6"      "6"        "M6" "maj6"
//   Minor6      0 3 7 9       "m6"     "m6"       "min6" "-6"
//   MinorMajor7 0 3 7 11      "mM7"    "mM7"      "m(maj7)" "mmaj7" "minmaj7" "-maj7"
//   Augmented7  0 4 8 10      "aug7"   "aug7"     "+7" "7#5" "7+5"
//   Dominant7Sus4 0 5 7 10    "7sus4"  "7sus4"    "7sus"
//   Dominant9   0 4 7 10 2    "9"      "9"
//   Major9      0 4 7 11 2    "maj9"   "maj9"     "M9"
//   Minor9      0 3 7 10 2    "m9"     "m9"       "min9" "-9"
// Note MMA's own "dim" is a diminished SEVENTH (its chord table gives 0 3 6 9), so the triad is
// written "mb5"; parse_chord(..., ChordSyntax::Mma) reads "dim" the MMA way.
//
// Roots: a letter A-G (either case) and any number of '#' or 'b' ('&' is MMA's flat), so "Cb"
// is 11 and "B#" 0. format() spells roots C Db D Eb E F F# G Ab A Bb B (the common lead-sheet
// spelling) unless asked for sharps or flats. A slash chord "C/E" keeps root C and quality
// Major and remembers the bass E (bass = 4); the bass is added to pitch_classes() when it is not
// a chord tone. "N" (no chord) is not a Chord: recognition returns std::nullopt for silence.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "midi/notes.h"

namespace fm::midi {

enum class ChordQuality {
  Major, Minor, Diminished, Augmented, Sus2, Sus4, Power,
  Dominant7, Major7, Minor7, Diminished7, HalfDiminished7, Major6, Minor6, MinorMajor7,
  Augmented7, Dominant7Sus4, Dominant9, Major9, Minor9,
};
inline constexpr int kNumChordQualities = 20;

// Every quality, in the enum's order.
const std::vector<ChordQuality>& all_chord_qualities();
// The intervals above the root, in semitones (0..11), root first.
const std::vector<int>& chord_intervals(ChordQuality q);
// The suffix format() writes ("", "m", "dim", ...) and the one to_mma() writes.
const char* quality_suffix(ChordQuality q);
const char* quality_mma_suffix(ChordQuality q);

struct Chord {
  int root = 0;  // pitch class 0..11, C = 0
  ChordQuality quality = ChordQuality::Major;
  int bass = -1;  // pitch class of a slash bass, or -1
  bool operator==(const Chord&) const = default;
};

enum class ChordSyntax { LeadSheet, Mma };
enum class Spelling { Default, Sharps, Flats };

// "C", "F#m7", "Bbmaj7", "G7", "Ebdim", "Asus4", "C/E", "Dm7/G", "C/Bb". Throws an fm::Error
// naming the text and what was expected.
Chord parse_chord(const std::string& text, ChordSyntax syntax = ChordSyntax::LeadSheet);
std::string format_chord(const Chord& c, Spelling spelling = Spelling::Default);
// The chord in MMA's syntax ("C", "F#m7", "Bbmaj7", "Ebmb5", "C/E"): every chord can be written.
std::string to_mma(const Chord& c);
// "C", "Db", ... for pitch class 0..11.
std::string pitch_class_name(int pitch_class, Spelling spelling = Spelling::Default);

// The sorted pitch classes of the chord (and of its bass).
std::vector<int> pitch_classes(const Chord& c);
// 1 at each of pitch_classes(c), 0 elsewhere.
std::array<float, 12> pitch_class_vector(const Chord& c);
// The chord moved by `semitones` (root and bass, modulo 12).
Chord transpose(const Chord& c, int semitones);

// ----- recognition -----
// A 12-dim pitch-class profile: for each pitch class, the seconds its notes sound inside
// [start, end) (overlap with the window, summed over notes; velocity is not used). Drums are
// left out unless include_drums.
std::array<double, 12> pitch_class_profile(const std::vector<Note>& notes, double start, double end,
                                           bool include_drums = false);

struct ChordRecognitionOptions {
  // The qualities considered (empty: every quality but Power).
  std::vector<ChordQuality> vocabulary;
  // A window whose profile sums to less than this (seconds of sounding notes) is "no chord".
  double min_weight = 1e-6;
  bool include_drums = false;
};

struct ChordMatch {
  Chord chord;
  double score = 0;  // cosine similarity of the profile and the chord's binary template, 0..1
};

// Template matching: the (root, quality) whose binary 12-dim template has the highest cosine
// similarity with the profile. Chords with the same pitch-class set score alike (C6 = Am7,
// Cm7b5 = Ebm6, Csus2 = Gsus4, and the roots of dim7 and aug); such ties go to the candidate
// whose root is `bass_pitch_class` (the lowest sounding note), then to the first quality of the
// vocabulary, then to the lowest root. nullopt when the profile sums to less than min_weight.
std::optional<ChordMatch> match_chord(const std::array<double, 12>& profile, int bass_pitch_class = -1,
                                      const ChordRecognitionOptions& o = {});

// The chord of the notes sounding in [start, end), with the lowest pitch sounding in the window
// as the bass for ties. The returned chord has no slash bass.
std::optional<ChordMatch> recognize_chord(const std::vector<Note>& notes, double start, double end,
                                          const ChordRecognitionOptions& o = {});
// One chord per segment [boundaries[i], boundaries[i+1]) (beats, bars, or any segmentation;
// boundaries strictly increasing): boundaries.size() - 1 results.
std::vector<std::optional<ChordMatch>> recognize_chords(const std::vector<Note>& notes,
                                                        const std::vector<double>& boundaries,
                                                        const ChordRecognitionOptions& o = {});

}  // namespace fm::midi
