// Optimizer trajectories and LR schedules against PyTorch 1.13 (tests/golden/make_golden_optim.py).
#include <functional>
#include <memory>

#include "support/test_support.h"

using namespace fm;
using namespace fm::optim;

namespace {

const std::map<std::string, Tensor>& data() {
  static const auto d = load_safetensors(fm::testing::data_path("golden/data/optim.safetensors"));
  return d;
}
Tensor at(const std::string& k) {
  auto it = data().find(k);
  if (it == data().end()) ADD_FAILURE() << "golden file has no '" << k << "'";
  return it == data().end() ? Tensor() : it->second;
}
constexpr int kSteps = 6;

Tensor loss_of(const Tensor& W, const Tensor& b) {
  const Tensor r = matmul(at("data.x"), W) + b - at("data.y");
  return sum(r * r) + sum(pow(W, 3.0)) * 0.1;
}

void check_trajectory(const std::string& name, const std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>& make,
                      double clip = 0) {
  SCOPED_TRACE(name);
  Tensor W = clone(at("init.W")).requires_grad_(true);
  Tensor b = clone(at("init.b")).requires_grad_(true);
  auto opt = make({W, b});
  for (int k = 0; k < kSteps; ++k) {
    opt->zero_grad();
    loss_of(W, b).backward();
    if (clip > 0) {
      const double n = clip_grad_norm_({W, b}, clip);
      EXPECT_NEAR(n, at(name + ".norm." + std::to_string(k)).item(), 1e-12);
    }
    opt->step();
    EXPECT_CLOSE(W, at(name + ".W." + std::to_string(k)), 1e-11, 1e-13);
    EXPECT_CLOSE(b, at(name + ".b." + std::to_string(k)), 1e-11, 1e-13);
  }
}

template <class O, class Opts>
std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)> maker(Opts o) {
  return [o](std::vector<Tensor> p) { return std::make_unique<O>(std::move(p), o); };
}

}  // namespace

TEST(OptimGolden, SGD) {
  check_trajectory("sgd", maker<SGD>(SGDOptions{.lr = 0.05}));
  check_trajectory("sgd_momentum", maker<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01}));
  check_trajectory("sgd_nesterov", maker<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true}));
  check_trajectory("sgd_clip", maker<SGD>(SGDOptions{.lr = 0.05}), 0.5);
}

TEST(OptimGolden, Adam) {
  check_trajectory("adam", maker<Adam>(AdamOptions{.lr = 0.01}));
  check_trajectory("adam_wd_amsgrad",
                   maker<Adam>(AdamOptions{.lr = 0.01, .beta1 = 0.8, .beta2 = 0.99, .weight_decay = 0.1, .amsgrad = true}));
}

TEST(OptimGolden, AdamW) {
  check_trajectory("adamw", maker<AdamW>(AdamOptions{.lr = 0.01, .weight_decay = 1e-2}));
  check_trajectory("adamw_amsgrad", maker<AdamW>(AdamOptions{.lr = 0.02, .weight_decay = 0.05, .amsgrad = true}));
}

TEST(OptimGolden, RMSprop) {
  check_trajectory("rmsprop", maker<RMSprop>(RMSpropOptions{.lr = 0.01}));
  check_trajectory("rmsprop_centered_momentum",
                   maker<RMSprop>(RMSpropOptions{.lr = 0.01, .alpha = 0.9, .weight_decay = 0.01, .momentum = 0.5, .centered = true}));
}

namespace {
void check_schedule(const std::string& name, const std::function<std::shared_ptr<LRScheduler>(Optimizer&)>& make,
                    bool momentum = false) {
  SCOPED_TRACE(name);
  Tensor p = zeros({1}, {.requires_grad = true});
  SGD opt({p}, {.lr = 0.1, .momentum = 0.9});
  auto sched = make(opt);
  const auto lrs = at(name + ".lr").to_vector<double>();
  const auto moms = momentum ? at(name + ".momentum").to_vector<double>() : std::vector<double>();
  ASSERT_GT(lrs.size(), 1u);
  for (size_t k = 0; k < lrs.size(); ++k) {
    if (k > 0) sched->step();
    EXPECT_NEAR(opt.lr(), lrs[k], 1e-12) << "step " << k;
    if (momentum) EXPECT_NEAR(opt.momentum(), moms[k], 1e-12) << "step " << k;
  }
}
}  // namespace

TEST(OptimGolden, Schedules) {
  check_schedule("step", [](Optimizer& o) { return std::make_shared<StepLR>(o, 3, 0.5); });
  check_schedule("multistep", [](Optimizer& o) { return std::make_shared<MultiStepLR>(o, std::vector<int64_t>{2, 5, 9}, 0.3); });
  check_schedule("exponential", [](Optimizer& o) { return std::make_shared<ExponentialLR>(o, 0.9); });
  check_schedule("cosine", [](Optimizer& o) { return std::make_shared<CosineAnnealingLR>(o, 10, 0.001); });
  check_schedule("linear", [](Optimizer& o) { return std::make_shared<LinearLR>(o, 0.25, 1.0, 4); });
  check_schedule("warmup_cosine", [](Optimizer& o) {
    auto warm = std::make_shared<LinearLR>(o, 0.1, 1.0, 3);
    auto cos = std::make_shared<CosineAnnealingLR>(o, 8);
    return std::make_shared<SequentialLR>(o, std::vector<std::shared_ptr<LRScheduler>>{warm, cos}, std::vector<int64_t>{3});
  });
  check_schedule("onecycle", [](Optimizer& o) { return std::make_shared<OneCycleLR>(o, 1.0, 13); }, true);
  check_schedule("onecycle_linear3", [](Optimizer& o) {
    return std::make_shared<OneCycleLR>(o, 0.5, 13, OneCycleOptions{.anneal_strategy = "linear", .three_phase = true});
  }, true);
}

TEST(OptimGolden, ReduceLROnPlateau) {
  Tensor p = zeros({1}, {.requires_grad = true});
  SGD opt({p}, {.lr = 1.0});
  ReduceLROnPlateau sched(opt, {.factor = 0.5, .patience = 2, .cooldown = 1});
  const auto metrics = at("plateau.metrics").to_vector<double>();
  const auto lrs = at("plateau.lr").to_vector<double>();
  ASSERT_EQ(metrics.size(), lrs.size());
  for (size_t k = 0; k < metrics.size(); ++k) {
    sched.step(metrics[k]);
    EXPECT_NEAR(opt.lr(), lrs[k], 1e-15) << "step " << k;
  }
}
