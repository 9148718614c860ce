#pragma once
// TensorBoard event files written without TensorFlow or protobuf: the file is a sequence of
// TFRecords (u64 length, masked CRC32C of the length bytes, the data, masked CRC32C of the data,
// all little-endian), each holding a tensorflow.Event protobuf encoded by hand:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
//   (and Event.session_log = 7: SessionLog { SessionStatus status = 1; }, START = 1)
// The first record carries file_version "brain.Event:2", which TensorBoard requires.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "train/crc32c.h"

namespace fm::train {

// The protobuf bytes of one Event with scalar summaries (or, with `file_version` non-empty, the
// file-version event).
std::string encode_scalar_event(double wall_time, int64_t step,
                                const std::vector<std::pair<std::string, float>>& values,
                                const std::string& file_version = "");
// The bytes of an Event holding SessionLog{status: START} at `step`.
std::string encode_session_start_event(double wall_time, int64_t step);
// One TFRecord around `data`.
std::string tfrecord(std::string_view data);

// Writes events.out.tfevents.<seconds>.<host> in `log_dir` (created if missing). Scalars with
// the same step may be written in any order; flush() makes them visible to a running
// TensorBoard (and happens on destruction).
class SummaryWriter {
 public:
  explicit SummaryWriter(const std::string& log_dir);
  ~SummaryWriter();
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step);
  // Marks a restart at `step` (a resumed run): TensorBoard then drops the events at this step
  // and later that an earlier session wrote after its last checkpoint, so none show twice.
  void add_session_start(int64_t step);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& event);
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace fm::train
