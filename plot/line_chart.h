#pragma once
// Line charts as PNG images (training curves: loss and accuracy against the epoch), drawn by
// our own rasteriser with stb_easy_font's glyphs and written with stb_image_write. Several
// charts can share one image side by side.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fm::plot {

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length; non-finite y values leave a gap
};

struct LineChartOptions {
  std::string title{}, x_label{}, y_label{};
  // Axis limits; unset: the data's range (y padded by 5%).
  std::optional<double> y_min{}, y_max{};
  bool markers = true;  // a dot at each point (useful with few epochs)
};

struct Chart {
  std::vector<Series> series;
  LineChartOptions options;
};

// An RGB image (row-major, 3 bytes a pixel) of the charts side by side, each width x height.
std::vector<uint8_t> render_line_charts(const std::vector<Chart>& charts, int width = 560, int height = 400);
// Writes that image as a PNG (throws naming the path when it cannot).
void save_line_charts(const std::string& path, const std::vector<Chart>& charts, int width = 560,
                      int height = 400);

// "Nice" tick positions (steps of 1, 2 or 5 times a power of ten) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

// The colour of the i-th series (matplotlib's tab10 palette), as 0xRRGGBB.
uint32_t series_color(size_t i);

}  // namespace fm::plot
