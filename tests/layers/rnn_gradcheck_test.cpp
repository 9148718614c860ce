// float64 gradchecks of nn::LSTM and nn::GRU through the fused layer node (autograd/rnn.cpp):
// 2 layers, bidirectional, batch_first, with initial states; gradients with respect to the
// input, the initial states and every weight. (Double backward through the fused layer is not
// supported, so there is no gradgradcheck: see LSTM.DoubleBackwardThrowsClearly.)
#include "layers/rnn.h"
#include "support/test_support.h"

using namespace fm;
using namespace fm::nn;
using fm::testing::leaf64;
using fm::autograd::tensor_list;

namespace {

// inputs: x, h0, (c0), then the module's parameters (perturbed in place by gradcheck)
template <class M>
tensor_list inputs_of(M& m, const Shape& xs, const Shape& ss, bool lstm) {
  tensor_list in{leaf64(xs, -1, 1, 3), leaf64(ss, -1, 1, 4)};
  if (lstm) in.push_back(leaf64(ss, -1, 1, 5));
  for (const Tensor& p : m.parameters()) in.push_back(p);
  return in;
}

}  // namespace

TEST(LSTMGradcheck, TwoLayersBidirectionalBatchFirstWithState) {
  LSTM m(3, 2, {.num_layers = 2, .batch_first = true, .bidirectional = true, .dtype = kFloat64});
  auto in = inputs_of(m, {2, 3, 3}, {4, 2, 2}, true);
  EXPECT_GRADCHECK(([&](const tensor_list& x) {
                     auto r = m(x[0], {x[1], x[2]});
                     return tensor_list{r.output, r.h_n, r.c_n};
                   }),
                   in);
}

TEST(LSTMGradcheck, TimeMajorNoBiasNoState) {
  LSTM m(3, 3, {.num_layers = 2, .bias = false, .dtype = kFloat64});
  tensor_list in{leaf64({4, 2, 3}, -1, 1, 6)};
  for (const Tensor& p : m.parameters()) in.push_back(p);
  EXPECT_GRADCHECK(([&](const tensor_list& x) {
                     auto r = m(x[0]);
                     return tensor_list{r.output, r.h_n, r.c_n};
                   }),
                   in);
}

TEST(LSTMGradcheck, UnbatchedNonContiguousInput) {
  LSTM m(3, 2, {.bidirectional = true, .dtype = kFloat64});
  tensor_list in{fm::testing::noncontig64(4, 3), leaf64({2, 2}, -1, 1, 7), leaf64({2, 2}, -1, 1, 8)};
  for (const Tensor& p : m.parameters()) in.push_back(p);
  EXPECT_GRADCHECK(([&](const tensor_list& x) {
                     auto r = m(x[0], {x[1], x[2]});
                     return tensor_list{r.output, r.h_n, r.c_n};
                   }),
                   in);
}

TEST(GRUGradcheck, TwoLayersBidirectionalBatchFirstWithState) {
  GRU m(3, 2, {.num_layers = 2, .batch_first = true, .bidirectional = true, .dtype = kFloat64});
  auto in = inputs_of(m, {2, 3, 3}, {4, 2, 2}, false);
  EXPECT_GRADCHECK(([&](const tensor_list& x) {
                     auto r = m(x[0], x[1]);
                     return tensor_list{r.output, r.h_n};
                   }),
                   in);
}

TEST(GRUGradcheck, TimeMajorNoBiasNoState) {
  GRU m(3, 3, {.num_layers = 2, .bias = false, .dtype = kFloat64});
  tensor_list in{leaf64({4, 2, 3}, -1, 1, 6)};
  for (const Tensor& p : m.parameters()) in.push_back(p);
  EXPECT_GRADCHECK(([&](const tensor_list& x) {
                     auto r = m(x[0]);
                     return tensor_list{r.output, r.h_n};
                   }),
                   in);
}

// Only some outputs used: the engine hands zeros for the others.
TEST(LSTMGradcheck, OnlyFinalStateUsed) {
  LSTM m(2, 2, {.num_layers = 2, .bidirectional = true, .dtype = kFloat64});
  auto in = inputs_of(m, {3, 2, 2}, {4, 2, 2}, true);
  EXPECT_GRADCHECK(([&](const tensor_list& x) { return tensor_list{m(x[0], {x[1], x[2]}).c_n}; }), in);
}
