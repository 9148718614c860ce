#include "data/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace fm::data {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total, ProgressOptions options)
    : label_(std::move(label)), total_(std::max<int64_t>(total, 0)), options_(std::move(options)),
      start_(std::chrono::steady_clock::now()) {
  if (options_.stream == nullptr) options_.enabled = false;
  tty_ = options_.tty >= 0 ? options_.tty == 1 : (options_.stream && isatty(fileno(options_.stream)));
  std::lock_guard<std::mutex> lock(mutex_);
  maybe_draw(true);
}

ProgressBar::~ProgressBar() {
  try {
    finish();
  } catch (...) {
  }
}

double ProgressBar::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::advance(int64_t n, const Fields& fields) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += n;
  for (const auto& f : fields) {
    auto it = std::find_if(fields_.begin(), fields_.end(), [&](const auto& g) { return g.first == f.first; });
    if (it == fields_.end()) fields_.push_back(f);
    else it->second = f.second;
  }
  maybe_draw(false);
}

void ProgressBar::update(int64_t done, const Fields& fields) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = done;
  }
  advance(0, fields);
}

void ProgressBar::set_field(const std::string& name, const std::string& value) { advance(0, {{name, value}}); }

void ProgressBar::set_total(int64_t total) {
  std::lock_guard<std::mutex> lock(mutex_);
  total_ = std::max<int64_t>(total, 0);
}

int64_t ProgressBar::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

std::string ProgressBar::line() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return line_locked();
}

std::string ProgressBar::line_locked() const {
  const double t = elapsed();
  std::string s = label_ + " [";
  const double frac = total_ > 0 ? std::clamp(static_cast<double>(done_) / total_, 0.0, 1.0) : 1.0;
  const int full = static_cast<int>(frac * options_.width);
  s += std::string(full, '#') + std::string(options_.width - full, '.') + "] ";
  s += std::to_string(done_) + "/" + std::to_string(total_);
  const double rate = t > 0 ? done_ / t : 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "  %.3g %s/s", rate, options_.unit.c_str());
  s += buf;
  if (done_ >= total_) s += "  in " + format_duration(t);
  else s += "  ETA " + (rate > 0 ? format_duration((total_ - done_) / rate) : std::string("?"));
  for (const auto& f : fields_) s += "  " + f.first + "=" + f.second;
  return s;
}

void ProgressBar::maybe_draw(bool force) {
  if (!options_.enabled || finished_) return;
  const double t = elapsed();
  const double interval = tty_ ? options_.redraw_interval : options_.log_interval;
  if (!force && t - last_draw_ < interval && done_ < total_) return;
  if (!tty_ && done_ == last_drawn_done_ && last_draw_ > -1e8 && !force) return;
  last_draw_ = t;
  last_drawn_done_ = done_;
  std::string s = line_locked();
  if (tty_) {
    // Pad over a longer previous line rather than relying on the terminal's clear-to-end.
    const size_t width = s.size();
    if (s.size() < last_width_) s += std::string(last_width_ - s.size(), ' ');
    last_width_ = width;
    std::fprintf(options_.stream, "\r%s", s.c_str());
  } else {
    std::fprintf(options_.stream, "%s\n", s.c_str());
  }
  std::fflush(options_.stream);
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_ || !options_.enabled) {
    finished_ = true;
    return;
  }
  // A plain log already ends with this state when the last advance drew it.
  if (tty_ || done_ != last_drawn_done_) maybe_draw(true);
  if (tty_) std::fputc('\n', options_.stream);
  std::fflush(options_.stream);
  finished_ = true;
}

}  // namespace fm::data
