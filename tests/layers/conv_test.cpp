// Convolution and pooling: values against a naive reference, output shapes, error messages,
// and the modules (parameters, init, state_dict, printing, padding modes).
#include <cmath>

#include "layers/basic.h"
#include "layers/conv.h"
#include "layers/pool.h"
#include "support/test_support.h"

using namespace fm;
using namespace fm::nn;

namespace {

// Direct 7-loop convolution in double, for x[N, C, H, W], w[O, C/g, kh, kw], symmetric or
// explicit (top, left) padding with the output size given.
Tensor naive_conv2d(const Tensor& x0, const Tensor& w0, const Tensor& b0, Int2 s, Int2 pad, Int2 d, int64_t groups,
                    int64_t Ho, int64_t Wo) {
  const Tensor x = to(x0.detach(), kFloat64), w = to(w0.detach(), kFloat64);
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), O = w.size(0);
  const int64_t Cg = C / groups, Og = O / groups, kh = w.size(2), kw = w.size(3);
  const auto xv = contiguous(x).to_vector<double>(), wv = contiguous(w).to_vector<double>();
  std::vector<double> bv(O, 0.0);
  if (b0.defined()) bv = to(b0.detach(), kFloat64).to_vector<double>();
  std::vector<double> y(N * O * Ho * Wo);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          double acc = bv[o];
          const int64_t g = o / Og;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t ih = oh * s.h - pad.h + i * d.h, iw = ow * s.w - pad.w + j * d.w;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += xv[((n * C + g * Cg + c) * H + ih) * W + iw] * wv[((o * Cg + c) * kh + i) * kw + j];
              }
          y[((n * O + o) * Ho + oh) * Wo + ow] = acc;
        }
  return from_vector(y, {N, O, Ho, Wo}, {.dtype = kFloat64});
}

}  // namespace

TEST(Conv, Conv2dMatchesNaiveReference) {
  struct Cfg {
    Shape x, w;
    Int2 s, p, d;
    int64_t g;
  };
  const std::vector<Cfg> cfgs = {
      {{2, 3, 9, 10}, {4, 3, 3, 3}, 1, 1, 1, 1},       {{1, 4, 11, 7}, {6, 2, 3, 2}, {2, 1}, {1, 0}, {1, 2}, 2},
      {{2, 2, 20, 5}, {3, 2, 12, 1}, 1, 0, 1, 1},      {{2, 2, 4, 16}, {5, 2, 1, 7}, 1, {0, 3}, 1, 1},
      {{1, 6, 5, 5}, {6, 1, 3, 3}, {2, 2}, 1, 1, 6},   {{3, 4, 6, 6}, {8, 4, 1, 1}, 1, 0, 1, 1},
      {{1, 3, 13, 9}, {2, 3, 4, 3}, {3, 2}, 2, {2, 1}, 1},
  };
  for (DType dt : {kFloat64, kFloat32}) {
    for (const auto& c : cfgs) {
      Generator gen(3);
      const Tensor x = rand(c.x, {.dtype = dt}, &gen), w = rand(c.w, {.dtype = dt}, &gen);
      const Tensor b = rand({c.w[0]}, {.dtype = dt}, &gen);
      const Tensor y = conv2d(x, w, b, c.s, c.p, c.d, c.g);
      const int64_t Ho = (c.x[2] + 2 * c.p.h - c.d.h * (c.w[2] - 1) - 1) / c.s.h + 1;
      const int64_t Wo = (c.x[3] + 2 * c.p.w - c.d.w * (c.w[3] - 1) - 1) / c.s.w + 1;
      ASSERT_EQ(y.sizes(), (Shape{c.x[0], c.w[0], Ho, Wo}));
      EXPECT_EQ(y.dtype(), dt);
      const double tol = dt == kFloat64 ? 1e-12 : 1e-5;
      EXPECT_CLOSE(to(y, kFloat64), naive_conv2d(x, w, b, c.s, c.p, c.d, c.g, Ho, Wo), tol, tol);
    }
  }
}

TEST(Conv, SamePaddingPadsLikePyTorch) {
  // even kernel: total padding d*(k-1) = 3, one before, two after (PyTorch puts the extra after)
  Generator gen(5);
  const Tensor x = rand({1, 2, 7, 6}, {.dtype = kFloat64}, &gen), w = rand({3, 2, 4, 2}, {.dtype = kFloat64}, &gen);
  const Tensor y = conv2d(x, w, Tensor(), 1, "same");
  ASSERT_EQ(y.sizes(), (Shape{1, 3, 7, 6}));
  const Tensor xp = pad(x, {0, 1, 1, 2});  // (left, right, top, bottom)
  EXPECT_CLOSE(y, conv2d(xp, w), 1e-12, 1e-12);
  const Tensor y1 = conv1d(select(x, 2, 0), select(w, 2, 0), Tensor(), 1, "same", 3);  // k=2, d=3: 1 + 2
  EXPECT_CLOSE(y1, conv1d(pad(select(x, 2, 0), {1, 2}), select(w, 2, 0), Tensor(), 1, 0, 3), 1e-12, 1e-12);
  EXPECT_EQ(conv2d(x, w, Tensor(), 1, "valid").sizes(), (Shape{1, 3, 4, 5}));
}

TEST(Conv, ConvTransposeIsTheAdjointOfConv) {
  // <conv(x, w), y> == <x, conv_transpose(y, w)>, with output_padding filling the size back
  Generator gen(7);
  const Tensor x = rand({2, 4, 10}, {.dtype = kFloat64}, &gen), w = rand({6, 2, 3}, {.dtype = kFloat64}, &gen);
  const Tensor cx = conv1d(x, w, Tensor(), 2, 1, 2, 2);
  const Tensor y = rand(cx.sizes(), {.dtype = kFloat64}, &gen);
  const Tensor ty = conv_transpose1d(y, w, Tensor(), 2, 1, 1, 2, 2);
  ASSERT_EQ(ty.sizes(), x.sizes());
  EXPECT_NEAR(sum(mul(cx, y)).item(), sum(mul(x, ty)).item(), 1e-10);
  // PyTorch's output size formula
  EXPECT_EQ(conv_transpose1d(rand({1, 3, 5}), rand({3, 2, 4}), Tensor(), 3, 2, 1, 1, 2).sizes(),
            (Shape{1, 2, (5 - 1) * 3 - 4 + 2 * 3 + 1 + 1}));
  EXPECT_EQ(conv_transpose2d(rand({1, 3, 5, 4}), rand({3, 2, 3, 2}), Tensor(), {2, 1}, {1, 0}, {1, 0}).sizes(),
            (Shape{1, 2, 10, 5}));
}

TEST(Conv, ErrorsNameTheProblem) {
  const Tensor x = rand({2, 4, 8, 8});
  EXPECT_THROW_MSG(conv2d(x, rand({3, 3, 3, 3})), "has 4 channels but weight");
  EXPECT_THROW_MSG(conv2d(x, rand({3, 2, 3, 3}), Tensor(), 1, 0, 1, 2), "divisible by groups");
  EXPECT_THROW_MSG(conv2d(x, rand({4, 4, 3, 3}), Tensor(), 1, 0, 1, 0), "groups must be positive");
  EXPECT_THROW_MSG(conv2d(x, rand({4, 4, 10, 3})), "larger than the padded input");
  EXPECT_THROW_MSG(conv2d(x, rand({4, 4, 3, 3}), rand({5})), "bias");
  EXPECT_THROW_MSG(conv2d(x, rand({4, 4, 3, 3}), Tensor(), 2, "same"), "strided");
  EXPECT_THROW_MSG(conv2d(x, rand({4, 4, 3, 3}), Tensor(), 1, "full"), "'same' or 'valid'");
  EXPECT_THROW_MSG(conv2d(x, rand({4, 4, 3, 3}), Tensor(), 0), "stride must be positive");
  EXPECT_THROW_MSG(conv2d(rand({4, 8}), rand({4, 4, 3, 3})), "expected a 3-D (unbatched) or 4-D (batched) input");
  EXPECT_THROW_MSG(conv2d(x, rand({4, 4, 3, 3}, {.dtype = kFloat64})), "same dtype");
  EXPECT_THROW_MSG(conv1d(rand({2, 4, 8}), rand({4, 4, 3, 1})), "3-D weight");
  EXPECT_THROW_MSG(conv_transpose1d(rand({2, 4, 8}), rand({4, 2, 3}), Tensor(), 2, 0, 2), "output_padding");
  EXPECT_THROW_MSG(conv_transpose1d(rand({2, 3, 8}), rand({4, 2, 3})), "has 3 channels but weight");
  EXPECT_THROW_MSG(max_pool2d(x, 2, Int2{2}, 2), "at most half of the kernel size");
  EXPECT_THROW_MSG(max_pool1d(rand({1, 1, 2}), 3), "too small");
  EXPECT_THROW_MSG(avg_pool2d(rand({8, 8}), 2), "expected a 3-D (unbatched) or 4-D (batched) input");
  EXPECT_THROW_MSG(adaptive_avg_pool1d(rand({1, 2, 5}), 0), "output size must be positive");
}

TEST(Pool, ValuesOnARamp) {
  // x[0, 0] = 0..34 as 5x7: every window's maximum is its bottom-right element
  const Tensor x = reshape(arange(0, 35, 1, {.dtype = kFloat64}), {1, 1, 5, 7});
  auto [y, idx] = max_pool2d_with_indices(x, 2);
  EXPECT_TRUE(equal(y, from_vector(std::vector<double>{8, 10, 12, 22, 24, 26}, {1, 1, 2, 3})));
  EXPECT_TRUE(equal(idx, from_vector(std::vector<int64_t>{8, 10, 12, 22, 24, 26}, {1, 1, 2, 3})));
  EXPECT_EQ(max_pool2d(x, 2, std::nullopt, 0, 1, true).sizes(), (Shape{1, 1, 3, 4}));
  EXPECT_DOUBLE_EQ(avg_pool2d(x, 2).to_vector<double>()[0], (0 + 1 + 7 + 8) / 4.0);
  // padding: count_include_pad divides the corner window (one real element, 0) by 4 or by 1
  EXPECT_DOUBLE_EQ(avg_pool2d(add(x, 1.0), 2, Int2{2}, 1).to_vector<double>()[0], 0.25);
  EXPECT_DOUBLE_EQ(avg_pool2d(add(x, 1.0), 2, Int2{2}, 1, false, false).to_vector<double>()[0], 1.0);
  // adaptive windows [floor(i*7/3), ceil((i+1)*7/3)) = [0,3), [2,5), [4,7) along the rows of 7
  const Tensor row = reshape(arange(0, 7, 1, {.dtype = kFloat64}), {1, 1, 7});
  EXPECT_TRUE(equal(adaptive_avg_pool1d(row, 3), from_vector(std::vector<double>{1, 3, 5}, {1, 1, 3})));
  auto [m, mi] = adaptive_max_pool1d_with_indices(row, 3);
  EXPECT_TRUE(equal(m, from_vector(std::vector<double>{2, 4, 6}, {1, 1, 3})));
  EXPECT_TRUE(equal(mi, from_vector(std::vector<int64_t>{2, 4, 6}, {1, 1, 3})));
  // NaN wins, as in PyTorch
  const Tensor nan = from_vector(std::vector<double>{1, NAN, 3, 2}, {1, 1, 4});
  EXPECT_TRUE(std::isnan(max_pool1d(nan, 2).to_vector<double>()[0]));
  // global pooling, unbatched
  EXPECT_EQ(adaptive_avg_pool2d(rand({3, 5, 4}), 1).sizes(), (Shape{3, 1, 1}));
  EXPECT_EQ(adaptive_max_pool2d(rand({2, 3, 5, 4}), {2, 3}).sizes(), (Shape{2, 3, 2, 3}));
}

TEST(ConvModule, ParametersInitAndStateDict) {
  Conv2d conv(3, 8, {12, 1}, {.padding = "same"});
  EXPECT_EQ(conv.weight.sizes(), (Shape{8, 3, 12, 1}));
  auto sd = conv.state_dict();
  ASSERT_EQ(sd.size(), 2u);
  EXPECT_TRUE(sd.count("weight") && sd.count("bias"));
  const double bound = 1 / std::sqrt(3.0 * 12);  // kaiming_uniform(a=sqrt(5)) and the bias: 1/sqrt(fan_in)
  EXPECT_LE(amax(abs(conv.weight)).item(), bound);
  EXPECT_LE(amax(abs(conv.bias)).item(), bound);
  EXPECT_GT(amax(abs(conv.weight)).item(), 0.5 * bound);
  EXPECT_EQ(conv(rand({2, 3, 20, 9})).sizes(), (Shape{2, 8, 20, 9}));

  Conv1d c1(4, 6, 5, {.stride = 2, .groups = 2, .bias = false});
  EXPECT_EQ(c1.weight.sizes(), (Shape{6, 2, 5}));
  EXPECT_EQ(c1.state_dict().size(), 1u);
  EXPECT_EQ(c1(rand({1, 4, 11})).sizes(), (Shape{1, 6, 4}));

  // ConvTranspose: weight [in, out/groups, k]; fan_in from that layout = (out/groups) * k
  ConvTranspose1d ct(4, 6, 3, {.stride = 2, .groups = 2});
  EXPECT_EQ(ct.weight.sizes(), (Shape{4, 3, 3}));
  EXPECT_LE(amax(abs(ct.bias)).item(), 1 / std::sqrt(9.0));
  EXPECT_GT(amax(abs(ct.bias)).item(), 1 / std::sqrt(9.0) * 0.3);
  EXPECT_EQ(ct(rand({2, 4, 5})).sizes(), (Shape{2, 6, 11}));
  ConvTranspose2d ct2(2, 4, {3, 2}, {.stride = {2, 1}});
  EXPECT_EQ(ct2(rand({1, 2, 3, 3})).sizes(), (Shape{1, 4, 7, 4}));
}

TEST(ConvModule, ReprMatchesPyTorch) {
  EXPECT_EQ(Conv2d(1, 64, 3, {.padding = 1}).to_string(), "Conv2d(1, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))");
  EXPECT_EQ(Conv2d(64, 128, {12, 1}, {.bias = false}).to_string(),
            "Conv2d(64, 128, kernel_size=(12, 1), stride=(1, 1), bias=False)");
  EXPECT_EQ(Conv2d(4, 4, {1, 7}, {.padding = "same", .dilation = {1, 2}, .groups = 2}).extra_repr(),
            "4, 4, kernel_size=(1, 7), stride=(1, 1), padding=same, dilation=(1, 2), groups=2");
  EXPECT_EQ(Conv1d(16, 33, 3, {.stride = 2, .padding_mode = "reflect"}).extra_repr(),
            "16, 33, kernel_size=(3,), stride=(2,), padding_mode=reflect");
  EXPECT_EQ(ConvTranspose1d(16, 33, 3, {.stride = 2, .padding = 1, .output_padding = 1}).extra_repr(),
            "16, 33, kernel_size=(3,), stride=(2,), padding=(1,), output_padding=(1,)");
  EXPECT_EQ(MaxPool2d(3).to_string(), "MaxPool2d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)");
  EXPECT_EQ(MaxPool1d(2, {.stride = 1, .ceil_mode = true}).extra_repr(),
            "kernel_size=2, stride=1, padding=0, dilation=1, ceil_mode=True");
  EXPECT_EQ(AvgPool1d(3).extra_repr(), "kernel_size=(3,), stride=(3,), padding=(0,)");
  EXPECT_EQ(AvgPool2d({3, 2}, {.stride = 2}).extra_repr(), "kernel_size=(3, 2), stride=2, padding=0");
  EXPECT_EQ(AdaptiveAvgPool2d({5, 7}).to_string(), "AdaptiveAvgPool2d(output_size=(5, 7))");
  EXPECT_EQ(AdaptiveMaxPool1d(4).to_string(), "AdaptiveMaxPool1d(output_size=4)");
}

TEST(ConvModule, PaddingModes) {
  Conv2d zeros(2, 3, {3, 2}, {.padding = {1, 2}, .dtype = kFloat64});
  Conv2d refl(2, 3, {3, 2}, {.padding = {1, 2}, .padding_mode = "reflect", .dtype = kFloat64});
  refl.load_state_dict(zeros.state_dict());
  const Tensor x = rand({1, 2, 5, 6}, {.dtype = kFloat64});
  EXPECT_CLOSE(refl(x), conv2d(pad(x, {2, 2, 1, 1}, "reflect"), zeros.weight, zeros.bias), 1e-12, 1e-12);
  Conv1d rep(2, 2, 4, {.padding = "same", .padding_mode = "replicate", .dtype = kFloat64});
  const Tensor x1 = rand({1, 2, 6}, {.dtype = kFloat64});
  EXPECT_CLOSE(rep(x1), conv1d(pad(x1, {1, 2}, "replicate"), rep.weight, rep.bias), 1e-12, 1e-12);
  EXPECT_THROW_MSG(Conv2d(2, 3, 3, {.padding_mode = "circular"}), "padding_mode");
  EXPECT_THROW_MSG(Conv2d(3, 4, 3, {.groups = 2}), "in_channels (3) must be divisible by groups (2)");
  EXPECT_THROW_MSG(Conv1d(2, 4, 3, {.stride = 2, .padding = "same"}), "strided");
  EXPECT_THROW_MSG(ConvTranspose1d(2, 4, 3, {.stride = 2, .output_padding = 2}), "output_padding");
}

TEST(ConvModule, SmallNetTrainsABitAndPoolsGiveIndices) {
  Sequential net({std::make_shared<Conv2d>(1, 4, 3, Conv2dOptions{.padding = 1}), ReLU(),
                  std::make_shared<MaxPool2d>(2), std::make_shared<Conv2d>(4, 4, Int2{3, 1}), ReLU(),
                  std::make_shared<AdaptiveAvgPool2d>(1), std::make_shared<Flatten>(), std::make_shared<Linear>(4, 2)});
  const Tensor x = rand({3, 1, 8, 6});
  Tensor loss = sum(mul(net(x), net(x)));
  loss.backward();
  for (auto& [name, p] : net.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_EQ(p.grad().sizes(), p.sizes()) << name;
  }
  MaxPool1d mp(2);
  auto [y, idx] = mp.forward_with_indices(rand({2, 3, 9}));
  EXPECT_EQ(y.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(idx.dtype(), kInt64);
  AdaptiveMaxPool2d amp({2, 2});
  EXPECT_EQ(amp.forward_with_indices(rand({1, 5, 5})).second.sizes(), (Shape{1, 2, 2}));
  EXPECT_EQ(AvgPool2d(2, {.ceil_mode = true})(rand({1, 1, 5, 5})).sizes(), (Shape{1, 1, 3, 3}));
}

TEST(Pool, InPlaceChangesToSavedTensorsAreCaught) {
  Tensor x = rand({1, 1, 4, 4}).requires_grad_(true);
  auto [y, idx] = max_pool2d_with_indices(x, 2);
  fill_(idx, 0.0);
  EXPECT_THROW_MSG(sum(y).backward(), "modified by an in-place operation");
  Tensor w = rand({2, 1, 3, 3}).requires_grad_(true);
  Tensor h = mul(x, 2.0);
  Tensor c = conv2d(h, w);
  add_(h, 1.0);
  EXPECT_THROW_MSG(sum(c).backward(), "modified by an in-place operation");
}
