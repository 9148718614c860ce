// nn::LSTM and nn::GRU against PyTorch 1.13 (data: tests/golden/make_golden_rnn.py): 2-layer
// bidirectional modules, time-major and batch_first, with and without initial states, without
// bias, unbatched. The weights go in through load_state_dict (strict), which proves that the
// parameter names are PyTorch's; outputs, final states and the gradients of the input, the
// initial states and every parameter are compared in float64.
#include <set>

#include "golden/golden_support.h"
#include "layers/rnn.h"

using namespace fm;
using namespace fm::nn;
using fm::autograd::tensor_list;

namespace {

struct Config {
  std::string name;
  bool lstm;
  int64_t input_size, hidden_size, num_layers;
  bool bidirectional, batch_first, bias, with_state, unbatched;
};

void PrintTo(const Config& c, std::ostream* os) { *os << c.name; }

// The same table as CONFIGS in make_golden_rnn.py.
const std::vector<Config>& configs() {
  static const std::vector<Config> c = {
      {"lstm_bi2", true, 7, 5, 2, true, false, true, false, false},
      {"lstm_bi2_state", true, 7, 5, 2, true, false, true, true, false},
      {"lstm_bi2_bf", true, 6, 4, 2, true, true, true, false, false},
      {"lstm_bi2_bf_state", true, 6, 4, 2, true, true, true, true, false},
      {"lstm_nobias_state", true, 5, 6, 1, false, false, false, true, false},
      {"lstm_unbatched_state", true, 8, 4, 2, true, false, true, true, true},
      {"gru_bi2", false, 8, 6, 2, true, false, true, false, false},
      {"gru_bi2_state", false, 8, 6, 2, true, false, true, true, false},
      {"gru_bi2_bf", false, 5, 4, 2, true, true, true, false, false},
      {"gru_bi2_bf_state", false, 5, 4, 2, true, true, true, true, false},
      {"gru_nobias_state", false, 6, 5, 1, false, false, false, true, false},
      {"gru_unbatched_state", false, 7, 5, 2, true, false, true, true, true},
  };
  return c;
}

const SafetensorsFile& file() { return fm::testing::golden::load("rnn"); }

Tensor at(const std::string& key) {
  auto it = file().tensors.find(key);
  if (it == file().tensors.end()) {
    ADD_FAILURE() << "rnn.safetensors has no '" << key << "'";
    return Tensor();
  }
  return contiguous_raw(it->second, /*force=*/true);  // a fresh tensor of our own
}
bool has(const std::string& key) { return file().tensors.count(key) > 0; }

// The tensors stored under "<prefix><key>", by key.
std::map<std::string, Tensor> with_prefix(const std::string& prefix) {
  std::map<std::string, Tensor> out;
  for (const auto& [k, v] : file().tensors)
    if (k.rfind(prefix, 0) == 0) out[k.substr(prefix.size())] = v;
  return out;
}

class RnnGolden : public ::testing::TestWithParam<Config> {};

TEST_P(RnnGolden, MatchesPyTorch) {
  using fm::testing::golden::matches;
  const Config& c = GetParam();
  const RNNOptions o{.num_layers = c.num_layers, .bias = c.bias, .batch_first = c.batch_first,
                     .dropout = 0, .bidirectional = c.bidirectional, .dtype = kFloat64};
  std::shared_ptr<RNNBase> m;
  if (c.lstm) m = std::make_shared<LSTM>(c.input_size, c.hidden_size, o);
  else m = std::make_shared<GRU>(c.input_size, c.hidden_size, o);
  const auto params = with_prefix(c.name + ".param.");
  ASSERT_FALSE(params.empty());
  m->load_state_dict(params);  // strict: every key must be one of ours, and all of ours present

  Tensor x = at(c.name + ".input").requires_grad_(true);
  Tensor h0, c0;
  if (c.with_state) {
    h0 = at(c.name + ".h0").requires_grad_(true);
    if (c.lstm) c0 = at(c.name + ".c0").requires_grad_(true);
  }
  Tensor y, h_n, c_n;
  if (c.lstm) {
    auto r = static_cast<LSTM&>(*m)(x, {h0, c0});
    y = r.output, h_n = r.h_n, c_n = r.c_n;
  } else {
    auto r = static_cast<GRU&>(*m)(x, h0);
    y = r.output, h_n = r.h_n;
  }
  EXPECT_TRUE(matches(y, at(c.name + ".output"))) << "output";
  EXPECT_TRUE(matches(h_n, at(c.name + ".h_n"))) << "h_n";
  tensor_list roots{y, h_n}, grads{at(c.name + ".grad_output"), at(c.name + ".grad_h_n")};
  if (c.lstm) {
    EXPECT_TRUE(matches(c_n, at(c.name + ".c_n"))) << "c_n";
    roots.push_back(c_n);
    grads.push_back(at(c.name + ".grad_c_n"));
  }
  autograd::backward(roots, grads);
  EXPECT_TRUE(matches(x.grad(), at(c.name + ".grad_input"))) << "gradient of the input";
  if (c.with_state) {
    EXPECT_TRUE(matches(h0.grad(), at(c.name + ".grad_h0"))) << "gradient of h0";
    if (c.lstm) EXPECT_TRUE(matches(c0.grad(), at(c.name + ".grad_c0"))) << "gradient of c0";
  }
  const auto pgrads = with_prefix(c.name + ".grad_param.");
  EXPECT_EQ(pgrads.size(), params.size());
  for (const auto& [k, p] : m->named_parameters()) {
    auto it = pgrads.find(k);
    if (it == pgrads.end()) {
      ADD_FAILURE() << "no PyTorch gradient for " << k;
      continue;
    }
    EXPECT_TRUE(matches(p.grad(), it->second)) << "gradient of " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, RnnGolden, ::testing::ValuesIn(configs()),
                         [](const ::testing::TestParamInfo<Config>& i) { return i.param.name; });

TEST(RnnGoldenFile, SameCasesAsTable) {
  const auto in_file = fm::testing::golden::file_cases("rnn");
  std::set<std::string> f(in_file.begin(), in_file.end()), t;
  for (const auto& c : configs()) t.insert(c.name);
  EXPECT_EQ(f, t);
}

}  // namespace
