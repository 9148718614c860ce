#include "train/metrics.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "autograd/views.h"
#include "tensor/error.h"

namespace fm::train {

ClassificationMetrics::ClassificationMetrics(int64_t num_classes, int64_t top_k)
    : num_classes_(num_classes), top_k_(std::min(top_k, num_classes)) {
  FM_CHECK(num_classes >= 1, "ClassificationMetrics: num_classes must be >= 1, got ", num_classes);
  FM_CHECK(top_k >= 1, "ClassificationMetrics: top_k must be >= 1, got ", top_k);
  reset();
}

void ClassificationMetrics::reset() {
  count_ = top_k_hits_ = 0;
  confusion_.assign(num_classes_, std::vector<int64_t>(num_classes_, 0));
}

void ClassificationMetrics::add(int64_t truth, int64_t predicted) {
  FM_CHECK(truth >= 0 && truth < num_classes_, "ClassificationMetrics: label ", truth, " outside [0, ", num_classes_,
           ")");
  FM_CHECK(predicted >= 0 && predicted < num_classes_, "ClassificationMetrics: prediction ", predicted,
           " outside [0, ", num_classes_, ")");
  ++confusion_[truth][predicted];
  ++count_;
}

namespace {
std::vector<int64_t> labels_vector(const Tensor& labels, int64_t n, const char* what) {
  FM_CHECK(labels.dim() == 1 && labels.size(0) == n && labels.dtype() == DType::Int64, "ClassificationMetrics: ",
           what, " must be int64 (", n, "), got ", labels.describe());
  return contiguous(to(labels, Device::cpu())).to_vector<int64_t>();
}
}  // namespace

void ClassificationMetrics::update(const Tensor& logits, const Tensor& labels) {
  FM_CHECK(logits.dim() == 2 && logits.size(1) == num_classes_ && logits.is_floating_point(),
           "ClassificationMetrics::update: scores must be floating (N, ", num_classes_, "), got ",
           logits.describe());
  const int64_t n = logits.size(0), c = num_classes_;
  const auto y = labels_vector(labels, n, "labels");
  const auto s = contiguous(to(logits.detach(), kFloat64, Device::cpu())).to_vector<double>();
  for (int64_t i = 0; i < n; ++i) {
    const double* row = s.data() + i * c;
    // argmax takes the first maximum, as torch.argmax does
    const int64_t pred = std::max_element(row, row + c) - row;
    FM_CHECK(y[i] >= 0 && y[i] < c, "ClassificationMetrics: label ", y[i], " outside [0, ", c, ")");
    // the true class is in the top k when fewer than k classes score strictly higher
    int64_t higher = 0;
    for (int64_t j = 0; j < c; ++j) higher += row[j] > row[y[i]];
    top_k_hits_ += higher < top_k_;
    add(y[i], pred);
  }
}

void ClassificationMetrics::update_predictions(const Tensor& predicted, const Tensor& labels) {
  FM_CHECK(predicted.dim() == 1, "ClassificationMetrics::update_predictions: predictions must be (N), got ",
           predicted.describe());
  const int64_t n = predicted.size(0);
  const auto p = labels_vector(predicted, n, "predictions");
  const auto y = labels_vector(labels, n, "labels");
  for (int64_t i = 0; i < n; ++i) {
    add(y[i], p[i]);
    top_k_hits_ += p[i] == y[i];
  }
}

double ClassificationMetrics::accuracy() const {
  if (count_ == 0) return 0;
  int64_t hits = 0;
  for (int64_t i = 0; i < num_classes_; ++i) hits += confusion_[i][i];
  return static_cast<double>(hits) / count_;
}

double ClassificationMetrics::top_k_accuracy() const {
  return count_ == 0 ? 0 : static_cast<double>(top_k_hits_) / count_;
}

double ClassificationMetrics::precision(int64_t cls) const {
  FM_CHECK(cls >= 0 && cls < num_classes_, "ClassificationMetrics::precision: class ", cls, " outside [0, ",
           num_classes_, ")");
  int64_t predicted = 0;
  for (int64_t i = 0; i < num_classes_; ++i) predicted += confusion_[i][cls];
  return predicted == 0 ? 0 : static_cast<double>(confusion_[cls][cls]) / predicted;
}

double ClassificationMetrics::recall(int64_t cls) const {
  FM_CHECK(cls >= 0 && cls < num_classes_, "ClassificationMetrics::recall: class ", cls, " outside [0, ",
           num_classes_, ")");
  const int64_t actual = std::accumulate(confusion_[cls].begin(), confusion_[cls].end(), int64_t{0});
  return actual == 0 ? 0 : static_cast<double>(confusion_[cls][cls]) / actual;
}

double ClassificationMetrics::f1(int64_t cls) const {
  const double p = precision(cls), r = recall(cls);
  return p + r == 0 ? 0 : 2 * p * r / (p + r);
}

double ClassificationMetrics::macro_f1() const {
  double sum = 0;
  for (int64_t c = 0; c < num_classes_; ++c) sum += f1(c);
  return sum / num_classes_;
}

namespace {
std::string class_label(const std::vector<std::string>& names, int64_t c) {
  return c < static_cast<int64_t>(names.size()) ? names[c] : std::to_string(c);
}
}  // namespace

namespace {
// Appends `s` right-aligned in `width` columns.
void pad_left(std::string& out, const std::string& s, size_t width) {
  out.append(width > s.size() ? width - s.size() : 0, ' ');
  out += s;
}
}  // namespace

std::string ClassificationMetrics::confusion_to_string(const std::vector<std::string>& names) const {
  size_t label_w = 4;
  for (int64_t c = 0; c < num_classes_; ++c) label_w = std::max(label_w, class_label(names, c).size());
  size_t cell_w = 3;
  for (const auto& row : confusion_)
    for (int64_t v : row) cell_w = std::max(cell_w, std::to_string(v).size());
  // columns are headed by class indices so that wide names do not widen every column
  std::string out;
  pad_left(out, "pred", label_w + 5);
  for (int64_t c = 0; c < num_classes_; ++c) {
    out += ' ';
    pad_left(out, std::to_string(c), cell_w);
  }
  out += "  recall\n";
  char buf[32];
  for (int64_t r = 0; r < num_classes_; ++r) {
    pad_left(out, class_label(names, r), label_w);
    std::snprintf(buf, sizeof buf, " %3lld ", static_cast<long long>(r));
    out += buf;
    for (int64_t c = 0; c < num_classes_; ++c) {
      out += ' ';
      pad_left(out, std::to_string(confusion_[r][c]), cell_w);
    }
    std::snprintf(buf, sizeof buf, "  %5.1f%%\n", 100 * recall(r));
    out += buf;
  }
  return out;
}

std::string ClassificationMetrics::report(const std::vector<std::string>& names) const {
  size_t label_w = 5;
  for (int64_t c = 0; c < num_classes_; ++c) label_w = std::max(label_w, class_label(names, c).size());
  std::string out;
  pad_left(out, "class", label_w);
  out += "  precision  recall     f1  support\n";
  char buf[96];
  for (int64_t c = 0; c < num_classes_; ++c) {
    const int64_t support = std::accumulate(confusion_[c].begin(), confusion_[c].end(), int64_t{0});
    std::snprintf(buf, sizeof buf, "  %9.3f  %6.3f  %5.3f  %7lld\n", precision(c), recall(c), f1(c),
                  static_cast<long long>(support));
    pad_left(out, class_label(names, c), label_w);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "accuracy %.4f  macro-F1 %.4f  top-%lld %.4f  (%lld examples)\n", accuracy(),
                macro_f1(), static_cast<long long>(top_k_), top_k_accuracy(), static_cast<long long>(count_));
  out += buf;
  return out;
}

}  // namespace fm::train
