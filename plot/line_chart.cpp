#include "plot/line_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "plot/canvas.h"
#include "tensor/error.h"

namespace fm::plot {

namespace {

std::string tick_label(double v, double step) {
  char buf[32];
  if (std::abs(v) < step * 1e-6) v = 0;
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  if (std::abs(v) >= 1e5 || (v != 0 && std::abs(v) < 1e-4)) std::snprintf(buf, sizeof buf, "%.2g", v);
  else std::snprintf(buf, sizeof buf, "%.*f", std::min(decimals, 6), v);
  return buf;
}

void draw_chart(Canvas& cv, int W, int H, const Chart& chart) {
  const Rgb black{0, 0, 0}, grid{225, 225, 225}, grey{90, 90, 90};
  const int left = 64, right = W - 16, top = 34, bottom = H - 44;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : chart.series) {
    FM_CHECK(s.x.size() == s.y.size(), "line chart: series '", s.name, "' has ", s.x.size(), " x values and ",
             s.y.size(), " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
    }
  }
  if (!(x0 <= x1)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // nothing to draw: an empty frame
  if (x0 == x1) x0 -= 0.5, x1 += 0.5;
  const double pad = (y1 - y0) * 0.05;
  y0 = chart.options.y_min.value_or(y0 - pad);
  y1 = chart.options.y_max.value_or(y1 + pad);
  if (y0 >= y1) y0 -= 0.5, y1 += 0.5;
  auto px = [&](double x) { return static_cast<int>(std::lround(left + (x - x0) / (x1 - x0) * (right - left))); };
  auto py = [&](double y) { return static_cast<int>(std::lround(bottom - (y - y0) / (y1 - y0) * (bottom - top))); };

  const auto yt = nice_ticks(y0, y1), xt = nice_ticks(x0, x1);
  const double ystep = yt.size() > 1 ? yt[1] - yt[0] : 1, xstep = xt.size() > 1 ? xt[1] - xt[0] : 1;
  for (double t : yt) {
    if (t < y0 || t > y1) continue;
    cv.line(left, py(t), right, py(t), grid);
    const std::string l = tick_label(t, ystep);
    cv.text(left - 6 - Canvas::text_width(l), py(t) - 4, l, grey);
  }
  for (double t : xt) {
    if (t < x0 || t > x1) continue;
    cv.line(px(t), top, px(t), bottom, grid);
    const std::string l = tick_label(t, xstep);
    cv.text(px(t) - Canvas::text_width(l) / 2, bottom + 6, l, grey);
  }
  cv.line(left, bottom, right, bottom, black);
  cv.line(left, top, left, bottom, black);
  cv.text((left + right - Canvas::text_width(chart.options.title)) / 2, 12, chart.options.title, black);
  cv.text((left + right - Canvas::text_width(chart.options.x_label)) / 2, H - 18, chart.options.x_label, black);
  cv.text(10, (top + bottom + Canvas::text_width(chart.options.y_label)) / 2, chart.options.y_label, black, true);

  for (size_t si = 0; si < chart.series.size(); ++si) {
    const Series& s = chart.series[si];
    const Rgb c = rgb(series_color(si));
    bool have_prev = false;
    int prev_x = 0, prev_y = 0;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        have_prev = false;
        continue;
      }
      const int x = px(s.x[i]), y = py(std::clamp(s.y[i], y0, y1));
      if (have_prev) cv.line(prev_x, prev_y, x, y, c, 2);
      if (chart.options.markers) cv.rect(x - 2, y - 2, x + 2, y + 2, c);
      prev_x = x, prev_y = y, have_prev = true;
    }
  }
  // the legend, top right, on a box of its own so that the lines never hide it
  int name_w = 0;
  for (const auto& s : chart.series) name_w = std::max(name_w, Canvas::text_width(s.name));
  if (!chart.series.empty()) {
    const int bx1 = right - 4, bx0 = bx1 - name_w - 34, by0 = top + 4;
    const int by1 = by0 + 8 + 14 * static_cast<int>(chart.series.size());
    cv.rect(bx0, by0, bx1, by1, {255, 255, 255});
    for (int x = bx0; x <= bx1; ++x) cv.set(x, by0, grid), cv.set(x, by1, grid);
    for (int y = by0; y <= by1; ++y) cv.set(bx0, y, grid), cv.set(bx1, y, grid);
    for (size_t si = 0; si < chart.series.size(); ++si) {
      const int ly = by0 + 5 + static_cast<int>(si) * 14;
      cv.rect(bx0 + 6, ly + 3, bx0 + 20, ly + 5, rgb(series_color(si)));
      cv.text(bx0 + 26, ly, chart.series[si].name, black);
    }
  }
}

}  // namespace

uint32_t series_color(size_t i) {
  static const uint32_t tab10[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                   0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
  return tab10[i % 10];
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  FM_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo < hi && target >= 1, "nice_ticks: need finite lo < hi, got ",
           lo, " and ", hi);
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push_back(t);
  return ticks;
}

std::vector<uint8_t> render_line_charts(const std::vector<Chart>& charts, int width, int height) {
  FM_CHECK(!charts.empty(), "render_line_charts: no charts");
  FM_CHECK(width >= 160 && height >= 120 && width <= 8192 && height <= 8192,
           "render_line_charts: each chart must be 160x120 to 8192x8192 pixels, got ", width, "x", height);
  Canvas all(width * static_cast<int>(charts.size()), height);
  for (size_t i = 0; i < charts.size(); ++i) {
    Canvas one(width, height);
    draw_chart(one, width, height, charts[i]);
    all.blit(one, static_cast<int>(i) * width);
  }
  return std::move(all.pixels());
}

void save_line_charts(const std::string& path, const std::vector<Chart>& charts, int width, int height) {
  Canvas all(width * static_cast<int>(charts.size()), height);
  all.pixels() = render_line_charts(charts, width, height);
  all.write_png(path, "save_line_charts");
}

}  // namespace fm::plot
