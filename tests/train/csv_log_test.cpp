// CSV logs: the exact bytes written, appending to a resumed run's log, and dropping the rows
// a resumed run writes again.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.h"
#include "train/csv_log.h"

using namespace fm;

namespace {
std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
std::string temp_csv(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + std::to_string(::getpid()) + ".csv")).string();
}
}  // namespace

TEST(CsvLog, WritesHeaderAndRows) {
  const std::string path = temp_csv("fermata_csv_rows");
  {
    train::CsvLog log(path, {"epoch", "loss", "note"});
    log.write_row({int64_t{0}, 0.5, std::string("plain")});
    log.write_row({int64_t{1}, 0.1, std::string("a, \"quoted\" one")});
    // rows are on disk before the log is closed
    EXPECT_EQ(slurp(path), "epoch,loss,note\n0,0.5,plain\n1,0.10000000000000001,\"a, \"\"quoted\"\" one\"\n");
    EXPECT_THROW_MSG(log.write_row({int64_t{2}}), "has 3 columns, got 1 values");
  }
  std::filesystem::remove(path);
}

TEST(CsvLog, AppendsToAResumedRunAndDropsRedoneRows) {
  const std::string path = temp_csv("fermata_csv_append");
  {
    train::CsvLog log(path, {"epoch", "accuracy"}, /*append=*/true);  // no file yet: starts one
    for (int64_t e = 0; e < 4; ++e) log.write_row({e, 0.25 * e});
  }
  train::CsvLog::truncate_rows(path, 2);
  EXPECT_EQ(slurp(path), "epoch,accuracy\n0,0\n1,0.25\n");
  {
    train::CsvLog log(path, {"epoch", "accuracy"}, true);
    log.write_row({int64_t{2}, 0.75});
  }
  EXPECT_EQ(slurp(path), "epoch,accuracy\n0,0\n1,0.25\n2,0.75\n");
  EXPECT_THROW_MSG(train::CsvLog(path, {"epoch", "loss"}, true), "has columns 'epoch,accuracy', expected 'epoch,loss'");
  std::filesystem::remove(path);
}

TEST(CsvLog, ReadsBackWhatItWrote) {
  const std::string path = temp_csv("fermata_csv_read");
  {
    train::CsvLog log(path, {"epoch", "note"});
    log.write_row({int64_t{0}, std::string("a, \"b\"\nc")});
    log.write_row({int64_t{1}, std::string("")});
  }
  const auto rows = train::read_csv(path);
  const std::vector<std::vector<std::string>> expected = {{"epoch", "note"}, {"0", "a, \"b\"\nc"}, {"1", ""}};
  EXPECT_EQ(rows, expected);
  {
    std::ofstream f(path);
    f << "a,\"never closed\n";
  }
  EXPECT_THROW_MSG(train::read_csv(path), "ends inside a quoted field");
  std::filesystem::remove(path);
  EXPECT_THROW_MSG(train::read_csv(path), "cannot open");
}
