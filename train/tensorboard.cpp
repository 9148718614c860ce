#include "train/tensorboard.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "tensor/error.h"

namespace fm::train {

namespace {
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

template <class T>
void put_le(std::string& out, T v) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // the targets fermata builds for are little-endian
  out.append(reinterpret_cast<const char*>(b), sizeof(T));
}

// A length-delimited field (wire type 2).
void put_bytes(std::string& out, int field, std::string_view bytes) {
  put_varint(out, static_cast<uint64_t>(field) << 3 | 2);
  put_varint(out, bytes.size());
  out.append(bytes);
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

std::string encode_scalar_event(double wall_time, int64_t step,
                                const std::vector<std::pair<std::string, float>>& values,
                                const std::string& file_version) {
  std::string ev;
  put_varint(ev, 1 << 3 | 1);  // wall_time, 64-bit
  put_le(ev, wall_time);
  put_varint(ev, 2 << 3 | 0);  // step, varint (negative int64 as 10 bytes, as protobuf does)
  put_varint(ev, static_cast<uint64_t>(step));
  if (!file_version.empty()) put_bytes(ev, 3, file_version);
  if (!values.empty()) {
    std::string summary;
    for (const auto& [tag, v] : values) {
      std::string value;
      put_bytes(value, 1, tag);
      put_varint(value, 2 << 3 | 5);  // simple_value, 32-bit
      put_le(value, v);
      put_bytes(summary, 1, value);
    }
    put_bytes(ev, 5, summary);
  }
  return ev;
}

std::string encode_session_start_event(double wall_time, int64_t step) {
  std::string ev = encode_scalar_event(wall_time, step, {});
  std::string session_log;
  put_varint(session_log, 1 << 3 | 0);  // status
  put_varint(session_log, 1);           // START
  put_bytes(ev, 7, session_log);
  return ev;
}

std::string tfrecord(std::string_view data) {
  std::string rec;
  put_le(rec, static_cast<uint64_t>(data.size()));
  put_le(rec, mask_crc32c(crc32c(rec.data(), 8)));
  rec.append(data);
  put_le(rec, mask_crc32c(crc32c(data.data(), data.size())));
  return rec;
}

SummaryWriter::SummaryWriter(const std::string& log_dir) {
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  FM_CHECK(!ec, "SummaryWriter: cannot create directory '", log_dir, "': ", ec.message());
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  const double now = now_seconds();
  // TensorBoard orders files by name; a suffix keeps two writers started in the same second apart
  std::string base = log_dir + "/events.out.tfevents." + std::to_string(static_cast<int64_t>(now)) + "." + host;
  path_ = base;
  for (int i = 1; std::filesystem::exists(path_); ++i) path_ = base + "." + std::to_string(i);
  file_ = std::fopen(path_.c_str(), "wb");
  FM_CHECK(file_ != nullptr, "SummaryWriter: cannot create '", path_, "': ", std::strerror(errno));
  write_record(encode_scalar_event(now, 0, {}, "brain.Event:2"));
  flush();
}

SummaryWriter::~SummaryWriter() {
  if (file_) std::fclose(file_);
}

void SummaryWriter::write_record(const std::string& event) {
  const std::string rec = tfrecord(event);
  FM_CHECK(std::fwrite(rec.data(), 1, rec.size(), file_) == rec.size(), "SummaryWriter: cannot write to '", path_,
           "': ", std::strerror(errno));
}

void SummaryWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  write_record(encode_scalar_event(now_seconds(), step, {{tag, static_cast<float>(value)}}));
}

void SummaryWriter::add_session_start(int64_t step) { write_record(encode_session_start_event(now_seconds(), step)); }

void SummaryWriter::flush() {
  FM_CHECK(std::fflush(file_) == 0, "SummaryWriter: cannot write to '", path_, "': ", std::strerror(errno));
}

}  // namespace fm::train
