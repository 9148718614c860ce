#include <cmath>

#include "support/test_support.h"

using namespace fm;
using namespace fm::optim;

TEST(Optimizer, SkipsParametersWithoutGradientsAndZeroGrad) {
  Tensor a = ones({2}, {.requires_grad = true});
  Tensor b = ones({2}, {.requires_grad = true});
  SGD opt({a, b}, {.lr = 0.5});
  sum(a * 2.0).backward();
  opt.step();
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{0, 0}));
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{1, 1}));
  opt.zero_grad(/*set_to_none=*/false);
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{0, 0}));
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(Optimizer, RejectsBadArguments) {
  Tensor a = ones({2}, {.requires_grad = true});
  EXPECT_THROW_MSG(SGD({a, a}, {.lr = 0.1}), "appears twice");
  EXPECT_THROW_MSG(SGD({a}, {.lr = -1}), "invalid learning rate");
  EXPECT_THROW_MSG(SGD({a}, {.lr = 0.1, .nesterov = true}), "nesterov");
  EXPECT_THROW_MSG(Adam({a}, {.beta1 = 1.0}), "betas");
  EXPECT_THROW_MSG(SGD({t(ones({2, 3}))}, {.lr = 0.1}), "contiguous");
}

TEST(Optimizer, StateRoundTripContinuesTheSameTrajectory) {
  auto run = [](Adam& opt, Tensor& w, int steps) {
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      sum(pow(w - 3.0, 2.0)).backward();
      opt.step();
    }
  };
  Tensor w1 = zeros({4}, {.dtype = kFloat64, .requires_grad = true});
  Adam a1({w1}, {.lr = 0.1, .amsgrad = true});
  run(a1, w1, 5);
  // a second optimizer restored from a1's state after 3 steps must land where a1 lands
  Tensor w2 = zeros({4}, {.dtype = kFloat64, .requires_grad = true});
  Adam a2({w2}, {.lr = 0.1, .amsgrad = true});
  run(a2, w2, 3);
  auto state = a2.state_dict();
  EXPECT_TRUE(state.count("0.exp_avg") && state.count("0.max_exp_avg_sq") && state.count("0.step"));
  Tensor w3 = clone(w2).detach().requires_grad_(true);
  Adam a3({w3}, {.lr = 0.1, .amsgrad = true});
  a3.load_state_dict(state);
  run(a3, w3, 2);
  EXPECT_CLOSE(w3, w1, 0, 0);
  auto bad = state;
  bad["0.exp_avg"] = zeros({5}, {.dtype = kFloat64});
  EXPECT_THROW_MSG(a3.load_state_dict(bad), "shape [5]");
}

TEST(Optimizer, ClipGradNormAndValue) {
  Tensor a = zeros({2}, {.requires_grad = true});
  a.set_grad(tensor({3.0, 4.0}));
  EXPECT_NEAR(clip_grad_norm_({a}, 1.0), 5.0, 1e-6);
  EXPECT_CLOSE(a.grad(), tensor({0.6, 0.8}), 1e-5, 1e-6);
  a.set_grad(tensor({NAN, 1.0}));
  EXPECT_THROW_MSG(clip_grad_norm_({a}, 1.0, 2, true), "total norm");
  a.set_grad(tensor({-3.0, 0.5}));
  clip_grad_value_({a}, 1.0);
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{-1, 0.5}));
}

TEST(Optimizer, Float32AdamMatchesTheFloat64TrajectoryClosely) {
  Tensor w32 = zeros({3}, {.requires_grad = true});
  Tensor w64 = zeros({3}, {.dtype = kFloat64, .requires_grad = true});
  Adam o32({w32}, {.lr = 0.05}), o64({w64}, {.lr = 0.05});
  for (int i = 0; i < 20; ++i) {
    for (auto* p : {&w32, &w64}) p->set_grad(Tensor());
    sum(pow(w32 - 1.0, 2.0)).backward();
    sum(pow(w64 - 1.0, 2.0)).backward();
    o32.step();
    o64.step();
  }
  EXPECT_CLOSE(to(w32, kFloat64), w64, 1e-5, 1e-6);
}
