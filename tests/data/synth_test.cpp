#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "data/synth.h"
#include "midi/notes.h"
#include "midi/smf.h"
#include "support/test_support.h"

namespace {
using namespace fm;

midi::File one_note(int program, int pitch, double bpm) {
  midi::File f;
  f.format = 0;
  f.ticks_per_quarter = 480;
  midi::Track t;
  t.events.push_back(midi::tempo_bpm(0, bpm));
  t.events.push_back(midi::program_change(0, 0, program));
  t.events.push_back(midi::note_on(480, 0, pitch, 100));   // one beat in
  t.events.push_back(midi::note_off(960, 0, pitch));
  f.tracks.push_back(t);
  return f;
}

double energy(const std::vector<float>& x, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < std::min(to, x.size()); ++i) s += double(x[i]) * x[i];
  return s;
}

TEST(Synth, RendersAtTheTempoMappedTimeWithTheRightLength) {
  auto synth = data::SynthPool::acquire({.sample_rate = 22050});
  // 60 bpm: the note starts at 1 s and ends at 2 s; the file lasts 2 s, plus a 0.5 s tail.
  const auto audio = synth->render(one_note(0, 60, 60), 0.5);
  ASSERT_EQ(audio.size(), size_t(2.5 * 22050));
  EXPECT_EQ(energy(audio, 0, 22050 - 1), 0.0);  // silence before the onset
  EXPECT_GT(energy(audio, 22050, 2 * 22050), 1.0);
  // Sound from the first 64-frame block boundary after the onset, within 10 ms.
  EXPECT_GT(energy(audio, 22050, 22050 + 220), 0.0);
}

TEST(Synth, SameFileRendersToTheSameSamplesAndResetsBetweenFiles) {
  auto synth = data::SynthPool::acquire({.sample_rate = 16000});
  // An odd length leaves FluidSynth mid-block: the next file must not hear it.
  synth->render(one_note(0, 72, 97), 0.123);
  const auto a = synth->render(one_note(40, 67, 120));
  const auto other = synth->render(one_note(56, 50, 90));  // changes program and leaves a tail
  const auto b = synth->render(one_note(40, 67, 120));
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a, b);
  EXPECT_NE(a.size(), other.size());
  data::Synthesizer fresh({.sample_rate = 16000});
  EXPECT_EQ(fresh.render(one_note(40, 67, 120)), a);
}

TEST(Synth, ProgramsSoundDifferentAndDrumsUseChannelTen) {
  auto synth = data::SynthPool::acquire({.sample_rate = 22050});
  const auto piano = synth->render(one_note(0, 60, 120));
  const auto flute = synth->render(one_note(73, 60, 120));
  EXPECT_NE(piano, flute);
  std::vector<midi::Note> drums(1);
  drums[0].pitch = 38;  // snare
  drums[0].channel = 9;
  drums[0].is_drum = true;
  drums[0].onset = 0.1;
  drums[0].offset = 0.3;
  const auto snare = synth->render(drums, 0.2);
  EXPECT_GT(energy(snare, 0, snare.size()), 0.1);
}

TEST(Synth, PoolReusesLoadedSynths) {
  { auto s = data::SynthPool::acquire({.sample_rate = 22050}); }
  const auto before = data::SynthPool::created();
  for (int i = 0; i < 3; ++i) {
    Tensor t = data::render_midi(one_note(0, 60, 120), {.sample_rate = 22050}, 0.1);
    EXPECT_EQ(t.dim(), 1);
    EXPECT_EQ(t.dtype(), DType::Float32);
  }
  EXPECT_EQ(data::SynthPool::created(), before);
}

TEST(Synth, BadOptionsAndMissingSoundfontAreClearErrors) {
  EXPECT_THROW_MSG(data::Synthesizer({.sample_rate = 1000}), "sample_rate 1000");
  EXPECT_THROW_MSG(data::Synthesizer({.soundfont = "/nonexistent/x.sf2"}), "/nonexistent/x.sf2");
  auto synth = data::SynthPool::acquire({.sample_rate = 22050});
  EXPECT_THROW_MSG(synth->render(one_note(0, 60, 120), -1), "tail_seconds");
}

}  // namespace
