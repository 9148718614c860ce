#pragma once
// The picture of a training run: loss (training and validation) and validation accuracy and
// macro-F1 against the epoch, read from the run's metrics.csv (so a resumed run's picture has
// every epoch) and written as a PNG of two charts side by side.
#include <string>

namespace fm::train {

void save_training_curves(const std::string& metrics_csv, const std::string& png_path);

}  // namespace fm::train
