#pragma once
// Classification metrics accumulated over batches, as torchmetrics / scikit-learn define them:
// accuracy, top-k accuracy, per-class precision and recall, macro-F1 (the unweighted mean of
// the per-class F1 scores; a class never predicted and never present counts 0, scikit-learn's
// zero_division=0) and the confusion matrix (rows: true class, columns: predicted class).
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace fm::train {

class ClassificationMetrics {
 public:
  // top_k: the k of top_k_accuracy (clamped to the number of classes).
  explicit ClassificationMetrics(int64_t num_classes, int64_t top_k = 5);

  // logits or probabilities: (N, C) floating; labels: (N) int64 in [0, C).
  void update(const Tensor& logits, const Tensor& labels);
  // Predicted classes (N) int64 instead of scores (top-k then counts only the argmax).
  void update_predictions(const Tensor& predicted, const Tensor& labels);
  void reset();

  int64_t num_classes() const { return num_classes_; }
  int64_t count() const { return count_; }
  int64_t top_k() const { return top_k_; }
  double accuracy() const;
  double top_k_accuracy() const;
  double precision(int64_t cls) const;  // 0 when the class was never predicted
  double recall(int64_t cls) const;     // 0 when the class never occurs
  double f1(int64_t cls) const;
  double macro_f1() const;
  // confusion()[true][predicted]
  const std::vector<std::vector<int64_t>>& confusion() const { return confusion_; }

  // The matrix as text, one row per true class, with the class names (or indices) as labels
  // and each row's recall at its end.
  std::string confusion_to_string(const std::vector<std::string>& class_names = {}) const;
  // Per-class precision / recall / F1 / support as a table.
  std::string report(const std::vector<std::string>& class_names = {}) const;

 private:
  void add(int64_t truth, int64_t predicted);
  int64_t num_classes_, top_k_;
  int64_t count_ = 0, top_k_hits_ = 0;
  std::vector<std::vector<int64_t>> confusion_;
};

}  // namespace fm::train
