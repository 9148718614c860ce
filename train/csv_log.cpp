#include "train/csv_log.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tensor/error.h"

namespace fm::train {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

namespace {
std::string join(const std::vector<std::string>& cols) {
  std::string line;
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i) line += ',';
    line += csv_field(cols[i]);
  }
  return line;
}
}  // namespace

CsvLog::CsvLog(const std::string& path, std::vector<std::string> columns, bool append)
    : path_(path), columns_(std::move(columns)) {
  FM_CHECK(!columns_.empty(), "CsvLog: '", path, "' needs at least one column");
  const std::string header = join(columns_);
  bool has_header = false;
  if (append && std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    if (!first.empty()) {
      FM_CHECK(first == header, "CsvLog: '", path, "' has columns '", first, "', expected '", header,
               "' (a log of a different run?)");
      has_header = true;
    }
  }
  file_ = std::fopen(path.c_str(), append ? "ab" : "wb");
  FM_CHECK(file_ != nullptr, "CsvLog: cannot open '", path, "': ", std::strerror(errno));
  if (!has_header) {
    std::fprintf(file_, "%s\n", header.c_str());
    std::fflush(file_);
  }
}

CsvLog::~CsvLog() {
  if (file_) std::fclose(file_);
}

void CsvLog::write_row(const std::vector<Value>& values) {
  FM_CHECK(values.size() == columns_.size(), "CsvLog::write_row: '", path_, "' has ", columns_.size(),
           " columns, got ", values.size(), " values");
  std::string line;
  char buf[64];
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) line += ',';
    if (const double* d = std::get_if<double>(&values[i])) {
      std::snprintf(buf, sizeof buf, "%.17g", *d);
      line += buf;
    } else if (const int64_t* n = std::get_if<int64_t>(&values[i])) {
      line += std::to_string(*n);
    } else {
      line += csv_field(std::get<std::string>(values[i]));
    }
  }
  line += '\n';
  FM_CHECK(std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0,
           "CsvLog: cannot write to '", path_, "': ", std::strerror(errno));
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FM_CHECK(in.good(), "read_csv: cannot open '", path, "'");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (ch == '"') quoted = false;
      else field += ch;
    } else if (ch == '"') {
      quoted = any = true;
    } else if (ch == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      field.clear();
      row.clear();
      any = false;
    } else {
      field += ch;
    }
  }
  FM_CHECK(!quoted, "read_csv: '", path, "' ends inside a quoted field");
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

void CsvLog::truncate_rows(const std::string& path, int64_t limit) {
  if (!std::filesystem::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      kept += line + '\n';
      header = false;
      continue;
    }
    long long first = 0;
    // a row whose first field is no integer is kept: it is not ours to judge
    if (std::sscanf(line.c_str(), "%lld", &first) == 1 && first >= limit) continue;
    kept += line + '\n';
  }
  in.close();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << kept;
    FM_CHECK(out.good(), "CsvLog: cannot write '", tmp, "'");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace fm::train
