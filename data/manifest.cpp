#include "data/manifest.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tensor/error.h"

namespace fm::data {
namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

namespace {

ordered_json parse_object(const std::string& text, const std::string& what) {
  ordered_json j = ordered_json::parse(text, nullptr, false);
  FM_CHECK(!j.is_discarded() && j.is_object(), "manifest: ", what, " is not a JSON object: ", text.substr(0, 200));
  return j;
}

template <class T>
T get_field(const ordered_json& j, const char* key, const std::string& where) {
  FM_CHECK(j.contains(key), "manifest: ", where, ": missing field '", key, "'");
  try {
    return j.at(key).get<T>();
  } catch (const std::exception& e) {
    fm::fail("manifest: ", where, ": field '", key, "' has the wrong type (", e.what(), ")");
  }
}

}  // namespace

int64_t Manifest::count(const std::string& split) const {
  int64_t n = 0;
  for (const auto& it : items) n += it.split == split;
  return n;
}

std::string manifest_path(const std::string& dir) { return (fs::path(dir) / "manifest.json").string(); }

void write_manifest(const Manifest& m, const std::string& path) {
  ordered_json j;
  j["format"] = "fermata-corpus";
  j["version"] = m.version;
  j["corpus"] = m.corpus;
  j["size"] = m.size;
  j["seed"] = m.seed;
  j["sample_rate"] = m.sample_rate;
  j["settings"] = parse_object(m.settings, "settings");
  j["classes"] = m.classes;
  ordered_json splits = ordered_json::object();
  for (const char* s : {"train", "valid", "test"}) splits[s] = m.count(s);
  j["splits"] = splits;
  ordered_json items = ordered_json::array();
  for (const auto& it : m.items) {
    ordered_json e;
    e["id"] = it.id;
    e["file"] = it.file;
    e["split"] = it.split;
    e["label"] = it.label;
    e["label_index"] = it.label_index;
    e["group"] = it.group;
    e["files"] = it.files;
    e["file_bytes"] = it.file_bytes;
    e["file_hash"] = it.file_hash;
    e["params"] = parse_object(it.params, "params of " + it.id);
    e["extra"] = parse_object(it.extra, "extra of " + it.id);
    items.push_back(std::move(e));
  }
  j["items"] = std::move(items);
  const std::string text = j.dump(1) + "\n";
  const fs::path target(path);
  const fs::path tmp = target.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    FM_CHECK(out.good(), "manifest: cannot write ", tmp.string());
    out << text;
    out.flush();
    FM_CHECK(out.good(), "manifest: writing ", tmp.string(), " failed (disk full?)");
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fm::fail("manifest: cannot rename the new manifest onto ", path);
  }
}

Manifest read_manifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FM_CHECK(in.good(), "manifest: cannot open ", path, " (render the corpus first: fermata data render)");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_manifest(text, path);
}

Manifest parse_manifest(const std::string& text, const std::string& path) {
  ordered_json j = ordered_json::parse(text, nullptr, false);
  FM_CHECK(!j.is_discarded(), "manifest: ", path, " is not valid JSON");
  FM_CHECK(j.is_object() && j.contains("format") && j["format"].is_string() && j["format"] == "fermata-corpus",
           "manifest: ", path, " is not a fermata corpus manifest (no \"format\": \"fermata-corpus\")");
  Manifest m;
  m.version = get_field<int>(j, "version", path);
  FM_CHECK(m.version == 1, "manifest: ", path, ": version ", m.version, " is not supported (expected 1)");
  m.corpus = get_field<std::string>(j, "corpus", path);
  m.size = get_field<std::string>(j, "size", path);
  m.seed = get_field<uint64_t>(j, "seed", path);
  m.sample_rate = get_field<int64_t>(j, "sample_rate", path);
  FM_CHECK(!j.contains("settings") || j["settings"].is_object(), "manifest: ", path, ": 'settings' is not an object");
  m.settings = j.contains("settings") ? j["settings"].dump() : "{}";
  m.classes = get_field<std::vector<std::string>>(j, "classes", path);
  FM_CHECK(j.contains("items") && j["items"].is_array(), "manifest: ", path, ": missing array 'items'");
  std::set<std::string> ids;
  for (size_t i = 0; i < j["items"].size(); ++i) {
    const auto& e = j["items"][i];
    const std::string where = path + ": items[" + std::to_string(i) + "]";
    FM_CHECK(e.is_object(), "manifest: ", where, " is not an object");
    ManifestItem it;
    it.id = get_field<std::string>(e, "id", where);
    it.file = get_field<std::string>(e, "file", where);
    it.split = get_field<std::string>(e, "split", where);
    it.label = get_field<std::string>(e, "label", where);
    it.label_index = get_field<int64_t>(e, "label_index", where);
    it.group = get_field<std::string>(e, "group", where);
    it.files = e.contains("files") ? get_field<std::map<std::string, std::string>>(e, "files", where)
                                   : std::map<std::string, std::string>{};
    it.file_bytes = get_field<int64_t>(e, "file_bytes", where);
    it.file_hash = get_field<std::string>(e, "file_hash", where);
    for (const char* key : {"params", "extra"})
      FM_CHECK(!e.contains(key) || e[key].is_object(), "manifest: ", where, ": field '", key, "' is not an object");
    it.params = e.contains("params") ? e["params"].dump() : "{}";
    it.extra = e.contains("extra") ? e["extra"].dump() : "{}";
    FM_CHECK(it.label_index >= -1 && it.label_index < static_cast<int64_t>(m.classes.size()), "manifest: ", where,
             ": label_index ", it.label_index, " is outside the ", m.classes.size(), " classes");
    FM_CHECK(it.file.find("..") == std::string::npos && !it.file.empty() && it.file[0] != '/', "manifest: ", where,
             ": file '", it.file, "' must be a relative path inside the corpus");
    for (const auto& [role, f] : it.files)
      FM_CHECK(f.find("..") == std::string::npos && !f.empty() && f[0] != '/', "manifest: ", where, ": file '", f,
               "' (", role, ") must be a relative path inside the corpus");
    FM_CHECK(it.split == "train" || it.split == "valid" || it.split == "test", "manifest: ", where, ": split '",
             it.split, "' is not train, valid or test");
    FM_CHECK(ids.insert(it.id).second, "manifest: ", where, ": id '", it.id, "' appears twice");
    m.items.push_back(std::move(it));
  }
  return m;
}

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FM_CHECK(in.good(), "file_hash: cannot open ", path);
  uint64_t h = 14695981039346656037ull;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    const auto n = in.gcount();
    for (std::streamsize i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 1099511628211ull;
    }
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

bool item_files_match(const ManifestItem& item, const std::string& dir) {
  std::error_code ec;
  const fs::path main = fs::path(dir) / item.file;
  if (!fs::is_regular_file(main, ec)) return false;
  if (static_cast<int64_t>(fs::file_size(main, ec)) != item.file_bytes || ec) return false;
  for (const auto& [role, f] : item.files)
    if (!fs::is_regular_file(fs::path(dir) / f, ec)) return false;
  return file_hash(main.string()) == item.file_hash;
}

}  // namespace fm::data
