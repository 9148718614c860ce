#pragma once
// A CSV log with a fixed header: one row per call, flushed at once so that a killed run keeps
// every row it wrote. Values are written with 17 significant digits (floats round-trip).
// Opening an existing log to append (a resumed run) checks the header is the same, and can
// drop the rows a resumed run will write again.
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

namespace fm::train {

class CsvLog {
 public:
  using Value = std::variant<double, int64_t, std::string>;

  // append = false starts a new file; append = true keeps an existing file's rows (its header
  // must equal `columns`) and starts one if there is none.
  CsvLog(const std::string& path, std::vector<std::string> columns, bool append = false);
  ~CsvLog();
  CsvLog(const CsvLog&) = delete;
  CsvLog& operator=(const CsvLog&) = delete;

  // One value per column, in the header's order.
  void write_row(const std::vector<Value>& values);
  const std::string& path() const { return path_; }
  const std::vector<std::string>& columns() const { return columns_; }

  // Rewrites `path` keeping only the rows whose integer first column is below `limit` (the
  // rows of epochs a resumed run redoes); a missing file is left missing.
  static void truncate_rows(const std::string& path, int64_t limit);

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::FILE* file_ = nullptr;
};

// The rows of a CSV file (the header first), fields unquoted as RFC 4180 says; throws naming
// the file when it cannot be read or a quoted field never ends.
std::vector<std::vector<std::string>> read_csv(const std::string& path);

// Quotes a field as RFC 4180 does when it holds a comma, quote or line break.
std::string csv_field(const std::string& s);

}  // namespace fm::train
