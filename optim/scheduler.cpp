#include "optim/scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fm::optim {

LRScheduler::LRScheduler(Optimizer& opt) : opt_(opt), base_lr_(opt.initial_lr()) {}

void LRScheduler::init() {
  last_epoch_ = 0;
  opt_.set_lr(lr_at(0));
}

void LRScheduler::step() {
  ++last_epoch_;
  opt_.set_lr(lr_at(last_epoch_));
}

void LRScheduler::set_last_epoch(int64_t e) {
  last_epoch_ = e;
  opt_.set_lr(lr_at(e));
}

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma) : LRScheduler(opt), step_size_(step_size), gamma_(gamma) {
  FM_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  init();
}
double StepLR::lr_at(int64_t e) const { return base_lr_ * std::pow(gamma_, static_cast<double>(e / step_size_)); }

MultiStepLR::MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(opt), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
  init();
}
double MultiStepLR::lr_at(int64_t e) const {
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), e) - milestones_.begin();
  return base_lr_ * std::pow(gamma_, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(Optimizer& opt, double gamma) : LRScheduler(opt), gamma_(gamma) { init(); }
double ExponentialLR::lr_at(int64_t e) const { return base_lr_ * std::pow(gamma_, static_cast<double>(e)); }

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min)
    : LRScheduler(opt), T_max_(T_max), eta_min_(eta_min) {
  FM_CHECK(T_max > 0, "CosineAnnealingLR: T_max must be positive, got ", T_max);
  init();
}
double CosineAnnealingLR::lr_at(int64_t e) const {
  return eta_min_ + (base_lr_ - eta_min_) * (1 + std::cos(M_PI * static_cast<double>(e) / static_cast<double>(T_max_))) / 2;
}

LinearLR::LinearLR(Optimizer& opt, double start, double end, int64_t total)
    : LRScheduler(opt), start_(start), end_(end), total_(total) {
  FM_CHECK(start > 0 && start <= 1 && end >= 0 && end <= 1, "LinearLR: start_factor must be in (0, 1] and "
           "end_factor in [0, 1], got ", start, " and ", end);
  FM_CHECK(total > 0, "LinearLR: total_iters must be positive");
  init();
}
double LinearLR::lr_at(int64_t e) const {
  const double t = static_cast<double>(std::min(e, total_)) / static_cast<double>(total_);
  return base_lr_ * (start_ + (end_ - start_) * t);
}

SequentialLR::SequentialLR(Optimizer& opt, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<int64_t> milestones)
    : LRScheduler(opt), schedulers_(std::move(schedulers)), milestones_(std::move(milestones)) {
  FM_CHECK(!schedulers_.empty() && milestones_.size() + 1 == schedulers_.size(), "SequentialLR: expected ",
           schedulers_.size() - 1, " milestones for ", schedulers_.size(), " schedulers, got ", milestones_.size());
  base_lr_ = schedulers_[0]->base_lr();
  init();
}
double SequentialLR::lr_at(int64_t e) const {
  size_t k = std::upper_bound(milestones_.begin(), milestones_.end(), e) - milestones_.begin();
  const int64_t start = k == 0 ? 0 : milestones_[k - 1];
  struct Access : LRScheduler {
    static double at(const LRScheduler& s, int64_t e) { return static_cast<const Access&>(s).lr_at(e); }
  };
  return Access::at(*schedulers_[k], e - start);
}

// ---------------- one cycle ----------------

OneCycleLR::OneCycleLR(Optimizer& opt, double max_lr, int64_t total, OneCycleOptions o)
    : LRScheduler(opt), max_lr_(max_lr), total_(total), o_(o) {
  FM_CHECK(total > 0, "OneCycleLR: total_steps must be positive");
  FM_CHECK(o.anneal_strategy == "cos" || o.anneal_strategy == "linear", "OneCycleLR: anneal_strategy must be "
           "'cos' or 'linear', got '", o.anneal_strategy, "'");
  const double initial = max_lr / o.div_factor, min_lr = initial / o.final_div_factor;
  const double T = static_cast<double>(total);
  if (o.three_phase) {
    phases_ = {{o.pct_start * T - 1, initial, max_lr, o.max_momentum, o.base_momentum},
               {2 * o.pct_start * T - 2, max_lr, initial, o.base_momentum, o.max_momentum},
               {T - 1, initial, min_lr, o.max_momentum, o.max_momentum}};
  } else {
    phases_ = {{o.pct_start * T - 1, initial, max_lr, o.max_momentum, o.base_momentum},
               {T - 1, max_lr, min_lr, o.base_momentum, o.max_momentum}};
  }
  base_lr_ = initial;
  init();
  if (o_.cycle_momentum) opt_.set_momentum(momentum_at(0));
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (o_.anneal_strategy == "cos") return end + (start - end) / 2.0 * (std::cos(M_PI * pct) + 1);
  return (end - start) * pct + start;
}

double OneCycleLR::lr_at(int64_t e) const {
  FM_CHECK(e < total_ + 1, "OneCycleLR: stepped ", e, " times, more than total_steps = ", total_);
  double start_step = 0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    const Phase& p = phases_[i];
    if (static_cast<double>(e) <= p.end_step || i + 1 == phases_.size()) {
      const double pct = (static_cast<double>(e) - start_step) / (p.end_step - start_step);
      return anneal(p.lr_start, p.lr_end, pct);
    }
    start_step = p.end_step;
  }
  return phases_.back().lr_end;
}

double OneCycleLR::momentum_at(int64_t e) const {
  double start_step = 0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    const Phase& p = phases_[i];
    if (static_cast<double>(e) <= p.end_step || i + 1 == phases_.size()) {
      const double pct = (static_cast<double>(e) - start_step) / (p.end_step - start_step);
      return anneal(p.mom_start, p.mom_end, pct);
    }
    start_step = p.end_step;
  }
  return phases_.back().mom_end;
}

void OneCycleLR::step() {
  LRScheduler::step();
  if (o_.cycle_momentum) opt_.set_momentum(momentum_at(last_epoch_));
}
void OneCycleLR::set_last_epoch(int64_t e) {
  LRScheduler::set_last_epoch(e);
  if (o_.cycle_momentum && e >= 0) opt_.set_momentum(momentum_at(e));
}

// ---------------- plateau ----------------

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& opt, PlateauOptions o) : opt_(opt), o_(o) {
  FM_CHECK(o.mode == "min" || o.mode == "max", "ReduceLROnPlateau: mode must be 'min' or 'max', got '", o.mode, "'");
  FM_CHECK(o.threshold_mode == "rel" || o.threshold_mode == "abs", "ReduceLROnPlateau: threshold_mode must be "
           "'rel' or 'abs'");
  FM_CHECK(o.factor < 1, "ReduceLROnPlateau: factor must be < 1, got ", o.factor);
  best_ = o.mode == "min" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
}

bool ReduceLROnPlateau::better(double a, double best) const {
  if (o_.mode == "min")
    return o_.threshold_mode == "rel" ? a < best * (1 - o_.threshold) : a < best - o_.threshold;
  return o_.threshold_mode == "rel" ? a > best * (1 + o_.threshold) : a > best + o_.threshold;
}

void ReduceLROnPlateau::step(double metric) {
  if (better(metric, best_)) {
    best_ = metric;
    bad_ = 0;
  } else {
    ++bad_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    bad_ = 0;
  }
  if (bad_ > o_.patience) {
    const double old_lr = opt_.lr();
    const double new_lr = std::max(old_lr * o_.factor, o_.min_lr);
    if (old_lr - new_lr > o_.eps) opt_.set_lr(new_lr);
    cooldown_counter_ = o_.cooldown;
    bad_ = 0;
  }
}

}  // namespace fm::optim
