// nn::LSTM and nn::GRU: shapes, parameter names, streaming, dropout, errors, threads, and the
// float32 (vectorised) path against float64 at batch sizes that take every path of the recurrent
// product. Values against PyTorch: tests/golden/rnn_golden_test.cpp; gradients:
// tests/layers/rnn_gradcheck_test.cpp.
#include <omp.h>

#include <cmath>

#include "layers/rnn.h"
#include "support/test_support.h"

using namespace fm;
using namespace fm::nn;
using fm::autograd::tensor_list;

namespace {

Tensor randu(const Shape& s, uint64_t seed, DType dt = kFloat32) {
  Generator g(seed);
  NoGradGuard ng;
  return add(mul(rand(s, {.dtype = dt}, &g), 2.0), -1.0);
}

int64_t count_zeros(const Tensor& t) {
  int64_t n = 0;
  for (double v : t.to_vector<double>()) n += v == 0.0;
  return n;
}

}  // namespace

TEST(LSTM, ShapesTimeMajorBatchFirstAndUnbatched) {
  LSTM m(6, 4, {.num_layers = 2, .bidirectional = true});
  auto r = m(randu({5, 3, 6}, 1));
  EXPECT_EQ(r.output.sizes(), (Shape{5, 3, 8}));
  EXPECT_EQ(r.h_n.sizes(), (Shape{4, 3, 4}));
  EXPECT_EQ(r.c_n.sizes(), (Shape{4, 3, 4}));

  LSTM bf(6, 4, {.num_layers = 3, .batch_first = true});
  auto b = bf(randu({3, 5, 6}, 2));
  EXPECT_EQ(b.output.sizes(), (Shape{3, 5, 4}));
  EXPECT_EQ(b.h_n.sizes(), (Shape{3, 3, 4}));

  auto u = m(randu({5, 6}, 3));
  EXPECT_EQ(u.output.sizes(), (Shape{5, 8}));
  EXPECT_EQ(u.h_n.sizes(), (Shape{4, 4}));
  EXPECT_EQ(u.c_n.sizes(), (Shape{4, 4}));
}

TEST(GRU, ShapesTimeMajorBatchFirstAndUnbatched) {
  GRU m(5, 3, {.num_layers = 2, .batch_first = true, .bidirectional = true});
  auto r = m(randu({2, 7, 5}, 1));
  EXPECT_EQ(r.output.sizes(), (Shape{2, 7, 6}));
  EXPECT_EQ(r.h_n.sizes(), (Shape{4, 2, 3}));
  auto u = m(randu({7, 5}, 2), randu({4, 3}, 3));
  EXPECT_EQ(u.output.sizes(), (Shape{7, 6}));
  EXPECT_EQ(u.h_n.sizes(), (Shape{4, 3}));
}

TEST(LSTM, UnbatchedEqualsBatchOfOne) {
  LSTM m(4, 3, {.num_layers = 2, .bidirectional = true});
  const Tensor x = randu({6, 4}, 5), h0 = randu({4, 3}, 6), c0 = randu({4, 3}, 7);
  auto u = m(x, {h0, c0});
  auto b = m(unsqueeze(x, 1), {unsqueeze(h0, 1), unsqueeze(c0, 1)});
  EXPECT_TRUE(equal(u.output, squeeze(b.output, 1)));
  EXPECT_TRUE(equal(u.h_n, squeeze(b.h_n, 1)));
  EXPECT_TRUE(equal(u.c_n, squeeze(b.c_n, 1)));
}

TEST(LSTM, ParameterNamesShapesAndInitAsPyTorch) {
  LSTM m(6, 4, {.num_layers = 2, .bidirectional = true});
  std::vector<std::string> names;
  for (auto& [k, v] : m.named_parameters()) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                       "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                       "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
                       "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"}));
  auto sd = m.state_dict();
  EXPECT_EQ(sd.at("weight_ih_l0").sizes(), (Shape{16, 6}));
  EXPECT_EQ(sd.at("weight_ih_l1_reverse").sizes(), (Shape{16, 8}));
  EXPECT_EQ(sd.at("weight_hh_l1").sizes(), (Shape{16, 4}));
  EXPECT_EQ(sd.at("bias_hh_l0_reverse").sizes(), (Shape{16}));
  for (auto& [k, v] : sd) {
    EXPECT_LE(max(abs(v)).item(), 0.5) << k;  // U(-1/sqrt(4), 1/sqrt(4))
    EXPECT_GT(max(abs(v)).item(), 0.3) << k;  // and actually spread over it
  }
  EXPECT_EQ(m.to_string(), "LSTM(6, 4, num_layers=2, bidirectional=True)");

  GRU g(3, 5, {.bias = false, .batch_first = true});
  names.clear();
  for (auto& [k, v] : g.named_parameters()) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"weight_ih_l0", "weight_hh_l0"}));
  EXPECT_EQ(g.named_parameters()[0].second.sizes(), (Shape{15, 3}));
  EXPECT_EQ(g.to_string(), "GRU(3, 5, bias=False, batch_first=True)");
}

// Streaming: chunks of 3, 1 and 4 steps, carrying the state, give the whole-sequence result
// (outputs, final states and gradients).
TEST(LSTM, StreamingEqualsWholeSequence) {
  for (bool bf : {false, true}) {
    SCOPED_TRACE(bf ? "batch_first" : "time-major");
    LSTM m(5, 4, {.num_layers = 2, .batch_first = bf, .dtype = kFloat64});
    const int64_t td = bf ? 1 : 0;
    const Tensor x = randu(bf ? Shape{3, 8, 5} : Shape{8, 3, 5}, 11, kFloat64);
    auto whole = m(x);
    LSTMState st;
    std::vector<Tensor> outs;
    int64_t t0 = 0;
    for (int64_t len : {3, 1, 4}) {
      auto r = m(narrow(x, td, t0, len), st);
      outs.push_back(r.output);
      st = r.state();
      t0 += len;
    }
    EXPECT_CLOSE(cat(outs, td), whole.output, 1e-12, 1e-14);
    EXPECT_CLOSE(st.h, whole.h_n, 1e-12, 1e-14);
    EXPECT_CLOSE(st.c, whole.c_n, 1e-12, 1e-14);
    // gradients flow through the carried state
    sum(cat(outs, td)).backward();
    std::vector<Tensor> g_stream;
    for (auto& p : m.parameters()) g_stream.push_back(p.grad());
    m.zero_grad();
    sum(whole.output).backward();
    auto ps = m.parameters();
    for (size_t i = 0; i < ps.size(); ++i) EXPECT_CLOSE(g_stream[i], ps[i].grad(), 1e-10, 1e-12);
  }
}

TEST(GRU, StreamingEqualsWholeSequence) {
  for (bool bf : {false, true}) {
    SCOPED_TRACE(bf ? "batch_first" : "time-major");
    GRU m(5, 4, {.num_layers = 2, .batch_first = bf, .dtype = kFloat64});
    const int64_t td = bf ? 1 : 0;
    const Tensor x = randu(bf ? Shape{3, 8, 5} : Shape{8, 3, 5}, 12, kFloat64);
    const Tensor h0 = randu({2, 3, 4}, 13, kFloat64);
    auto whole = m(x, h0);
    Tensor h = h0;
    std::vector<Tensor> outs;
    for (int64_t t = 0; t < 8; ++t) {  // one step at a time
      auto r = m(narrow(x, td, t, 1), h);
      outs.push_back(r.output);
      h = r.h_n;
    }
    EXPECT_CLOSE(cat(outs, td), whole.output, 1e-12, 1e-14);
    EXPECT_CLOSE(h, whole.h_n, 1e-12, 1e-14);
  }
}

TEST(LSTM, DropoutBetweenLayersOnlyInTraining) {
  LSTM a(4, 6, {.num_layers = 3, .dropout = 0.5});
  LSTM b(4, 6, {.num_layers = 3});
  b.load_state_dict(a.state_dict());
  const Tensor x = randu({5, 2, 4}, 21);
  a.eval();
  EXPECT_TRUE(equal(a(x).output, b(x).output));  // eval: no dropout
  a.train();
  const Tensor yt = a(x).output;
  EXPECT_FALSE(equal(yt, b(x).output));  // training: dropout between layers changes the result
  EXPECT_EQ(count_zeros(yt), 0);          // but the last layer's output is not dropped out
  // one layer: nothing to drop between
  LSTM one(4, 6, {.dropout = 0.5});
  EXPECT_TRUE(equal(one(x).output, [&] { one.eval(); return one(x).output; }()));
}

TEST(GRU, DropoutBetweenLayersOnlyInTraining) {
  GRU a(4, 6, {.num_layers = 2, .dropout = 0.3, .bidirectional = true});
  GRU b(4, 6, {.num_layers = 2, .bidirectional = true});
  b.load_state_dict(a.state_dict());
  const Tensor x = randu({5, 2, 4}, 22);
  a.eval();
  EXPECT_TRUE(equal(a(x).output, b(x).output));
  a.train();
  const Tensor yt = a(x).output;
  EXPECT_FALSE(equal(yt, b(x).output));
  EXPECT_EQ(count_zeros(yt), 0);
}

// The float32 path (vectorised sigmoid/tanh) against the float64 path (libm), forward and
// backward; batch 3 and 13 use the register-tiled recurrent product (8-, 4- and 1-row tiles),
// batch 40 uses BLAS.
TEST(LSTM, Float32MatchesFloat64) {
  for (int64_t n : {3, 13, 40}) {
    SCOPED_TRACE(n);
    LSTM m32(7, 256, {.num_layers = 2, .bidirectional = true});
    LSTM m64(7, 256, {.num_layers = 2, .bidirectional = true, .dtype = kFloat64});
    m64.load_state_dict(m32.state_dict());
    const Tensor x32 = mul(randu({4, n, 7}, 31), 3.0).requires_grad_(true);
    const Tensor x64 = to(x32.detach(), kFloat64).requires_grad_(true);
    auto r32 = m32(x32);
    auto r64 = m64(x64);
    EXPECT_CLOSE(to(r32.output, kFloat64), r64.output, 1e-4, 1e-5);
    EXPECT_CLOSE(to(r32.c_n, kFloat64), r64.c_n, 1e-4, 1e-5);
    sum(mul(r32.output, r32.output)).backward();
    sum(mul(r64.output, r64.output)).backward();
    EXPECT_CLOSE(to(x32.grad(), kFloat64), x64.grad(), 1e-3, 1e-4);
    EXPECT_CLOSE(to(m32.named_parameters()[1].second.grad(), kFloat64), m64.named_parameters()[1].second.grad(),
                 1e-3, 1e-3);
  }
}

TEST(GRU, Float32MatchesFloat64) {
  for (int64_t n : {3, 13, 40}) {
    SCOPED_TRACE(n);
    GRU m32(7, 256, {.num_layers = 2, .bidirectional = true});
    GRU m64(7, 256, {.num_layers = 2, .bidirectional = true, .dtype = kFloat64});
    m64.load_state_dict(m32.state_dict());
    const Tensor x32 = mul(randu({4, n, 7}, 32), 3.0).requires_grad_(true);
    const Tensor x64 = to(x32.detach(), kFloat64).requires_grad_(true);
    auto r32 = m32(x32);
    auto r64 = m64(x64);
    EXPECT_CLOSE(to(r32.output, kFloat64), r64.output, 1e-4, 1e-5);
    sum(mul(r32.output, r32.output)).backward();
    sum(mul(r64.output, r64.output)).backward();
    EXPECT_CLOSE(to(x32.grad(), kFloat64), x64.grad(), 1e-3, 1e-4);
    EXPECT_CLOSE(to(m32.named_parameters()[1].second.grad(), kFloat64), m64.named_parameters()[1].second.grad(),
                 1e-3, 1e-3);
  }
}

TEST(LSTM, ErrorsNameTheLayerAndShapes) {
  LSTM m(6, 4, {.num_layers = 2, .bidirectional = true});
  EXPECT_THROW_MSG(m(randu({5, 3, 7}, 1)), "LSTM: input float32[5, 3, 7] on cpu has 7 features in its last dimension, but input_size is 6");
  EXPECT_THROW_MSG(m(randu({2, 5, 3, 6}, 1)), "LSTM: expected a 3-D input [seq, batch, input_size]");
  EXPECT_THROW_MSG(m(randu({5, 3, 6}, 1), {randu({2, 3, 4}, 2), randu({4, 3, 4}, 3)}),
                   "LSTM: initial state h0 float32[2, 3, 4] on cpu should have shape [4, 3, 4]");
  EXPECT_THROW_MSG(m(randu({5, 3, 6}, 1), {randu({4, 3, 4}, 2), randu({4, 2, 4}, 3)}),
                   "initial state c0 float32[4, 2, 4] on cpu should have shape [4, 3, 4]");
  EXPECT_THROW_MSG(m(randu({5, 3, 6}, 1), {randu({4, 3, 4}, 2), Tensor()}), "LSTM: give both h0 and c0");
  EXPECT_THROW_MSG(m(randu({5, 3, 6}, 1, kFloat64)), "does not match the parameters' dtype float32");
  EXPECT_THROW_MSG(m(randu({0, 3, 6}, 1)), "LSTM: the input sequence is empty");
  EXPECT_THROW_MSG(LSTM(0, 4), "LSTM: input_size and hidden_size must be positive");
  EXPECT_THROW_MSG(GRU(3, 4, {.num_layers = 0}), "GRU: num_layers must be at least 1");
  GRU g(3, 4, {.batch_first = true});
  EXPECT_THROW_MSG(g(randu({2, 5, 4}, 1)), "GRU: input float32[2, 5, 4] on cpu has 4 features");
  EXPECT_THROW_MSG(g(randu({2, 5, 3}, 1), randu({1, 5, 4}, 2)), "GRU: initial state h0 float32[1, 5, 4] on cpu should have shape [1, 2, 4]");
  EXPECT_THROW_MSG(g(randu({7}, 1)), "GRU: expected a 3-D input [batch, seq, input_size]");
}

TEST(LSTM, DoubleBackwardThrowsClearly) {
  LSTM m(3, 2, {.dtype = kFloat64});
  const Tensor x = randu({4, 2, 3}, 41, kFloat64).requires_grad_(true);
  const Tensor y = sum(m(x).output);
  EXPECT_THROW_MSG(autograd::grad({y}, {x}, {}, true, /*create_graph=*/true),
                   "LSTM: double backward (create_graph=true) through the fused LSTM layer is not supported");
  GRU g(3, 2, {.dtype = kFloat64});
  const Tensor z = sum(g(x).output);
  EXPECT_THROW_MSG(autograd::grad({z}, {x}, {}, true, true), "GRU: double backward");
  // first derivatives still work on the same graph
  EXPECT_EQ(autograd::grad({z}, {x})[0].sizes(), x.sizes());
}

TEST(LSTM, NoGraphUnderNoGrad) {
  LSTM m(3, 2, {.num_layers = 2});
  NoGradGuard ng;
  auto r = m(randu({4, 2, 3}, 51));
  EXPECT_FALSE(r.output.requires_grad());
  EXPECT_FALSE(r.h_n.requires_grad());
}

TEST(LSTM, ForwardHookSeesTheOutput) {
  LSTM m(3, 2);
  Shape seen;
  m.register_forward_hook([&](const Module&, const Tensor& y) { seen = y.sizes(); });
  m(randu({4, 2, 3}, 52));
  EXPECT_EQ(seen, (Shape{4, 2, 2}));
}

TEST(LSTM, ModifyingWeightsBeforeBackwardIsAnError) {
  LSTM m(3, 2);
  const Tensor y = sum(m(randu({4, 2, 3}, 53)).output);
  {
    NoGradGuard ng;
    Tensor w = m.named_parameters()[0].second;
    mul_(w, 2.0);
  }
  EXPECT_THROW_MSG(y.backward(), "modified by an in-place operation");
}

// Threads: a small-batch bidirectional layer runs its directions on two threads, and a large step
// splits its batch rows over threads; any thread count must give the single-thread result.
TEST(LSTM, ThreadedRecurrenceMatchesOneThread) {
  struct Size {
    int64_t hidden, batch, steps;
  };
  for (const Size& sz : {Size{96, 7, 6}, Size{100, 7, 6}, Size{128, 256, 2}}) {
    SCOPED_TRACE(sz.hidden);
    const int64_t H = sz.hidden, N = sz.batch;
    LSTM m(5, H, {.num_layers = 2, .bidirectional = true, .dtype = kFloat64});
    GRU g(5, H, {.num_layers = 2, .bidirectional = true, .dtype = kFloat64});
    const Tensor x = randu({sz.steps, N, 5}, 61, kFloat64);
    const Tensor h0 = randu({4, N, H}, 62, kFloat64), c0 = randu({4, N, H}, 63, kFloat64);
    auto run = [&](int threads) {
      const int prev = omp_get_max_threads();
      omp_set_num_threads(threads);
      Tensor xl = x.detach().requires_grad_(true), hl = h0.detach().requires_grad_(true);
      m.zero_grad();
      g.zero_grad();
      auto a = m(xl, {hl, c0});
      auto b = g(xl, hl);
      sum(mul(a.output, a.output)).backward();
      sum(mul(b.output, b.output)).backward();
      omp_set_num_threads(prev);
      tensor_list out{a.output, a.h_n, a.c_n, b.output, b.h_n, xl.grad(), hl.grad()};
      for (auto& p : m.parameters()) out.push_back(p.grad());
      for (auto& p : g.parameters()) out.push_back(p.grad());
      return out;
    };
    const auto ref = run(1);
    for (int threads : {2, 3}) {
      const auto got = run(threads);
      for (size_t i = 0; i < ref.size(); ++i) EXPECT_CLOSE(got[i], ref[i], 1e-12, 1e-13) << threads << " threads, " << i;
    }
  }
}
