// TensorBoard event files: CRC-32C against the published test vectors (RFC 3720 B.4), and a
// written file parsed back record by record with an independent protobuf decoder.
#include "train/tensorboard.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "support/test_support.h"
#include "train/crc32c.h"

using namespace fm;

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(train::crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(train::crc32c(""), 0u);
  std::string zeros(32, '\0'), ones(32, '\xff'), inc(32, 0), dec(32, 0);
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<char>(i), dec[i] = static_cast<char>(31 - i);
  EXPECT_EQ(train::crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(train::crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(train::crc32c(inc), 0x46DD794Eu);
  EXPECT_EQ(train::crc32c(dec), 0x113FDB5Cu);
  // incremental use continues the same CRC
  EXPECT_EQ(train::crc32c("56789", 5, train::crc32c("1234", 4)), 0xE3069283u);
  // the table version agrees with the one in use, at every length and alignment
  EXPECT_EQ(train::crc32c_bytewise("123456789", 9), 0xE3069283u);
  std::string bytes(1000, 0);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7919 % 251);
  for (size_t off : {0, 1, 3})
    for (size_t len : {0, 1, 7, 8, 9, 63, 500, 997})
      EXPECT_EQ(train::crc32c(bytes.data() + off, len), train::crc32c_bytewise(bytes.data() + off, len))
          << off << " " << len;
  // TFRecord's mask: rotate right 15, add 0xa282ead8
  EXPECT_EQ(train::mask_crc32c(0), 0xa282ead8u);
  EXPECT_EQ(train::mask_crc32c(0x8000u), 0xa282ead9u);
}

namespace {

struct Reader {
  const std::string& s;
  size_t pos = 0;
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      if (pos >= s.size()) {
        ADD_FAILURE() << "varint runs past the end";
        return v;
      }
      const auto b = static_cast<unsigned char>(s[pos++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
  }
  template <class T>
  T fixed() {
    T v{};
    if (pos + sizeof(T) > s.size()) {
      ADD_FAILURE() << "fixed field runs past the end";
      pos = s.size();
      return v;
    }
    std::memcpy(&v, s.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string bytes() {
    const uint64_t n = varint();
    EXPECT_LE(pos + n, s.size());
    std::string b = s.substr(pos, n);
    pos += n;
    return b;
  }
  bool done() const { return pos >= s.size(); }
};

struct Event {
  double wall_time = 0;
  int64_t step = -1;
  std::string file_version;
  int64_t session_status = -1;
  std::map<std::string, float> values;
};

Event parse_event(const std::string& data) {
  Event e;
  Reader r{data};
  while (!r.done()) {
    const uint64_t key = r.varint();
    switch (key) {
      case 1 << 3 | 1:
        e.wall_time = r.fixed<double>();
        break;
      case 2 << 3 | 0:
        e.step = static_cast<int64_t>(r.varint());
        break;
      case 3 << 3 | 2:
        e.file_version = r.bytes();
        break;
      case 7 << 3 | 2: {
        const std::string log = r.bytes();
        Reader rl{log};
        EXPECT_EQ(rl.varint(), 1u << 3 | 0);
        e.session_status = static_cast<int64_t>(rl.varint());
        break;
      }
      case 5 << 3 | 2: {
        const std::string summary = r.bytes();
        Reader rs{summary};
        while (!rs.done()) {
          EXPECT_EQ(rs.varint(), 1u << 3 | 2);
          const std::string value = rs.bytes();
          Reader rv{value};
          std::string tag;
          float v = NAN;
          while (!rv.done()) {
            const uint64_t k = rv.varint();
            if (k == (1 << 3 | 2))
              tag = rv.bytes();
            else if (k == (2 << 3 | 5))
              v = rv.fixed<float>();
            else
              ADD_FAILURE() << "unexpected Value field key " << k;
          }
          e.values[tag] = v;
        }
        break;
      }
      default:
        ADD_FAILURE() << "unexpected Event field key " << key;
        return e;
    }
  }
  return e;
}

// Splits a TFRecord file, checking both CRCs of every record.
std::vector<std::string> read_records(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(f)), {});
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < all.size()) {
    EXPECT_LE(pos + 12, all.size());
    uint64_t len;
    uint32_t len_crc, data_crc;
    std::memcpy(&len, all.data() + pos, 8);
    std::memcpy(&len_crc, all.data() + pos + 8, 4);
    EXPECT_EQ(len_crc, train::mask_crc32c(train::crc32c(all.data() + pos, 8)));
    EXPECT_LE(pos + 16 + len, all.size());
    std::string data = all.substr(pos + 12, len);
    std::memcpy(&data_crc, all.data() + pos + 12 + len, 4);
    EXPECT_EQ(data_crc, train::mask_crc32c(train::crc32c(data)));
    out.push_back(data);
    pos += 16 + len;
  }
  return out;
}

}  // namespace

TEST(SummaryWriter, WritesEventsThatParseBack) {
  const auto dir = std::filesystem::temp_directory_path() / ("fermata_tb_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string path;
  {
    train::SummaryWriter w(dir.string());
    path = w.path();
    w.add_scalar("train/loss", 2.5, 1);
    w.add_scalar("train/loss", 1.25, 2);
    w.add_scalar("val/accuracy", 0.75, 2);
    w.add_scalar("train/loss", 0.1, 300);  // a step that needs a two-byte varint
    w.add_session_start(301);
  }
  EXPECT_NE(std::filesystem::path(path).filename().string().find("events.out.tfevents."), std::string::npos);
  const auto records = read_records(path);
  ASSERT_EQ(records.size(), 6u);
  const Event first = parse_event(records[0]);
  EXPECT_EQ(first.file_version, "brain.Event:2");
  EXPECT_GT(first.wall_time, 1.6e9);
  EXPECT_TRUE(first.values.empty());
  const std::vector<std::tuple<int64_t, std::string, float>> expected = {
      {1, "train/loss", 2.5f}, {2, "train/loss", 1.25f}, {2, "val/accuracy", 0.75f}, {300, "train/loss", 0.1f}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const Event e = parse_event(records[i + 1]);
    EXPECT_EQ(e.step, std::get<0>(expected[i]));
    ASSERT_EQ(e.values.size(), 1u);
    EXPECT_EQ(e.values.begin()->first, std::get<1>(expected[i]));
    EXPECT_EQ(e.values.begin()->second, std::get<2>(expected[i]));
    EXPECT_GE(e.wall_time, first.wall_time);
  }
  const Event restart = parse_event(records[5]);
  EXPECT_EQ(restart.step, 301);
  EXPECT_EQ(restart.session_status, 1);  // SessionLog.START
  EXPECT_TRUE(restart.values.empty());
  // a second writer in the same second gets its own file
  train::SummaryWriter again(dir.string());
  EXPECT_NE(again.path(), path);
  std::filesystem::remove_all(dir);
}

TEST(SummaryWriter, EncodesTheProtobufBytesExactly) {
  // Event{wall_time=1.0, step=5, summary{value{tag="a", simple_value=1.0}}}
  const std::string ev = train::encode_scalar_event(1.0, 5, {{"a", 1.0f}});
  const std::string expected(
      "\x09\x00\x00\x00\x00\x00\x00\xf0\x3f"  // wall_time
      "\x10\x05"                              // step
      "\x2a\x0a\x0a\x08\x0a\x01"
      "a"
      "\x15\x00\x00\x80\x3f",  // summary
      23);
  EXPECT_EQ(ev, expected);
  const std::string rec = train::tfrecord(ev);
  ASSERT_EQ(rec.size(), ev.size() + 16);
  EXPECT_EQ(rec.substr(0, 8), std::string("\x17\0\0\0\0\0\0\0", 8));
}

TEST(SummaryWriter, RefusesAnUnwritableDirectory) {
  EXPECT_THROW_MSG(train::SummaryWriter("/proc/fermata_no_such_dir/x"), "SummaryWriter: cannot create");
}
