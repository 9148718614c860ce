#pragma once
// The manifest of a rendered corpus: manifest.json at the corpus root, holding what was
// generated and how (corpus name, size, seed, the generator's settings), the classes, and one
// entry per item: its files, label, split, the song (group) it was cut from, the generator's
// parameters for it and the hash of its main file.
//
// It is the corpus's contract: loaders read labels and splits from it, and a re-render with the
// same seed reuses the items of a group whose parameters are unchanged and whose files still
// exist with the recorded size and hash (FNV-1a 64). It is written atomically (a temporary file
// in the same folder, then rename), so an interrupted render leaves the previous manifest
// whole. No time stamps: the same seed gives the same bytes.
//
// JSON-valued fields (settings, params, extra) are kept as JSON text so that nlohmann_json
// stays private to the library.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fm::data {

struct ManifestItem {
  std::string id;                            // unique within the corpus
  std::string file;                          // main file, relative to the corpus root
  std::string split;                         // "train", "valid" or "test"
  std::string label;                         // class name ("" when the corpus has none)
  int64_t label_index = -1;                  // index into Manifest::classes
  std::string group;                         // the song it comes from: the unit of splitting
  std::map<std::string, std::string> files;  // other files by role ("midi", "notes", ...)
  std::string params = "{}";                 // generator parameters of its group (JSON)
  std::string extra = "{}";                  // further labels (JSON object)
  int64_t file_bytes = 0;
  std::string file_hash;                     // FNV-1a 64 of the main file, 16 hex digits
  bool operator==(const ManifestItem&) const = default;
};

struct Manifest {
  int version = 1;
  std::string corpus;
  std::string size;
  uint64_t seed = 0;
  int64_t sample_rate = 0;       // 0 for symbolic corpora
  std::string settings = "{}";   // generator settings (JSON object)
  std::vector<std::string> classes;
  std::vector<ManifestItem> items;

  int64_t count(const std::string& split) const;
  bool operator==(const Manifest&) const = default;
};

std::string manifest_path(const std::string& dir);  // dir/manifest.json
void write_manifest(const Manifest& manifest, const std::string& path);
// Throws fm::Error naming the path and the field for a missing or malformed manifest.
Manifest read_manifest(const std::string& path);
// The same from the text of a manifest; `source` names it in errors.
Manifest parse_manifest(const std::string& text, const std::string& source = "<bytes>");

// FNV-1a 64 of a file's bytes as 16 hex digits; throws if it cannot be read.
std::string file_hash(const std::string& path);
// Whether `item`'s main and other files exist under `dir` and the main file has its recorded
// size and hash.
bool item_files_match(const ManifestItem& item, const std::string& dir);

}  // namespace fm::data
