#include "tensor/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace fm {

static_assert(std::endian::native == std::endian::little,
              "safetensors I/O copies raw little-endian bytes; a big-endian host needs byte swaps");

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr uint64_t kI64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// ---------------------------------------------------------------- dtypes

const char* safetensors_dtype(DType t) {
  switch (t) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

bool parse_dtype(std::string_view s, DType* out) {
  if (s == "F32") *out = DType::Float32;
  else if (s == "F64") *out = DType::Float64;
  else if (s == "I64") *out = DType::Int64;
  else if (s == "BOOL") *out = DType::Bool;
  else return false;
  return true;
}

// Dtypes of the format that fermata does not (yet) hold.
bool known_unsupported_dtype(std::string_view s) {
  static constexpr std::string_view names[] = {"F16",  "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0",
                                               "F6_E2M3", "F6_E3M2", "F4",  "I32",  "I16",
                                               "I8",   "U64",  "U32",     "U16",     "U8",
                                               "C64",  "C128"};
  return std::find(std::begin(names), std::end(names), s) != std::end(names);
}

// ---------------------------------------------------------------- header parsing

struct Entry {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

struct Header {
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
};

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  template <class... A>
  [[noreturn]] void fail(const A&... parts) const {
    ::fm::fail("safetensors: ", source_, ": ", parts...);
  }

  // Checks the 8-byte prefix of a file of `total` bytes whose prefix holds `n`; returns n.
  uint64_t check_prefix(uint64_t total, const uint8_t* prefix) const {
    uint64_t n = 0;
    std::memcpy(&n, prefix, 8);  // little-endian host (static_assert above)
    if (n > kSafetensorsMaxHeaderBytes)
      fail("header length ", n, " exceeds the limit of ", kSafetensorsMaxHeaderBytes, " bytes");
    if (n > total - 8)
      fail("header length ", n, " is longer than the file: only ", total - 8,
           " bytes follow the 8-byte length prefix");
    return n;
  }

  void check_size(uint64_t total) const {
    if (total < 8) fail("file is shorter than 8 bytes (", total, " bytes), too short for the header length");
  }

  Header parse_header(const char* text, size_t n, uint64_t data_size) const {
    json root = parse_json(text, n);
    if (!root.is_object()) fail("the header is not a JSON object (found a JSON ", root.type_name(), ")");
    Header h;
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (it.key() == "__metadata__") {
        h.metadata = parse_metadata(it.value());
        continue;
      }
      h.entries.push_back(parse_entry(it.key(), it.value(), data_size));
    }
    check_coverage(h.entries, data_size);
    return h;
  }

  // A BOOL tensor's bytes must all be 0 or 1 (anything else is not a valid bool).
  void check_bools(const Entry& e, const Tensor& t) const {
    if (e.dtype != DType::Bool || t.numel() == 0) return;
    const auto* p = static_cast<const uint8_t*>(t.raw_data());
    for (int64_t i = 0; i < t.numel(); ++i)
      if (p[i] > 1)
        fail("BOOL tensor '", e.name, "' holds byte value ", static_cast<int>(p[i]), " at element ", i,
             " (expected 0 or 1)");
  }

 private:
  json parse_json(const char* text, size_t n) const {
    // nlohmann merges duplicate keys silently (the last one wins), so the parse callback keeps
    // the keys of every open object and reports the first repeat. It also caps the nesting:
    // a safetensors header is an object of objects of arrays of numbers.
    std::vector<std::set<std::string>> open_objects;
    std::string duplicate, duplicate_parent, top_key;
    auto cb = [&](int depth, json::parse_event_t ev, json& parsed) -> bool {
      switch (ev) {
        case json::parse_event_t::object_start:
        case json::parse_event_t::array_start:
          if (depth > 2)
            fail("the header JSON nests deeper than a safetensors header can (an object or array at depth ",
                 depth + 1, ")");
          if (ev == json::parse_event_t::object_start) open_objects.emplace_back();
          break;
        case json::parse_event_t::object_end:
          if (!open_objects.empty()) open_objects.pop_back();
          break;
        case json::parse_event_t::key: {
          if (open_objects.empty() || !parsed.is_string()) break;
          const std::string& key = parsed.get_ref<const std::string&>();
          if (depth <= 1) top_key = key;
          if (!open_objects.back().insert(key).second && duplicate.empty()) {
            duplicate = key;
            duplicate_parent = depth <= 1 ? "the header (two tensors or metadata entries share a name)"
                                          : "'" + top_key + "'";
          }
          break;
        }
        default: break;
      }
      return true;
    };
    json root;
    try {
      root = json::parse(text, text + n, cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
    } catch (const json::exception& e) {
      fail("the header is not valid JSON: ", e.what());
    }
    if (!duplicate.empty()) fail("duplicate key '", duplicate, "' in ", duplicate_parent);
    return root;
  }

  std::map<std::string, std::string> parse_metadata(const json& v) const {
    if (!v.is_object()) fail("__metadata__ must be a JSON object of strings (found a JSON ", v.type_name(), ")");
    std::map<std::string, std::string> out;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!it.value().is_string())
        fail("__metadata__ value for key '", it.key(), "' must be a string (found a JSON ",
             it.value().type_name(), ")");
      out.emplace(it.key(), it.value().get<std::string>());
    }
    return out;
  }

  Entry parse_entry(const std::string& name, const json& v, uint64_t data_size) const {
    if (!v.is_object())
      fail("entry '", name, "' is not a JSON object (found a JSON ", v.type_name(), ")");
    Entry e;
    e.name = name;
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!v.contains(field)) fail("entry '", name, "' has no \"", field, "\" field");

    const json& dt = v.at("dtype");
    if (!dt.is_string()) fail("entry '", name, "': dtype must be a string (found a JSON ", dt.type_name(), ")");
    const std::string& ds = dt.get_ref<const std::string&>();
    if (!parse_dtype(ds, &e.dtype)) {
      if (known_unsupported_dtype(ds))
        fail("entry '", name, "': dtype ", ds, " is not supported (fermata reads F32, F64, I64 and BOOL)");
      fail("entry '", name, "': unknown dtype '", ds, "' (expected F32, F64, I64 or BOOL)");
    }

    const json& sh = v.at("shape");
    if (!sh.is_array()) fail("entry '", name, "': shape must be an array (found a JSON ", sh.type_name(), ")");
    // numel * element_size, and the same with zero sizes counted as 1 (the strides of an empty
    // tensor must not overflow either), both checked against int64.
    uint64_t bytes = element_size(e.dtype), span = element_size(e.dtype);
    for (const json& d : sh) {
      if (d.is_number_integer() && !d.is_number_unsigned())
        fail("entry '", name, "': shape entry ", d.get<int64_t>(), " is negative");
      if (!d.is_number_unsigned())
        fail("entry '", name, "': shape entries must be non-negative integers (found ", d.dump(), ")");
      const uint64_t s = d.get<uint64_t>();
      if (s > kI64Max) fail("entry '", name, "': shape entry ", s, " overflows int64");
      const uint64_t s1 = std::max<uint64_t>(s, 1);
      if (span > kI64Max / s1)
        fail("entry '", name, "': shape ", sh.dump(), " overflows int64 when multiplied out (",
             safetensors_dtype(e.dtype), ")");
      span *= s1;
      bytes *= s;
      e.shape.push_back(static_cast<int64_t>(s));
    }

    const json& off = v.at("data_offsets");
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail("entry '", name, "': data_offsets must be two non-negative integers (found ", off.dump(), ")");
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    if (e.begin > e.end) fail("entry '", name, "': data_offsets begin ", e.begin, " > end ", e.end);
    if (e.end > data_size)
      fail("entry '", name, "': data_offsets end ", e.end, " is beyond the data section of ", data_size, " bytes");
    if (e.end - e.begin != bytes)
      fail("entry '", name, "': data_offsets [", e.begin, ", ", e.end, "] hold ", e.end - e.begin,
           " bytes but dtype ", safetensors_dtype(e.dtype), " shape ", shape_str(e.shape), " needs ",
           bytes, " bytes (size mismatch)");
    return e;
  }

  // The tensors must tile the data section: sorted by offset, each begins where the last ended,
  // and the last ends at the end of the file.
  void check_coverage(const std::vector<Entry>& entries, uint64_t data_size) const {
    std::vector<const Entry*> order;
    order.reserve(entries.size());
    for (const Entry& e : entries) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
      return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    uint64_t cursor = 0;
    const Entry* prev = nullptr;
    for (const Entry* e : order) {
      if (e->begin < cursor)
        fail("tensors '", prev->name, "' [", prev->begin, ", ", prev->end, ") and '", e->name, "' [",
             e->begin, ", ", e->end, ") overlap in the data section");
      if (e->begin > cursor)
        fail("gap in the data section: bytes [", cursor, ", ", e->begin,
             ") belong to no tensor (offsets must be contiguous)");
      cursor = e->end;
      prev = e;
    }
    if (cursor != data_size)
      fail("the tensors cover ", cursor, " bytes but the data section holds ", data_size,
           " bytes (offsets must cover it exactly)");
  }

  std::string source_;
};

// Parses the header and fills each tensor's bytes through `fill(entry, destination)`.
SafetensorsFile build(const Reader& r, const Header& h,
                      const std::function<void(const Entry&, void*)>& fill) {
  SafetensorsFile out;
  out.metadata = h.metadata;
  for (const Entry& e : h.entries) {
    Tensor t = empty(e.shape, {.dtype = e.dtype});
    if (e.end > e.begin) fill(e, t.raw_data());
    r.check_bools(e, t);
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

// ---------------------------------------------------------------- file helpers

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int close() {
    int rc = 0;
    if (fd_ >= 0) rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string errno_str() { return std::strerror(errno); }

// Reads exactly n bytes at `offset`; false when the file ends first.
bool pread_all(int fd, void* dst, uint64_t n, uint64_t offset, const Reader& r) {
  auto* p = static_cast<char*>(dst);
  while (n > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, 1u << 30));
    const ssize_t got = ::pread(fd, p, chunk, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      r.fail("read failed: ", errno_str());
    }
    if (got == 0) return false;
    p += got;
    n -= static_cast<uint64_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

void write_all(int fd, const void* src, size_t n, const std::string& path) {
  const auto* p = static_cast<const char*>(src);
  while (n > 0) {
    const ssize_t put = ::write(fd, p, std::min<size_t>(n, 1u << 30));
    if (put < 0) {
      if (errno == EINTR) continue;
      fail("save_safetensors: writing '", path, "' failed: ", errno_str());
    }
    p += put;
    n -= static_cast<size_t>(put);
  }
}

// ---------------------------------------------------------------- writing

struct Plan {
  std::string header;  // the JSON, padded with spaces to a multiple of 8 bytes
  std::vector<std::pair<const std::string*, const Tensor*>> tensors;  // in name order
};

Plan plan(const std::map<std::string, Tensor>& tensors, const std::map<std::string, std::string>& metadata) {
  ordered_json h = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json m = ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    h["__metadata__"] = std::move(m);
  }
  Plan p;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    FM_CHECK(name != "__metadata__", "save_safetensors: '__metadata__' is reserved and cannot name a tensor");
    FM_CHECK(t.defined(), "save_safetensors: tensor '", name, "' is undefined");
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    h[name] = ordered_json{{"dtype", safetensors_dtype(t.dtype())},
                           {"shape", t.sizes()},
                           {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    p.tensors.emplace_back(&name, &t);
  }
  try {
    p.header = h.dump();
  } catch (const nlohmann::json::exception& e) {
    fail("save_safetensors: a tensor name or metadata string is not valid UTF-8 (", e.what(), ")");
  }
  p.header.append((8 - p.header.size() % 8) % 8, ' ');
  return p;
}

// Streams the file: the length prefix, the header, then each tensor's bytes (contiguous, CPU).
void emit(const Plan& p, const std::function<void(const void*, size_t)>& put) {
  const uint64_t n = p.header.size();
  put(&n, 8);
  put(p.header.data(), p.header.size());
  for (const auto& [name, t] : p.tensors) {
    if (t->numel() == 0) continue;
    Tensor c = contiguous_raw(to_raw(*t, t->dtype(), Device::cpu()));
    put(c.raw_data(), static_cast<size_t>(c.numel()) * c.element_size());
  }
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

// ---------------------------------------------------------------- public API

SafetensorsFile read_safetensors_from_bytes(const uint8_t* data, size_t size, const std::string& source) {
  const Reader r(source);
  r.check_size(size);
  const uint64_t n = r.check_prefix(size, data);
  const uint8_t* body = data + 8 + n;
  const uint64_t data_size = size - 8 - n;
  const Header h = r.parse_header(reinterpret_cast<const char*>(data + 8), n, data_size);
  return build(r, h, [&](const Entry& e, void* dst) { std::memcpy(dst, body + e.begin, e.end - e.begin); });
}

std::map<std::string, Tensor> load_safetensors_from_bytes(const uint8_t* data, size_t size) {
  return read_safetensors_from_bytes(data, size).tensors;
}

SafetensorsFile read_safetensors(const std::string& path) {
  const Reader r("'" + path + "'");
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) r.fail("cannot open: ", errno_str());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) r.fail("cannot stat: ", errno_str());
  if (!S_ISREG(st.st_mode)) r.fail("not a regular file");
  const uint64_t total = static_cast<uint64_t>(st.st_size);
  r.check_size(total);
  uint8_t prefix[8];
  if (!pread_all(fd.get(), prefix, 8, 0, r)) r.fail("the file ended while reading the header length");
  const uint64_t n = r.check_prefix(total, prefix);  // n <= 100 MB and inside the file
  std::vector<char> text(static_cast<size_t>(n));
  if (!pread_all(fd.get(), text.data(), n, 8, r)) r.fail("the file ended inside the header");
  const uint64_t data_start = 8 + n;
  const Header h = r.parse_header(text.data(), text.size(), total - data_start);
  // Sizes were checked against the stat'ed size; a file that shrinks meanwhile is caught here.
  return build(r, h, [&](const Entry& e, void* dst) {
    if (!pread_all(fd.get(), dst, e.end - e.begin, data_start + e.begin, r))
      r.fail("the file ended inside tensor '", e.name, "' (did it change while being read?)");
  });
}

std::map<std::string, Tensor> load_safetensors(const std::string& path) { return read_safetensors(path).tensors; }

std::vector<uint8_t> save_safetensors_to_bytes(const std::map<std::string, Tensor>& tensors,
                                               const std::map<std::string, std::string>& metadata) {
  const Plan p = plan(tensors, metadata);
  size_t total = 8 + p.header.size();
  for (const auto& [name, t] : p.tensors) total += static_cast<size_t>(t->numel()) * t->element_size();
  std::vector<uint8_t> out(total);
  size_t at = 0;
  emit(p, [&](const void* src, size_t n) {
    FM_CHECK(n <= out.size() - at, "save_safetensors_to_bytes: internal size mismatch");
    std::memcpy(out.data() + at, src, n);
    at += n;
  });
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const Plan p = plan(tensors, metadata);  // validates before anything touches the disk

  // A fresh temporary name next to the target (same file system, so rename is atomic). O_EXCL
  // with mode 0666 lets the umask decide the permissions, as for any new file.
  static std::atomic<uint64_t> counter{0};
  std::string tmp;
  int raw_fd = -1;
  for (int attempt = 0; attempt < 100 && raw_fd < 0; ++attempt) {
    const auto tick = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1)) + "." +
          std::to_string(tick % 1000000);
    raw_fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (raw_fd < 0 && errno != EEXIST)
      fail("save_safetensors: cannot create a temporary file next to '", path, "': ", errno_str());
  }
  if (raw_fd < 0) fail("save_safetensors: cannot find a free temporary name next to '", path, "'");
  Fd fd(raw_fd);
  try {
    emit(p, [&](const void* src, size_t n) { write_all(fd.get(), src, n, path); });
    if (::fsync(fd.get()) != 0) fail("save_safetensors: fsync of '", tmp, "' failed: ", errno_str());
    if (fd.close() != 0) fail("save_safetensors: closing '", tmp, "' failed: ", errno_str());
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      fail("save_safetensors: cannot rename the temporary file over '", path, "': ", errno_str());
  } catch (...) {
    fd.close();
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable (best effort: some file systems refuse to fsync a directory).
  Fd dir(::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
}

}  // namespace fm
