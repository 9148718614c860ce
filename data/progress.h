#pragma once
// A terminal progress bar for long loops (corpus rendering, training epochs):
//   genres [#########...........] 24/66  3.1 it/s  ETA 0:13  song=rock-003
// On a terminal the line is redrawn in place (\r, cleared to the end); when the stream is not a
// terminal (a log file, CI) it prints plain lines instead, at most one every `log_interval`
// seconds plus the last one, so logs stay short. Thread-safe: workers may call advance().
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace fm::data {

struct ProgressOptions {
  FILE* stream = stdout;
  bool enabled = true;
  int width = 24;                // bar cells
  double redraw_interval = 0.1;  // seconds between redraws on a terminal
  double log_interval = 5.0;     // seconds between plain lines otherwise
  std::string unit = "it";       // "it/s", "clips/s", ...
  int tty = -1;                  // -1: ask isatty(stream); 0/1 force (tests)
};

class ProgressBar {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;

  ProgressBar(std::string label, int64_t total, ProgressOptions options = {});
  ~ProgressBar();  // finishes the line if finish() was not called
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Adds n to done; replaces the named fields given (others keep their values).
  void advance(int64_t n = 1, const Fields& fields = {});
  // Sets done to an absolute value.
  void update(int64_t done, const Fields& fields = {});
  void set_field(const std::string& name, const std::string& value);
  void set_total(int64_t total);
  // Draws the final state and ends the line.
  void finish();

  int64_t done() const;
  // The text of the current state, without \r or newline (what would be drawn).
  std::string line() const;

 private:
  void maybe_draw(bool force);
  std::string line_locked() const;
  double elapsed() const;

  std::string label_;
  int64_t total_;
  ProgressOptions options_;
  bool tty_ = false;
  bool finished_ = false;
  int64_t done_ = 0;
  Fields fields_;
  std::chrono::steady_clock::time_point start_;
  double last_draw_ = -1e9;
  size_t last_width_ = 0;
  int64_t last_drawn_done_ = -1;
  mutable std::mutex mutex_;
};

// "1:05", "1:02:03"; "?" for a negative or non-finite time.
std::string format_duration(double seconds);

}  // namespace fm::data
