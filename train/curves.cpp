#include "train/curves.h"

#include <cmath>
#include <cstdlib>

#include "plot/line_chart.h"
#include "tensor/error.h"
#include "train/csv_log.h"

namespace fm::train {

void save_training_curves(const std::string& metrics_csv, const std::string& png_path) {
  const auto rows = read_csv(metrics_csv);
  FM_CHECK(!rows.empty(), "save_training_curves: '", metrics_csv, "' is empty");
  const auto& header = rows[0];
  auto column = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    fail("save_training_curves: '", metrics_csv, "' has no column '", name, "'");
  };
  const size_t c_epoch = column("epoch"), c_train = column("train_loss"), c_val = column("val_loss"),
               c_acc = column("val_accuracy"), c_f1 = column("val_macro_f1");
  plot::Series train_loss{"train loss", {}, {}}, val_loss{"val loss", {}, {}}, acc{"val accuracy", {}, {}},
      f1{"val macro-F1", {}, {}};
  auto number = [&](const std::vector<std::string>& row, size_t c) {
    if (c >= row.size()) return std::nan("");
    char* end = nullptr;
    const double v = std::strtod(row[c].c_str(), &end);
    return end == row[c].c_str() ? std::nan("") : v;
  };
  for (size_t r = 1; r < rows.size(); ++r) {
    // epochs count from 1 in the picture, as people say them
    const double e = number(rows[r], c_epoch) + 1;
    for (auto* s : {&train_loss, &val_loss, &acc, &f1}) s->x.push_back(e);
    train_loss.y.push_back(number(rows[r], c_train));
    val_loss.y.push_back(number(rows[r], c_val));
    acc.y.push_back(number(rows[r], c_acc));
    f1.y.push_back(number(rows[r], c_f1));
  }
  plot::save_line_charts(
      png_path, {plot::Chart{{train_loss, val_loss}, {.title = "Loss", .x_label = "epoch", .y_label = "loss"}},
                 plot::Chart{{acc, f1},
                             {.title = "Validation", .x_label = "epoch", .y_label = "score", .y_min = 0, .y_max = 1}}});
}

}  // namespace fm::train
