// default_collate: stacking, scalar labels, padding of variable-length sequences with masks and
// lengths, and the errors for examples that cannot be batched.
#include <gtest/gtest.h>

#include "data/collate.h"
#include "support/test_support.h"

namespace fm {
namespace {

using namespace fm::data;

Tensor seq(int64_t length, int64_t features, double start) {
  std::vector<float> v;
  for (int64_t i = 0; i < length * features; ++i) v.push_back(static_cast<float>(start + static_cast<double>(i)));
  return from_vector(v, {length, features});
}

TEST(DataCollate, StacksEqualShapesAndScalarLabels) {
  std::vector<Example> examples;
  for (int64_t b = 0; b < 3; ++b)
    examples.push_back({{"x", seq(2, 3, 10.0 * static_cast<double>(b))}, {"label", scalar_tensor(static_cast<double>(b + 4), {.dtype = kInt64})}});
  const Batch batch = default_collate(examples);
  EXPECT_EQ(batch.size(), 2u);  // no masks: nothing was padded
  ASSERT_EQ(batch.at("x").sizes(), (Shape{3, 2, 3}));
  EXPECT_EQ(batch.at("x").dtype(), kFloat32);
  for (int64_t b = 0; b < 3; ++b)
    EXPECT_CLOSE(select(batch.at("x"), 0, b), examples[static_cast<size_t>(b)].at("x"), 0, 0);
  const Tensor& label = batch.at("label");
  EXPECT_EQ(label.sizes(), (Shape{3}));
  EXPECT_EQ(label.dtype(), kInt64);
  EXPECT_EQ(label.to_vector<int64_t>(), (std::vector<int64_t>{4, 5, 6}));
}

TEST(DataCollate, PadsVariableLengthsWithMaskAndLengths) {
  const std::vector<int64_t> lengths = {3, 1, 4, 0};
  std::vector<Example> examples;
  for (size_t b = 0; b < lengths.size(); ++b)
    examples.push_back({{"audio", seq(lengths[b], 2, 100.0 * static_cast<double>(b))},
                        {"tokens", from_vector(std::vector<int64_t>(static_cast<size_t>(lengths[b]) + 1, 7), {lengths[b] + 1})}});
  CollateOptions options;
  options.padding_value = -1;
  options.padding_per_key["tokens"] = 387;
  const Batch batch = default_collate(examples, options);

  const Tensor& audio = batch.at("audio");
  ASSERT_EQ(audio.sizes(), (Shape{4, 4, 2}));
  EXPECT_EQ(batch.at("audio_lengths").to_vector<int64_t>(), lengths);
  const Tensor& mask = batch.at("audio_mask");
  ASSERT_EQ(mask.sizes(), (Shape{4, 4}));
  EXPECT_EQ(mask.dtype(), kBool);
  const std::vector<float> a = audio.to_vector<float>();
  const std::vector<bool> m = mask.to_vector<bool>();
  for (size_t b = 0; b < 4; ++b) {
    for (int64_t t = 0; t < 4; ++t) {
      const bool real = t < lengths[b];
      EXPECT_EQ(m[b * 4 + static_cast<size_t>(t)], real) << "b " << b << " t " << t;
      for (int64_t f = 0; f < 2; ++f) {
        const float expected = real ? static_cast<float>(100.0 * static_cast<double>(b) + static_cast<double>(t * 2 + f)) : -1.0f;
        EXPECT_EQ(a[b * 8 + static_cast<size_t>(t * 2 + f)], expected) << "b " << b << " t " << t << " f " << f;
      }
    }
  }

  const Tensor& tokens = batch.at("tokens");
  ASSERT_EQ(tokens.sizes(), (Shape{4, 5}));
  EXPECT_EQ(tokens.dtype(), kInt64);
  EXPECT_EQ(batch.at("tokens_lengths").to_vector<int64_t>(), (std::vector<int64_t>{4, 2, 5, 1}));
  const std::vector<int64_t> tk = tokens.to_vector<int64_t>();
  for (size_t b = 0; b < 4; ++b)
    for (int64_t t = 0; t < 5; ++t) EXPECT_EQ(tk[b * 5 + static_cast<size_t>(t)], t <= lengths[b] ? 7 : 387);
  EXPECT_EQ(batch.size(), 6u);
}

TEST(DataCollate, VariableLengthKeysAlwaysGetMasks) {
  std::vector<Example> examples = {{{"x", seq(3, 1, 0)}}, {{"x", seq(3, 1, 5)}}};
  EXPECT_EQ(default_collate(examples).count("x_mask"), 0u);
  CollateOptions options;
  options.variable_length_keys = {"x"};
  const Batch batch = default_collate(examples, options);
  EXPECT_EQ(batch.at("x_mask").to_vector<bool>(), std::vector<bool>(6, true));
  EXPECT_EQ(batch.at("x_lengths").to_vector<int64_t>(), (std::vector<int64_t>{3, 3}));

  std::vector<Example> scalars = {{{"y", scalar_tensor(1)}}};
  options.variable_length_keys = {"y"};
  EXPECT_THROW_MSG(default_collate(scalars, options), "key 'y' is listed in variable_length_keys");
}

TEST(DataCollate, CopiesNonContiguousExamples) {
  Tensor base = seq(3, 4, 0);
  Tensor t = make_view(base, {4, 3}, {1, 4}, 0);  // the transpose
  const Batch batch = default_collate({{{"x", t}}, {{"x", t}}});
  EXPECT_CLOSE(select(batch.at("x"), 0, 1), transpose(base, 0, 1), 0, 0);
  EXPECT_TRUE(batch.at("x").is_contiguous());
}

TEST(DataCollate, MismatchedShapesNameTheKeyAndShapes) {
  std::vector<Example> examples = {{{"spec", seq(5, 80, 0)}}, {{"spec", seq(5, 80, 0)}}, {{"spec", seq(5, 64, 0)}}};
  EXPECT_THROW_MSG(default_collate(examples), "key 'spec': example 0 has shape [5, 80] but example 2 has [5, 64]");
  examples = {{{"spec", seq(5, 80, 0)}}, {{"spec", zeros({5})}}};
  EXPECT_THROW_MSG(default_collate(examples), "example 0 has shape [5, 80] but example 1 has [5]");
  examples = {{{"label", scalar_tensor(1, {.dtype = kInt64})}}, {{"label", scalar_tensor(1)}}};
  EXPECT_THROW_MSG(default_collate(examples), "key 'label': example 0 is int64");
}

TEST(DataCollate, KeysMustAgree) {
  EXPECT_THROW_MSG(default_collate({{{"a", zeros({2})}}, {{"b", zeros({2})}}}), "example 1 has key 'b'");
  EXPECT_THROW_MSG(default_collate({{{"a", zeros({2})}, {"b", zeros({2})}}, {{"a", zeros({2})}}}),
                   "example 1 has no key 'b'");
  EXPECT_THROW_MSG(default_collate({}), "no examples");
  EXPECT_THROW_MSG(default_collate({{{"x", zeros({2})}, {"x_mask", zeros({2})}}, {{"x", zeros({3})}, {"x_mask", zeros({2})}}}),
                   "adds 'x_mask', but the examples already have a key of that name");
}

}  // namespace
}  // namespace fm
