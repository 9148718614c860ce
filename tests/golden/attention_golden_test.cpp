// Attention layers against PyTorch 1.13 (data: tests/golden/make_golden_attention.py), float64:
// nn::MultiheadAttention with both masks, float masks, per-head weights, self-attention
// (batched and unbatched), kdim/vdim without bias; nn::TransformerEncoderLayer (post-norm relu,
// pre-norm gelu batch_first) and nn::TransformerEncoder (2 layers + final norm); the relative
// self-attention against the definition computed in PyTorch; the sinusoidal table.
// Weights go in through load_state_dict (strict, so the names are PyTorch's); outputs,
// attention weights, the gradients of the inputs and of every parameter are compared.
#include <set>

#include "golden/golden_support.h"
#include "layers/attention.h"
#include "layers/transformer.h"

using namespace fm;
using namespace fm::nn;
using fm::autograd::tensor_list;
using fm::testing::golden::matches;

namespace {

const SafetensorsFile& file() { return fm::testing::golden::load("attention"); }

bool has(const std::string& key) { return file().tensors.count(key) > 0; }

Tensor at(const std::string& key) {
  auto it = file().tensors.find(key);
  if (it == file().tensors.end()) {
    ADD_FAILURE() << "attention.safetensors has no '" << key << "'";
    return Tensor();
  }
  return contiguous_raw(it->second, /*force=*/true);
}

std::map<std::string, Tensor> with_prefix(const std::string& prefix) {
  std::map<std::string, Tensor> out;
  for (const auto& [k, v] : file().tensors)
    if (k.rfind(prefix, 0) == 0) out[k.substr(prefix.size())] = v;
  return out;
}

Tensor mask(const std::string& c, const std::string& name) {
  return has(c + ".mask." + name) ? at(c + ".mask." + name) : Tensor();
}

struct Run {
  std::map<std::string, Tensor> inputs;   // leaves requiring grad, by name
  std::map<std::string, Tensor> outputs;  // by name
};

// Loads the parameters, runs `fn` on the inputs, compares outputs, then every gradient.
void check(const std::string& c, Module& m, const std::function<std::map<std::string, Tensor>(Run&)>& fn) {
  const auto params = with_prefix(c + ".param.");
  ASSERT_FALSE(params.empty()) << c;
  m.load_state_dict(params);
  m.eval();
  Run r;
  for (const auto& [k, v] : with_prefix(c + ".input.")) r.inputs[k] = contiguous_raw(v, true).requires_grad_(true);
  r.outputs = fn(r);
  tensor_list roots, grads;
  const auto want_out = with_prefix(c + ".out.");
  EXPECT_EQ(r.outputs.size(), want_out.size());
  for (const auto& [k, want] : want_out) {
    ASSERT_TRUE(r.outputs.count(k)) << "no output " << k;
    EXPECT_TRUE(matches(r.outputs[k], want)) << c << ": output " << k;
    roots.push_back(r.outputs[k]);
    grads.push_back(at(c + ".grad_out." + k));
  }
  autograd::backward(roots, grads);
  for (const auto& [k, want] : with_prefix(c + ".grad_input."))
    EXPECT_TRUE(matches(r.inputs.at(k).grad(), want)) << c << ": gradient of input " << k;
  const auto pgrads = with_prefix(c + ".grad_param.");
  EXPECT_EQ(pgrads.size(), params.size()) << "every parameter has a PyTorch gradient";
  EXPECT_EQ(m.named_parameters().size(), pgrads.size());
  for (const auto& [k, p] : m.named_parameters()) {
    auto it = pgrads.find(k);
    if (it == pgrads.end()) {
      ADD_FAILURE() << "no PyTorch gradient for " << k;
      continue;
    }
    EXPECT_TRUE(matches(p.grad(), it->second)) << c << ": gradient of " << k;
  }
}

// ----- the cases (the same tables as make_golden_attention.py)

void mha(const std::string& c, MultiheadAttentionOptions o, bool self_attn, bool average) {
  o.dtype = kFloat64;
  MultiheadAttention m(8, 2, o);
  check(c, m, [&](Run& r) {
    const Tensor q = r.inputs.at("query");
    const Tensor k = self_attn ? q : r.inputs.at("key"), v = self_attn ? q : r.inputs.at("value");
    auto y = m(q, k, v, {.key_padding_mask = mask(c, "key_padding_mask"), .need_weights = true,
                         .attn_mask = mask(c, "attn_mask"), .average_attn_weights = average});
    return std::map<std::string, Tensor>{{"output", y.output}, {"weights", y.weights}};
  });
}

void encoder_layer(const std::string& c, TransformerEncoderLayerOptions o) {
  o.dropout = 0;
  o.dtype = kFloat64;
  TransformerEncoderLayer m(8, 2, o);
  check(c, m, [&](Run& r) {
    return std::map<std::string, Tensor>{
        {"output", m(r.inputs.at("src"), mask(c, "src_mask"), mask(c, "src_key_padding_mask"))}};
  });
}

void relative(const std::string& c, int64_t max_len, RelativeMultiheadAttentionOptions o) {
  o.dtype = kFloat64;
  RelativeMultiheadAttention m(8, 2, max_len, o);
  check(c, m, [&](Run& r) {
    auto y = m(r.inputs.at("x"), {.key_padding_mask = mask(c, "key_padding_mask"), .need_weights = true});
    return std::map<std::string, Tensor>{{"output", y.output}, {"weights", y.weights}};
  });
}

const std::map<std::string, std::function<void()>>& cases() {
  static const std::map<std::string, std::function<void()>> t = {
      {"mha_masks", [] { mha("mha_masks", {}, false, true); }},
      {"mha_float_mask_bf_heads", [] { mha("mha_float_mask_bf_heads", {.batch_first = true}, false, false); }},
      {"mha_self_causal", [] { mha("mha_self_causal", {}, true, true); }},
      {"mha_self_unbatched", [] { mha("mha_self_unbatched", {}, true, true); }},
      {"mha_kdim_vdim_nobias", [] { mha("mha_kdim_vdim_nobias", {.bias = false, .kdim = 5, .vdim = 7}, false, true); }},
      {"enc_post_relu", [] { encoder_layer("enc_post_relu", {.dim_feedforward = 16}); }},
      {"enc_pre_gelu_bf", [] {
         encoder_layer("enc_pre_gelu_bf",
                       {.dim_feedforward = 12, .activation = "gelu", .batch_first = true, .norm_first = true});
       }},
      {"encoder_2_layers_norm", [] {
         const std::string c = "encoder_2_layers_norm";
         TransformerEncoder m(8, 2, 2, {.dim_feedforward = 16, .dropout = 0, .dtype = kFloat64},
                              std::make_shared<LayerNorm>(8, LayerNormOptions{.dtype = kFloat64}));
         check(c, m, [&](Run& r) {
           return std::map<std::string, Tensor>{
               {"output", m(r.inputs.at("src"), mask(c, "src_mask"), mask(c, "src_key_padding_mask"))}};
         });
       }},
      {"rel_causal", [] { relative("rel_causal", 7, {}); }},
      {"rel_bidir_per_head_bf", [] {
         relative("rel_bidir_per_head_bf", 6, {.causal = false, .batch_first = true, .share_heads = false});
       }},
      {"pe_table", [] {
         PositionalEncoding pe(8, 50, {.dropout = 0, .dtype = kFloat64});
         EXPECT_TRUE(matches(pe.table(), at("pe_table.out.table")));
         // and a float32 module holds the same table rounded
         PositionalEncoding pe32(8, 50);
         EXPECT_TRUE(matches(pe32.table(), fm::to(at("pe_table.out.table"), kFloat32)));
       }},
  };
  return t;
}

std::vector<std::string> case_names() {
  std::vector<std::string> n;
  for (const auto& [k, v] : cases()) n.push_back(k);
  return n;
}

class AttentionGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(AttentionGolden, MatchesPyTorch) { cases().at(GetParam())(); }

INSTANTIATE_TEST_SUITE_P(Golden, AttentionGolden, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

TEST(AttentionGoldenFile, SameCasesAsTable) {
  const auto in_file = fm::testing::golden::file_cases("attention");
  const std::set<std::string> f(in_file.begin(), in_file.end());
  const auto names = case_names();
  EXPECT_EQ(f, std::set<std::string>(names.begin(), names.end()));
}

}  // namespace
