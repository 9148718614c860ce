#include <gtest/gtest.h>

#include "data/mma.h"
#include "midi/notes.h"
#include "support/test_support.h"

namespace {
using namespace fm;

#define SKIP_WITHOUT_MMA() \
  if (!data::mma_available()) GTEST_SKIP() << "mma is not installed (Debian package mma)"

TEST(Mma, SourceHasTheGrooveTempoSeedAndOneChordPerBar) {
  data::MmaSong s{.groove = "BossaNova", .tempo = 132, .chords = {"CM7", "Am7", "Dm7", "G7"}, .seed = 5};
  const std::string src = data::mma_source(s);
  EXPECT_NE(src.find("Groove BossaNova\n"), std::string::npos);
  EXPECT_NE(src.find("Tempo 132.00\n"), std::string::npos);
  EXPECT_NE(src.find("RndSeed 5\n"), std::string::npos);
  EXPECT_NE(src.find("4 G7\n"), std::string::npos);
}

TEST(Mma, NamesThatCouldInjectCommandsAreRefused) {
  data::MmaSong s{.groove = "Swing\nInclude /etc/passwd", .chords = {"C"}};
  EXPECT_THROW_MSG(data::mma_source(s), "is not an MMA groove name");
  s.groove = "Swing";
  s.chords = {"C", "G7 ; rm -rf /"};
  EXPECT_THROW_MSG(data::mma_source(s), "bar 2");
  s.chords = {};
  EXPECT_THROW_MSG(data::mma_source(s), "no bars");
  s.chords = {"C"};
  s.tempo = 1000;
  EXPECT_THROW_MSG(data::mma_source(s), "tempo 1000");
}

TEST(Mma, WritesMidiWithDrumsBassAndChords) {
  SKIP_WITHOUT_MMA();
  data::MmaSong s{.groove = "Swing", .tempo = 120, .chords = {"C", "Am", "Dm7", "G7"}, .seed = 1};
  const midi::File f = data::run_mma(s);
  const auto notes = midi::extract_notes(f);
  ASSERT_FALSE(notes.empty());
  bool drums = false, pitched = false;
  double last = 0;
  for (const auto& n : notes) {
    drums |= n.is_drum;
    pitched |= !n.is_drum;
    last = std::max(last, n.offset);
  }
  EXPECT_TRUE(drums);
  EXPECT_TRUE(pitched);
  // Four bars of 4/4 at 120 bpm: 8 s.
  EXPECT_NEAR(last, 8.0, 0.6);
}

TEST(Mma, SameSeedSameMidi) {
  SKIP_WITHOUT_MMA();
  data::MmaSong s{.groove = "BossaNova", .tempo = 128, .chords = {"Dm7", "G7", "CM7", "CM7"}, .seed = 77};
  EXPECT_EQ(data::run_mma(s), data::run_mma(s));
}

TEST(Mma, UnknownGrooveErrorNamesItAndQuotesMma) {
  SKIP_WITHOUT_MMA();
  data::MmaSong s{.groove = "NoSuchGroove42", .chords = {"C", "F"}};
  EXPECT_THROW_MSG(data::run_mma(s), "NoSuchGroove42");
  try {
    data::run_mma(s);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mma printed"), std::string::npos) << e.what();
  }
}

}  // namespace
