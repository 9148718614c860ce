// Classification metrics against values worked out by hand.
#include "train/metrics.h"

#include "support/test_support.h"

using namespace fm;

namespace {
// labels  0 0 1 1 2 2 2
// preds   0 1 1 1 0 2 2
// confusion (true x pred): [1 1 0] [0 2 0] [1 0 2]
train::ClassificationMetrics seven_examples() {
  train::ClassificationMetrics m(3, 2);
  m.update_predictions(from_vector(std::vector<int64_t>{0, 1, 1, 1}, {4}),
                       from_vector(std::vector<int64_t>{0, 0, 1, 1}, {4}));
  m.update_predictions(from_vector(std::vector<int64_t>{0, 2, 2}, {3}),
                       from_vector(std::vector<int64_t>{2, 2, 2}, {3}));
  return m;
}
}  // namespace

TEST(ClassificationMetrics, AccuracyPrecisionRecallF1ByHand) {
  const auto m = seven_examples();
  EXPECT_EQ(m.count(), 7);
  EXPECT_DOUBLE_EQ(m.accuracy(), 5.0 / 7);
  EXPECT_DOUBLE_EQ(m.precision(0), 0.5);
  EXPECT_DOUBLE_EQ(m.precision(1), 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.precision(2), 1.0);
  EXPECT_DOUBLE_EQ(m.recall(0), 0.5);
  EXPECT_DOUBLE_EQ(m.recall(1), 1.0);
  EXPECT_DOUBLE_EQ(m.recall(2), 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.f1(0), 0.5);
  EXPECT_NEAR(m.f1(1), 0.8, 1e-15);
  EXPECT_NEAR(m.f1(2), 0.8, 1e-15);
  EXPECT_NEAR(m.macro_f1(), 0.7, 1e-15);
  const std::vector<std::vector<int64_t>> expected = {{1, 1, 0}, {0, 2, 0}, {1, 0, 2}};
  EXPECT_EQ(m.confusion(), expected);
}

TEST(ClassificationMetrics, TopKFromLogits) {
  train::ClassificationMetrics m(4, 2);
  // row 0: label 2 is second (hit), argmax 1; row 1: label 3 is last (miss), argmax 0;
  // row 2: label 2 is first (hit, correct)
  m.update(
      from_vector(std::vector<float>{0.1f, 0.9f, 0.5f, 0.2f, 0.3f, 0.2f, 0.1f, 0.0f, 0.0f, 0.0f, 1.0f, 0.5f}, {3, 4}),
      from_vector(std::vector<int64_t>{2, 3, 2}, {3}));
  EXPECT_DOUBLE_EQ(m.accuracy(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.top_k_accuracy(), 2.0 / 3);
  // classes 0 and 1 predicted once each, never right; 3 present, never predicted
  EXPECT_DOUBLE_EQ(m.precision(0), 0);
  EXPECT_DOUBLE_EQ(m.recall(3), 0);
  EXPECT_DOUBLE_EQ(m.f1(2), 2 * 1.0 * 0.5 / 1.5);
  EXPECT_DOUBLE_EQ(m.macro_f1(), (2.0 / 3) / 4);
  m.reset();
  EXPECT_EQ(m.count(), 0);
  EXPECT_DOUBLE_EQ(m.accuracy(), 0);
}

TEST(ClassificationMetrics, PrintsConfusionMatrixWithNamesAndRecall) {
  const auto m = seven_examples();
  const std::string text = m.confusion_to_string({"blues", "jazz", "rock"});
  EXPECT_EQ(text,
            "      pred   0   1   2  recall\n"
            "blues   0    1   1   0   50.0%\n"
            " jazz   1    0   2   0  100.0%\n"
            " rock   2    1   0   2   66.7%\n");
  const std::string report = m.report({"blues", "jazz", "rock"});
  EXPECT_NE(report.find("accuracy 0.7143  macro-F1 0.7000"), std::string::npos) << report;
}

TEST(ClassificationMetrics, RefusesBadShapesAndLabels) {
  train::ClassificationMetrics m(3);
  EXPECT_THROW_MSG(m.update(zeros({2, 4}), from_vector(std::vector<int64_t>{0, 1}, {2})), "(N, 3)");
  EXPECT_THROW_MSG(m.update(zeros({2, 3}), from_vector(std::vector<int64_t>{0, 3}, {2})), "label 3 outside [0, 3)");
  EXPECT_THROW_MSG(m.update(zeros({2, 3}), zeros({2})), "labels must be int64");
}
