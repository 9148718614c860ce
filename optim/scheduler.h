#pragma once
// Learning-rate schedules with PyTorch's semantics: construction applies epoch 0's rate, and
// each step() advances one epoch (or one batch, as the user calls it) and sets the rate.
#include <memory>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace fm::optim {

class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& opt);
  virtual ~LRScheduler() = default;
  virtual void step();
  int64_t last_epoch() const { return last_epoch_; }
  double last_lr() const { return opt_.lr(); }
  double base_lr() const { return base_lr_; }
  // For checkpoints: the epoch counter is the whole state of the closed-form schedules; a
  // schedule that sets more than the rate in step() (OneCycleLR's momentum) restores it too.
  virtual void set_last_epoch(int64_t e);

 protected:
  // The rate at `epoch` (closed form).
  virtual double lr_at(int64_t epoch) const = 0;
  void init();  // applies epoch 0; called by each subclass constructor
  Optimizer& opt_;
  double base_lr_;
  int64_t last_epoch_ = -1;
};

class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& opt, int64_t step_size, double gamma = 0.1);
 protected:
  double lr_at(int64_t e) const override;
  int64_t step_size_;
  double gamma_;
};

class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma = 0.1);
 protected:
  double lr_at(int64_t e) const override;
  std::vector<int64_t> milestones_;
  double gamma_;
};

class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& opt, double gamma);
 protected:
  double lr_at(int64_t e) const override;
  double gamma_;
};

class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min = 0);
 protected:
  double lr_at(int64_t e) const override;
  int64_t T_max_;
  double eta_min_;
};

// Linear warm-up (or decay): factor goes from start_factor to end_factor over total_iters.
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& opt, double start_factor = 1.0 / 3, double end_factor = 1.0, int64_t total_iters = 5);
 protected:
  double lr_at(int64_t e) const override;
  double start_, end_;
  int64_t total_;
};

// Runs schedulers one after another, switching at the milestones (e.g. LinearLR warm-up, then
// CosineAnnealingLR), each seeing epochs counted from its own start.
class SequentialLR : public LRScheduler {
 public:
  SequentialLR(Optimizer& opt, std::vector<std::shared_ptr<LRScheduler>> schedulers, std::vector<int64_t> milestones);
 protected:
  double lr_at(int64_t e) const override;
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;
  std::vector<int64_t> milestones_;
};

// Smith's one-cycle policy as torch.optim.lr_scheduler.OneCycleLR (cosine annealing, momentum
// cycled inversely between max_momentum and base_momentum), stepped once per batch.
struct OneCycleOptions {
  double pct_start = 0.3;
  std::string anneal_strategy = "cos";  // or "linear"
  bool cycle_momentum = true;
  double base_momentum = 0.85, max_momentum = 0.95;
  double div_factor = 25, final_div_factor = 1e4;
  bool three_phase = false;
};
class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& opt, double max_lr, int64_t total_steps, OneCycleOptions o = {});
  void step() override;
  void set_last_epoch(int64_t e) override;
 protected:
  double lr_at(int64_t e) const override;
  double momentum_at(int64_t e) const;
  struct Phase {
    double end_step;
    double lr_start, lr_end, mom_start, mom_end;
  };
  double anneal(double start, double end, double pct) const;
  double max_lr_;
  int64_t total_;
  OneCycleOptions o_;
  std::vector<Phase> phases_;
};

// Lowers the rate by `factor` when a metric has stopped improving for `patience` epochs.
struct PlateauOptions {
  std::string mode = "min";  // or "max"
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;
  std::string threshold_mode = "rel";  // or "abs"
  int64_t cooldown = 0;
  double min_lr = 0;
  double eps = 1e-8;
};
class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(Optimizer& opt, PlateauOptions o = {});
  void step(double metric);
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return bad_; }

 private:
  bool better(double a, double best) const;
  Optimizer& opt_;
  PlateauOptions o_;
  double best_;
  int64_t bad_ = 0, cooldown_counter_ = 0;
};

}  // namespace fm::optim
