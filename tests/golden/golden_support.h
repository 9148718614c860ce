#pragma once
// Golden tests against PyTorch 1.13. tests/golden/make_golden.py writes, for each family, the
// file tests/golden/data/<family>.safetensors: per case `c` its inputs c.in0.., its output c.out
// (or c.out0.. for several), the upstream gradients c.grad_out(k) and the gradients c.grad<i>
// of the inputs PyTorch differentiated; its metadata lists the case names.
//
// A test file declares a table of cases (name -> the same op in fermata) and
// FM_GOLDEN_FAMILY(Suite, "family", table) makes one test per case plus a test that the file
// and the table name exactly the same cases.
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/test_support.h"

namespace fm::testing::golden {

using autograd::tensor_list;
using CaseFn = std::function<tensor_list(const tensor_list&)>;

struct Case {
  std::string name;
  CaseFn fn;
};

inline const SafetensorsFile& load(const std::string& family) {
  static std::map<std::string, SafetensorsFile> cache;
  auto it = cache.find(family);
  if (it == cache.end())
    it = cache.emplace(family, read_safetensors(data_path("golden/data/" + family + ".safetensors"))).first;
  return it->second;
}

inline std::vector<std::string> file_cases(const std::string& family) {
  const auto& meta = load(family).metadata;
  auto it = meta.find("cases");
  std::vector<std::string> names;
  if (it == meta.end()) return names;
  std::stringstream ss(it->second);
  for (std::string s; std::getline(ss, s, ',');) names.push_back(s);
  return names;
}

inline std::vector<std::string> names_of(const std::vector<Case>& table) {
  std::vector<std::string> names;
  for (const auto& c : table) names.push_back(c.name);
  return names;
}

// Same dtype, and equal within the tolerance of that dtype (exactly, for int64 and bool).
inline ::testing::AssertionResult matches(const Tensor& got, const Tensor& want) {
  if (!got.defined()) return ::testing::AssertionFailure() << "undefined tensor";
  if (got.dtype() != want.dtype())
    return ::testing::AssertionFailure() << "dtype " << got.dtype() << ", PyTorch has " << want.dtype();
  switch (want.dtype()) {
    case DType::Float64: return close(got, want, 1e-10, 1e-12);
    case DType::Float32: return close(got, want, 1e-5, 1e-6);
    default: return close(got, want, 0, 0);
  }
}

inline void run_case(const std::string& family, const Case& c) {
  const auto& file = load(family).tensors;
  auto has = [&](const std::string& suffix) { return file.count(c.name + "." + suffix) > 0; };
  auto get = [&](const std::string& suffix) { return file.at(c.name + "." + suffix); };

  tensor_list inputs;
  for (int i = 0; has("in" + std::to_string(i)); ++i) {
    Tensor x = contiguous_raw(get("in" + std::to_string(i)), /*force=*/true);  // a fresh leaf
    if (has("grad" + std::to_string(i))) x.requires_grad_(true);
    inputs.push_back(x);
  }

  // outputs: c.out, or c.out0, c.out1, ...
  std::vector<std::string> tags;
  if (has("out")) {
    tags.push_back("");
  } else {
    for (int k = 0; has("out" + std::to_string(k)); ++k) tags.push_back(std::to_string(k));
  }
  ASSERT_FALSE(tags.empty()) << "no output for case '" << c.name << "' in " << family;

  const tensor_list outs = c.fn(inputs);
  ASSERT_EQ(outs.size(), tags.size()) << "number of outputs";
  tensor_list roots, grads;
  for (size_t k = 0; k < tags.size(); ++k) {
    EXPECT_TRUE(matches(outs[k], get("out" + tags[k]))) << "output " << k;
    if (has("grad_out" + tags[k])) {
      ASSERT_TRUE(outs[k].requires_grad()) << "output " << k << " does not require grad";
      roots.push_back(outs[k]);
      grads.push_back(get("grad_out" + tags[k]));
    }
  }
  if (roots.empty()) return;  // a forward-only case
  autograd::backward(roots, grads);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!has("grad" + std::to_string(i))) continue;
    Tensor g = inputs[i].grad();
    if (!g.defined()) g = zeros_like(inputs[i]);  // PyTorch stores zeros for an unused input
    EXPECT_TRUE(matches(g, get("grad" + std::to_string(i)))) << "gradient of input " << i;
  }
}

inline void expect_same_cases(const std::string& family, const std::vector<Case>& table) {
  const auto in_file = file_cases(family);
  const auto in_table = names_of(table);
  EXPECT_FALSE(in_file.empty()) << family << ": no case list in the file's metadata";
  const std::set<std::string> f(in_file.begin(), in_file.end()), t(in_table.begin(), in_table.end());
  EXPECT_EQ(t.size(), in_table.size()) << family << ": duplicate names in the test table";
  for (const auto& n : f) EXPECT_TRUE(t.count(n)) << family << ": case '" << n << "' has no test";
  for (const auto& n : t) EXPECT_TRUE(f.count(n)) << family << ": case '" << n << "' is not in the file";
}

inline tensor_list both(const std::pair<Tensor, Tensor>& p) { return {p.first, p.second}; }

}  // namespace fm::testing::golden

// One golden case: `x` holds the inputs; the expression(s) give the output(s).
#define GOLDEN(name, ...)                                                                       \
  ::fm::testing::golden::Case {                                                                 \
    name, [](const ::fm::autograd::tensor_list& x) -> ::fm::autograd::tensor_list {             \
      return {__VA_ARGS__};                                                                     \
    }                                                                                           \
  }

#define FM_GOLDEN_FAMILY(Suite, family, table)                                                  \
  class Suite : public ::testing::TestWithParam<std::string> {};                                \
  TEST_P(Suite, MatchesPyTorch) {                                                               \
    for (const auto& c : table())                                                               \
      if (c.name == GetParam()) return ::fm::testing::golden::run_case(family, c);              \
    FAIL() << "no case " << GetParam();                                                         \
  }                                                                                             \
  INSTANTIATE_TEST_SUITE_P(Golden, Suite,                                                       \
                           ::testing::ValuesIn(::fm::testing::golden::names_of(table())),       \
                           [](const ::testing::TestParamInfo<std::string>& i) { return i.param; }); \
  TEST(Suite##File, SameCasesAsTable) { ::fm::testing::golden::expect_same_cases(family, table()); }
