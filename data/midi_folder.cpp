#include "data/midi_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "midi/smf.h"
#include "tensor/error.h"
#include "tensor/factory.h"
#include "tensor/tensor.h"

namespace fm::data {

namespace fs = std::filesystem;

namespace {

bool is_midi_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".mid" || ext == ".midi";
}

Tensor crop_rows(const Tensor& t, int64_t rows) {
  if (rows < 0 || t.size(0) <= rows) return t;
  const int64_t cols = t.size(1);
  auto v = t.to_vector<float>();
  v.resize(static_cast<size_t>(rows * cols));
  return from_vector(v, {rows, cols});
}

}  // namespace

std::vector<std::string> find_midi_files(const std::string& root) {
  std::error_code ec;
  FM_CHECK(fs::is_directory(root, ec), "data: MidiFolder: '", root, "' is not a directory");
  std::vector<std::string> out;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  FM_CHECK(!ec, "data: MidiFolder: cannot list '", root, "': ", ec.message());
  for (; it != end; it.increment(ec)) {
    FM_CHECK(!ec, "data: MidiFolder: listing '", root, "': ", ec.message());
    std::error_code fec;
    if (it->is_regular_file(fec) && is_midi_name(it->path())) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

MidiFolder::MidiFolder(const std::string& root, MidiFolderOptions options) : root_(root), options_(options) {
  FM_CHECK(options_.max_length >= -1, "data: MidiFolder: max_length ", options_.max_length,
           " (expected >= 0, or -1 to keep every token)");
  FM_CHECK(options_.max_frames >= -1, "data: MidiFolder: max_frames ", options_.max_frames,
           " (expected >= 0, or -1 to keep every frame)");
  // Bad roll options are reported here, not by the first get() in a loader thread.
  if (options_.piano_roll) midi::notes_to_piano_roll({}, options_.roll);
  for (const std::string& path : find_midi_files(root)) {
    try {
      File f;
      f.path = path;
      f.notes = midi::extract_notes(midi::read_smf(path));
      f.tokens = midi::encode_events(f.notes, options_.events);
      files_.push_back(std::move(f));
    } catch (const Error& e) {
      if (!options_.skip_bad_files) fail("data: MidiFolder: cannot read '", path, "': ", e.what());
      failures_.push_back({path, e.what()});
    }
  }
}

const MidiFolder::File& MidiFolder::file(int64_t index) const {
  FM_CHECK(index >= 0 && index < size(), "data: MidiFolder: index ", index, " outside 0..", size() - 1, " (",
           size(), " files under '", root_, "')");
  return files_[static_cast<size_t>(index)];
}

const std::string& MidiFolder::path(int64_t index) const { return file(index).path; }
const std::vector<midi::Note>& MidiFolder::notes(int64_t index) const { return file(index).notes; }

Example MidiFolder::get(int64_t index) const {
  const File& f = file(index);
  Example ex;
  const size_t n = options_.max_length >= 0 ? std::min(f.tokens.size(), static_cast<size_t>(options_.max_length))
                                            : f.tokens.size();
  ex["tokens"] = from_vector(std::vector<int64_t>(f.tokens.begin(), f.tokens.begin() + static_cast<ptrdiff_t>(n)),
                             {static_cast<int64_t>(n)});
  if (options_.piano_roll) {
    const midi::PianoRoll r = midi::notes_to_piano_roll(f.notes, options_.roll);
    ex["frames"] = crop_rows(r.frames, options_.max_frames);
    ex["onsets"] = crop_rows(r.onsets, options_.max_frames);
    ex["offsets"] = crop_rows(r.offsets, options_.max_frames);
    ex["velocities"] = crop_rows(r.velocities, options_.max_frames);
  }
  return ex;
}

}  // namespace fm::data
