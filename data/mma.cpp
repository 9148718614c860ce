#include "data/mma.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tensor/error.h"

extern char** environ;

namespace fm::data {
namespace fs = std::filesystem;

namespace {

bool name_ok(const std::string& s, const std::string& extra) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && extra.find(static_cast<char>(c)) == std::string::npos) return false;
  return true;
}

// Groove names: letters, digits, '-', '&' (R&B), '_'; chords: MMA's chord syntax also uses
// '#', '+', '/', '(', ')', '!' (z!), '@' and '.'.
void check_song(const MmaSong& song) {
  FM_CHECK(name_ok(song.groove, "-&_"), "mma: groove name '", song.groove,
           "' is not an MMA groove name (letters, digits, '-', '&', '_')");
  FM_CHECK(std::isfinite(song.tempo) && song.tempo >= 20 && song.tempo <= 400, "mma: groove ", song.groove, ": tempo ",
           song.tempo, " is outside 20..400 bpm");
  FM_CHECK(!song.chords.empty(), "mma: groove ", song.groove, ": the song has no bars");
  FM_CHECK(song.chords.size() <= 1000, "mma: groove ", song.groove, ": ", song.chords.size(),
           " bars is more than 1000");
  for (size_t i = 0; i < song.chords.size(); ++i)
    FM_CHECK(name_ok(song.chords[i], "#+-/()!@.&"), "mma: groove ", song.groove, ": bar ", i + 1, ": chord '",
             song.chords[i], "' is not an MMA chord name");
  FM_CHECK(song.key.empty() || name_ok(song.key, "#"), "mma: groove ", song.groove, ": key '", song.key,
           "' is not an MMA key name");
}

std::string read_text(const fs::path& p, size_t max_bytes = 4000) {
  std::ifstream in(p, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
  return s;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "fermata-mma-XXXXXX").string();
    FM_CHECK(::mkdtemp(tmpl.data()) != nullptr, "mma: cannot create a temporary directory under ",
             fs::temp_directory_path().string());
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Runs argv with stdout and stderr sent to files; returns the exit status (or -1 if it could
// not be started, with errno's text in `why`).
int spawn(const std::vector<std::string>& args, const fs::path& out, const fs::path& err, const fs::path& cwd,
          std::string& why) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    why = std::strerror(rc);
    return -1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      why = std::strerror(errno);
      return -1;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  why = "killed by signal " + std::to_string(WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace

std::string mma_program() {
  if (const char* env = std::getenv("FERMATA_MMA"); env && *env) return env;
  return "mma";
}

bool mma_available() {
  try {
    TempDir dir;
    std::string why;
    return spawn({mma_program(), "-v"}, dir.path / "out", dir.path / "err", {}, why) == 0;
  } catch (const Error&) {
    return false;
  }
}

std::string mma_source(const MmaSong& song) {
  check_song(song);
  std::ostringstream s;
  s << "// written by fermata (data/mma.cpp)\n";
  s << "RndSeed " << song.seed << "\n";
  s << "Groove " << song.groove << "\n";
  if (!song.key.empty()) s << "KeySig " << song.key << "\n";
  char tempo[32];
  std::snprintf(tempo, sizeof tempo, "%.2f", song.tempo);
  s << "Tempo " << tempo << "\n";
  for (size_t i = 0; i < song.chords.size(); ++i) s << (i + 1) << " " << song.chords[i] << "\n";
  return s.str();
}

midi::File run_mma(const MmaSong& song) {
  const std::string source = mma_source(song);
  TempDir dir;
  const fs::path song_path = dir.path / "song.mma";
  const fs::path midi_path = dir.path / "song.mid";
  {
    std::ofstream out(song_path, std::ios::binary);
    out << source;
    FM_CHECK(out.good(), "mma: groove ", song.groove, ": cannot write ", song_path.string());
  }
  std::string why;
  // Relative names, run in the folder: MMA names the first track after the song file, and a
  // temporary folder's random name would make the same song differ from run to run.
  const int rc = spawn({mma_program(), "-f", "song.mid", "song.mma"}, dir.path / "stdout",
                       dir.path / "stderr", dir.path, why);
  FM_CHECK(rc != -1, "mma: groove ", song.groove, ": cannot run '", mma_program(), "': ", why,
           " (install the Debian package mma, or set FERMATA_MMA)");
  // MMA reports errors on stdout and sometimes exits 0 after them, without writing the file.
  const std::string printed = read_text(dir.path / "stdout") + read_text(dir.path / "stderr");
  const bool error_printed = printed.find("Error:") != std::string::npos;
  FM_CHECK(rc == 0 && !error_printed && fs::exists(midi_path), "mma: groove ", song.groove, " failed (exit status ",
           rc, why.empty() ? "" : ", " + why, "); mma printed:\n", printed);
  return midi::read_smf(midi_path.string());
}

}  // namespace fm::data
