#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "support/test_support.h"

using namespace fm;
namespace fs = std::filesystem;

namespace {

// A file image: the 8-byte little-endian length, then `header`, then `data`.
std::vector<uint8_t> image(const std::string& header, const std::vector<uint8_t>& data = {}) {
  std::vector<uint8_t> out(8 + header.size() + data.size());
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  if (!header.empty()) std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

std::vector<uint8_t> prefix_only(uint64_t n, size_t extra_bytes) {
  std::vector<uint8_t> out(8 + extra_bytes, ' ');
  std::memcpy(out.data(), &n, 8);
  return out;
}

SafetensorsFile parse(const std::vector<uint8_t>& b) { return read_safetensors_from_bytes(b.data(), b.size()); }

// One F32 entry with the given shape and offsets, as header JSON.
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
}

Tensor bool_tensor(const std::vector<bool>& v, const Shape& shape) {
  Tensor t = empty(shape, {.dtype = kBool});
  for (size_t i = 0; i < v.size(); ++i) t.data_ptr<bool>()[i] = v[i];
  return t;
}

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

void write_file(const fs::path& p, const std::vector<uint8_t>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void expect_same(const Tensor& got, const Tensor& want, const std::string& name) {
  SCOPED_TRACE(name);
  ASSERT_TRUE(got.defined());
  EXPECT_EQ(got.dtype(), want.dtype());
  EXPECT_EQ(got.sizes(), want.sizes());
  // (Tensor::is_contiguous() says false for some empty shapes such as [2, 0, 3]; the
  // contiguity that matters is that of tensors with elements.)
  if (want.numel() > 0) EXPECT_TRUE(got.is_contiguous());
  EXPECT_TRUE(got.device().is_cpu());
  if (want.dtype() == kBool) {
    EXPECT_EQ(got.to_vector<bool>(), want.to_vector<bool>());
  } else if (want.dtype() == kInt64) {
    EXPECT_EQ(got.to_vector<int64_t>(), want.to_vector<int64_t>());
  } else {
    EXPECT_EQ(got.to_vector<double>(), want.to_vector<double>());  // bit-exact values
  }
}

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fermata_safetensors_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
};

std::map<std::string, Tensor> every_kind() {
  Tensor base = randn({3, 4});
  std::map<std::string, Tensor> m;
  m["f32"] = randn({2, 3});
  m["f64"] = randn({4}, {.dtype = kFloat64});
  m["i64"] = from_vector(std::vector<int64_t>{-5, 0, INT64_MAX, INT64_MIN}, {2, 2});
  m["bool"] = bool_tensor({true, false, true, true, false}, {5});
  m["scalar_f32"] = scalar_tensor(3.25);
  m["scalar_f64"] = scalar_tensor(-1e-300, {.dtype = kFloat64});
  m["scalar_i64"] = scalar_tensor(42, {.dtype = kInt64});
  m["scalar_bool"] = bool_tensor({true}, {});
  m["empty_f32"] = empty({0});
  m["empty_i64"] = empty({2, 0, 3}, {.dtype = kInt64});
  m["empty_bool"] = empty({0, 5}, {.dtype = kBool});
  m["transposed"] = make_view(base, {4, 3}, {1, 4}, 0);        // non-contiguous
  m["narrowed"] = make_view(base, {2, 2}, {4, 1}, 5);          // contiguous rows at an offset
  return m;
}

}  // namespace

// ------------------------------------------------------------------ round trips

TEST_F(Safetensors, RoundTripsEveryDtypeScalarsEmptiesAndViews) {
  const auto tensors = every_kind();
  ASSERT_FALSE(tensors.at("transposed").is_contiguous());
  const fs::path p = dir_ / "all.safetensors";
  save_safetensors(p.string(), tensors);
  const auto back = load_safetensors(p.string());
  ASSERT_EQ(back.size(), tensors.size());
  for (const auto& [name, t] : tensors) expect_same(back.at(name), t, name);
  // The same bytes as the in-memory writer, and the in-memory reader agrees.
  const auto bytes = save_safetensors_to_bytes(tensors);
  EXPECT_EQ(read_file(p), bytes);
  const auto back2 = load_safetensors_from_bytes(bytes.data(), bytes.size());
  for (const auto& [name, t] : tensors) expect_same(back2.at(name), t, name);
}

TEST_F(Safetensors, EmptyMapRoundTrips) {
  const fs::path p = dir_ / "none.safetensors";
  save_safetensors(p.string(), {});
  EXPECT_TRUE(load_safetensors(p.string()).empty());
  const auto bytes = read_file(p);
  EXPECT_EQ(bytes.size(), 16u);  // "{}" padded to 8 bytes
}

TEST_F(Safetensors, LayoutIsSortedAlignedAndContiguous) {
  std::map<std::string, Tensor> m{{"b", bool_tensor({true, false, true}, {3})},
                                  {"a", from_vector(std::vector<double>{1, 2}, {2})},
                                  {"c", tensor({7})}};
  const auto bytes = save_safetensors_to_bytes(m, {{"k", "v"}});
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "the data section starts at a multiple of 8";
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  EXPECT_EQ(header.find("{\"__metadata__\":{\"k\":\"v\"}"), 0u) << header;
  const auto a = header.find("\"a\":"), b = header.find("\"b\":"), c = header.find("\"c\":");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_NE(header.find("\"data_offsets\":[0,16]"), std::string::npos) << header;
  EXPECT_NE(header.find("\"data_offsets\":[16,19]"), std::string::npos) << header;
  EXPECT_NE(header.find("\"data_offsets\":[19,23]"), std::string::npos) << header;
  EXPECT_EQ(header.find_last_not_of(' ') + 1, header.find_last_of('}') + 1) << "padded with spaces";
  EXPECT_EQ(bytes.size(), 8 + n + 23);
  double first = 0;
  std::memcpy(&first, bytes.data() + 8 + n, 8);
  EXPECT_EQ(first, 1.0);
}

TEST_F(Safetensors, MetadataRoundTrips) {
  const std::map<std::string, std::string> meta{{"format", "pt"}, {"epoch", "12"},
                                                {"note", "quote \" backslash \\ newline \n ünïcödé"},
                                                {"", "empty key"}};
  const fs::path p = dir_ / "meta.safetensors";
  save_safetensors(p.string(), {{"w", ones({2})}}, meta);
  const SafetensorsFile f = read_safetensors(p.string());
  EXPECT_EQ(f.metadata, meta);
  EXPECT_EQ(f.tensors.size(), 1u);
  // Without metadata there is no __metadata__ entry at all.
  const auto bytes = save_safetensors_to_bytes({{"w", ones({2})}});
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()).find("__metadata__"), std::string::npos);
  EXPECT_TRUE(read_safetensors_from_bytes(bytes.data(), bytes.size()).metadata.empty());
}

TEST_F(Safetensors, ReadsTheFileWrittenByThePythonScript) {
  // tests/tensor/data/sample.safetensors comes from make_safetensors_sample.py (stdlib only),
  // laid out as the reference implementation lays files out.
  const SafetensorsFile f = read_safetensors(fm::testing::data_path("tensor/data/sample.safetensors"));
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"},
                                                            {"producer", "make_safetensors_sample.py"}}));
  ASSERT_EQ(f.tensors.size(), 5u);
  expect_same(f.tensors.at("weight"), from_vector(std::vector<float>{-1, -0.5, 0, 0.5, 1, 1.5}, {2, 3}), "weight");
  expect_same(f.tensors.at("bias"), from_vector(std::vector<double>{0.125, -2.5, 1e-300}, {3}), "bias");
  expect_same(f.tensors.at("step"), from_vector(std::vector<int64_t>{-9007199254740993}, {}), "step");
  expect_same(f.tensors.at("mask"), bool_tensor({true, false, false, true}, {2, 2}), "mask");
  expect_same(f.tensors.at("empty"), empty({0, 4}), "empty");
  // Our writer reads back what it writes for the same tensors.
  const auto again = save_safetensors_to_bytes(f.tensors, f.metadata);
  const SafetensorsFile g = read_safetensors_from_bytes(again.data(), again.size());
  EXPECT_EQ(g.metadata, f.metadata);
  for (const auto& [name, t] : f.tensors) expect_same(g.tensors.at(name), t, name);
}

// ------------------------------------------------------------------ atomic writes

TEST_F(Safetensors, SaveReplacesTheTargetAndLeavesNoTemporaryFiles) {
  const fs::path p = dir_ / "ckpt.safetensors";
  save_safetensors(p.string(), {{"w", zeros({3})}});
  save_safetensors(p.string(), {{"w", ones({4})}, {"b", zeros({1})}});
  const auto back = load_safetensors(p.string());
  EXPECT_EQ(back.size(), 2u);
  EXPECT_EQ(back.at("w").to_vector<float>(), std::vector<float>(4, 1.f));
  EXPECT_EQ(listing(), std::vector<std::string>{"ckpt.safetensors"});
}

TEST_F(Safetensors, ConcurrentReadersSeeEitherTheOldOrTheNewFile) {
  const fs::path p = dir_ / "ckpt.safetensors";
  const std::map<std::string, Tensor> a{{"w", full({1000}, 1.0)}}, b{{"w", full({2000}, 2.0)}, {"x", ones({3})}};
  save_safetensors(p.string(), a);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, bad{0};
  std::thread reader([&] {
    while (!done.load()) {
      try {
        const auto m = load_safetensors(p.string());
        const auto w = m.at("w").to_vector<float>();
        const bool is_a = m.size() == 1 && w.size() == 1000 && w.front() == 1.f && w.back() == 1.f;
        const bool is_b = m.size() == 2 && w.size() == 2000 && w.front() == 2.f && w.back() == 2.f;
        if (!is_a && !is_b) bad.fetch_add(1);
      } catch (const std::exception&) {
        bad.fetch_add(1);
      }
      reads.fetch_add(1);
    }
  });
  for (int i = 0; i < 40; ++i) save_safetensors(p.string(), i % 2 ? a : b);
  while (reads.load() < 5) std::this_thread::yield();
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_EQ(listing(), std::vector<std::string>{"ckpt.safetensors"});
}

TEST_F(Safetensors, FailedSaveKeepsTheOldFileAndCleansUp) {
  const fs::path p = dir_ / "ckpt.safetensors";
  save_safetensors(p.string(), {{"w", zeros({3})}});
  const auto before = read_file(p);
  EXPECT_THROW_MSG(save_safetensors(p.string(), {{"w", Tensor()}}), "tensor 'w' is undefined");
  EXPECT_THROW_MSG(save_safetensors(p.string(), {{"__metadata__", zeros({1})}}), "reserved");
  EXPECT_THROW_MSG(save_safetensors(p.string(), {{std::string("bad\xff"), zeros({1})}}), "not valid UTF-8");
  EXPECT_EQ(read_file(p), before);
  // A failure after the data is written (the rename onto a directory fails) removes the temporary.
  fs::create_directories(dir_ / "adir" / "x");
  EXPECT_THROW_MSG(save_safetensors((dir_ / "adir").string(), {{"w", ones({2})}}), "cannot rename");
  EXPECT_EQ(listing(), (std::vector<std::string>{"adir", "ckpt.safetensors"}));
  EXPECT_THROW_MSG(save_safetensors((dir_ / "missing" / "f.safetensors").string(), {{"w", ones({2})}}),
                   "cannot create a temporary file");
}

// ------------------------------------------------------------------ validation, one rule each

TEST(SafetensorsValidation, FileShorterThan8Bytes) {
  const std::vector<uint8_t> b{1, 2, 3};
  EXPECT_THROW_MSG(parse(b), "shorter than 8 bytes");
  EXPECT_THROW_MSG(parse(b), "<bytes>");
  EXPECT_THROW_MSG(read_safetensors_from_bytes(nullptr, 0), "shorter than 8 bytes");
}

TEST(SafetensorsValidation, HeaderSizeCap) {
  EXPECT_THROW_MSG(parse(prefix_only(100'000'001, 4)), "exceeds the limit of 100000000 bytes");
  EXPECT_THROW_MSG(parse(prefix_only(UINT64_MAX, 0)), "exceeds the limit");
}

TEST(SafetensorsValidation, HeaderLongerThanFile) {
  EXPECT_THROW_MSG(parse(prefix_only(100, 10)), "header length 100 is longer than the file");
  EXPECT_THROW_MSG(parse(prefix_only(1, 0)), "is longer than the file");
}

TEST(SafetensorsValidation, JsonParseErrors) {
  EXPECT_THROW_MSG(parse(image("{\"a\":")), "not valid JSON");
  EXPECT_THROW_MSG(parse(image("")), "not valid JSON");
  EXPECT_THROW_MSG(parse(image("{} trailing")), "not valid JSON");
  EXPECT_THROW_MSG(parse(image(std::string("{\"a\0\":1}", 8))), "not valid JSON");
  EXPECT_THROW_MSG(parse(image("{\"\xff\xfe\":{}}")), "not valid JSON");  // invalid UTF-8
  EXPECT_THROW_MSG(parse(image("{/*c*/}")), "not valid JSON");
}

TEST(SafetensorsValidation, HeaderAndEntriesMustBeObjects) {
  EXPECT_THROW_MSG(parse(image("[1, 2]")), "the header is not a JSON object");
  EXPECT_THROW_MSG(parse(image("{\"a\": 5}")), "entry 'a' is not a JSON object");
  EXPECT_THROW_MSG(parse(image("{\"a\": [0, 4]}")), "entry 'a' is not a JSON object");
  EXPECT_THROW_MSG(parse(image("{\"a\":{\"dtype\":\"F32\",\"shape\":[]}}")), "has no \"data_offsets\" field");
  EXPECT_THROW_MSG(parse(image("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}")), "has no \"shape\" field");
  EXPECT_THROW_MSG(parse(image("{\"a\":{\"shape\":[],\"data_offsets\":[0,4]}}")), "has no \"dtype\" field");
  EXPECT_THROW_MSG(parse(image("{\"a\":{\"dtype\":\"F32\",\"shape\":[[[1]]],\"data_offsets\":[0,4]}}")),
                   "nests deeper");
}

TEST(SafetensorsValidation, MetadataMustMapStringsToStrings) {
  EXPECT_THROW_MSG(parse(image("{\"__metadata__\": [1]}")), "__metadata__ must be a JSON object");
  EXPECT_THROW_MSG(parse(image("{\"__metadata__\": {\"k\": 1}}")), "value for key 'k' must be a string");
}

TEST(SafetensorsValidation, UnknownAndUnsupportedDtypes) {
  auto one = [](const std::string& dt) { return image("{" + entry("a", dt, "[1]", "[0,4]") + "}", {0, 0, 0, 0}); };
  EXPECT_THROW_MSG(parse(one("Q7")), "unknown dtype 'Q7'");
  EXPECT_THROW_MSG(parse(one("f32")), "unknown dtype 'f32'");
  EXPECT_THROW_MSG(parse(one("F16")), "dtype F16 is not supported");
  EXPECT_THROW_MSG(parse(one("BF16")), "dtype BF16 is not supported");
  EXPECT_THROW_MSG(parse(one("I32")), "dtype I32 is not supported");
  EXPECT_THROW_MSG(parse(one("U8")), "dtype U8 is not supported");
  EXPECT_THROW_MSG(parse(image("{\"a\":{\"dtype\":4,\"shape\":[],\"data_offsets\":[0,4]}}")),
                   "dtype must be a string");
}

TEST(SafetensorsValidation, ShapeEntriesNegativeOrOverflowing) {
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "F32", "[2,-1]", "[0,0]") + "}")), "shape entry -1 is negative");
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "F32", "[1.5]", "[0,4]") + "}")), "non-negative integers");
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "F32", "3", "[0,12]") + "}")), "shape must be an array");
  // numel * element_size overflows even though numel fits
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "F64", "[1152921504606846976,2]", "[0,0]") + "}")),
                   "overflows int64");
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "F32", "[4294967296,4294967296]", "[0,0]") + "}")),
                   "overflows int64");
  // an empty tensor whose other dimensions multiply past int64 (its strides would overflow)
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "F32", "[0,4611686018427387904,4]", "[0,0]") + "}")),
                   "overflows int64");
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "BOOL", "[9223372036854775808]", "[0,0]") + "}")),
                   "overflows int64");
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "BOOL", "[18446744073709551616]", "[0,0]") + "}")),
                   "non-negative integers");  // beyond uint64: parsed as a float
}

TEST(SafetensorsValidation, DataOffsetsMustBeTwoNonNegativeIntegers) {
  for (const char* off : {"[0]", "[0,4,8]", "[-1,3]", "[0,4.0]", "\"0,4\"", "{}", "[0,\"4\"]", "[]"}) {
    SCOPED_TRACE(off);
    EXPECT_THROW_MSG(parse(image("{" + entry("a", "F32", "[1]", off) + "}", {0, 0, 0, 0})),
                     "data_offsets must be two non-negative integers");
  }
}

TEST(SafetensorsValidation, DataOffsetsBeginAfterEnd) {
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "F32", "[1]", "[8,4]") + "}", std::vector<uint8_t>(8))),
                   "begin 8 > end 4");
}

TEST(SafetensorsValidation, DataOffsetsBeyondTheDataSection) {
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "F32", "[2]", "[0,8]") + "}", {0, 0, 0, 0})),
                   "end 8 is beyond the data section of 4 bytes");
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "F32", "[0]", "[18446744073709551615,18446744073709551615]") + "}")),
                   "beyond the data section");
}

TEST(SafetensorsValidation, DataOffsetsSizeMustMatchShape) {
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "F32", "[2]", "[0,4]") + "}", {0, 0, 0, 0})),
                   "hold 4 bytes but dtype F32 shape [2] needs 8 bytes (size mismatch)");
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "I64", "[]", "[0,4]") + "}", {0, 0, 0, 0})), "size mismatch");
}

TEST(SafetensorsValidation, OffsetsMustNotLeaveGaps) {
  const std::string h = "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}";
  EXPECT_THROW_MSG(parse(image(h, std::vector<uint8_t>(12))), "gap in the data section: bytes [4, 8)");
  const std::string late = "{" + entry("a", "F32", "[1]", "[4,8]") + "}";
  EXPECT_THROW_MSG(parse(image(late, std::vector<uint8_t>(8))), "gap in the data section: bytes [0, 4)");
}

TEST(SafetensorsValidation, OffsetsMustNotOverlap) {
  const std::string h = "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[4,12]") + "}";
  EXPECT_THROW_MSG(parse(image(h, std::vector<uint8_t>(12))), "'a' [0, 8) and 'b' [4, 12) overlap");
  const std::string same = "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[0,4]") + "}";
  EXPECT_THROW_MSG(parse(image(same, std::vector<uint8_t>(4))), "overlap");
  // a zero-size tensor placed inside another one
  const std::string inside = "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("z", "F32", "[0]", "[4,4]") + "}";
  EXPECT_THROW_MSG(parse(image(inside, std::vector<uint8_t>(8))), "overlap");
}

TEST(SafetensorsValidation, OffsetsMustCoverTheWholeDataSection) {
  EXPECT_THROW_MSG(parse(image("{" + entry("a", "F32", "[1]", "[0,4]") + "}", std::vector<uint8_t>(8))),
                   "the tensors cover 4 bytes but the data section holds 8 bytes");
  EXPECT_THROW_MSG(parse(image("{}", {1})), "cover 0 bytes but the data section holds 1 bytes");
}

TEST(SafetensorsValidation, DuplicateNames) {
  const std::string h = "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("a", "F32", "[1]", "[4,8]") + "}";
  EXPECT_THROW_MSG(parse(image(h, std::vector<uint8_t>(8))), "duplicate key 'a' in the header");
  EXPECT_THROW_MSG(parse(image("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,4]}}",
                               std::vector<uint8_t>(4))),
                   "duplicate key 'dtype' in 'a'");
  EXPECT_THROW_MSG(parse(image("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}")), "duplicate key 'k' in '__metadata__'");
  EXPECT_THROW_MSG(parse(image("{\"__metadata__\":{},\"__metadata__\":{}}")), "duplicate key '__metadata__'");
}

TEST(SafetensorsValidation, BoolBytesMustBeZeroOrOne) {
  const std::string h = "{" + entry("m", "BOOL", "[3]", "[0,3]") + "}";
  EXPECT_NO_THROW(parse(image(h, {1, 0, 1})));
  EXPECT_THROW_MSG(parse(image(h, {1, 0, 2})), "BOOL tensor 'm' holds byte value 2 at element 2 (expected 0 or 1)");
  EXPECT_THROW_MSG(parse(image(h, {255, 0, 0})), "byte value 255 at element 0");
}

TEST(SafetensorsValidation, AcceptsAHandWrittenValidFile) {
  const std::string h = "{\"__metadata__\":{\"a\":\"b\"}," + entry("x", "F32", "[]", "[4,8]") + "," +
                        entry("y", "BOOL", "[1,1]", "[0,1]") + "," + entry("z", "I64", "[0]", "[1,1]") + "," +
                        entry("w", "F32", "[3]", "[1,4]") + "}";
  // Offsets may come in any order; "w" is F32[3] in 3 bytes: a size mismatch.
  EXPECT_THROW_MSG(parse(image(h, std::vector<uint8_t>(8))), "size mismatch");
  const std::string ok = "{\"__metadata__\":{\"a\":\"b\"}," + entry("x", "F32", "[]", "[4,8]") + "," +
                         entry("y", "BOOL", "[1,1,4]", "[0,4]") + "," + entry("z", "I64", "[0]", "[4,4]") + "}    ";
  std::vector<uint8_t> data{1, 0, 0, 1, 0, 0, 0x80, 0x3f};
  const SafetensorsFile f = parse(image(ok, data));
  EXPECT_EQ(f.tensors.at("x").item<float>(), 1.0f);
  EXPECT_EQ(f.tensors.at("y").to_vector<bool>(), (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ(f.tensors.at("z").sizes(), (Shape{0}));
  EXPECT_EQ(f.metadata.at("a"), "b");
}

TEST_F(Safetensors, FileErrorsNameTheFile) {
  const fs::path p = dir_ / "broken.safetensors";
  write_file(p, image("{\"a\": 5}"));
  EXPECT_THROW_MSG(load_safetensors(p.string()), p.string());
  EXPECT_THROW_MSG(load_safetensors(p.string()), "entry 'a' is not a JSON object");
  write_file(p, {1, 2});
  EXPECT_THROW_MSG(load_safetensors(p.string()), "shorter than 8 bytes");
  write_file(p, prefix_only(64, 3));
  EXPECT_THROW_MSG(load_safetensors(p.string()), "is longer than the file");
  write_file(p, image("{" + entry("m", "BOOL", "[2]", "[0,2]") + "}", {0, 3}));
  EXPECT_THROW_MSG(load_safetensors(p.string()), "byte value 3");
  EXPECT_THROW_MSG(load_safetensors((dir_ / "nope.safetensors").string()), "cannot open");
  EXPECT_THROW_MSG(load_safetensors(dir_.string()), "not a regular file");
}

// ------------------------------------------------------------------ the fuzz corpus

TEST(SafetensorsFuzzCorpus, EveryFileParsesOrFailsCleanly) {
  fm::testing::replay_fuzz_corpus("safetensors", [](const std::vector<uint8_t>& bytes, const std::string& name) {
    const auto m = load_safetensors_from_bytes(bytes.data(), bytes.size());
    // a file that parses survives a write/read round trip
    const auto again = save_safetensors_to_bytes(m);
    EXPECT_EQ(load_safetensors_from_bytes(again.data(), again.size()).size(), m.size()) << name;
  }, 5, 1);
}
