#include "plot/heatmap.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/views.h"
#include "plot/canvas.h"
#include "tensor/error.h"

namespace fm::plot {
namespace {

using KnotRgb = std::array<double, 3>;

// Entries 0, 16, ..., 240 and 255 of matplotlib's 256-entry tables.
constexpr int kKnots = 17;
constexpr std::array<KnotRgb, kKnots> kMagma = {{
    {0.001462, 0.000466, 0.013866}, {0.039608, 0.031090, 0.133515}, {0.113094, 0.065492, 0.276784},
    {0.211718, 0.061992, 0.418647}, {0.316654, 0.071690, 0.485380}, {0.414709, 0.110431, 0.504662},
    {0.512831, 0.148179, 0.507648}, {0.613617, 0.181811, 0.498536}, {0.716387, 0.214982, 0.475290},
    {0.816914, 0.255895, 0.436461}, {0.904281, 0.319610, 0.388137}, {0.960949, 0.418323, 0.359630},
    {0.986700, 0.535582, 0.382210}, {0.996096, 0.653659, 0.446213}, {0.996898, 0.769591, 0.534892},
    {0.992440, 0.884330, 0.640099}, {0.987053, 0.991438, 0.749504},
}};
constexpr std::array<KnotRgb, kKnots> kViridis = {{
    {0.267004, 0.004874, 0.329415}, {0.282327, 0.094955, 0.417331}, {0.278826, 0.175490, 0.483397},
    {0.258965, 0.251537, 0.524736}, {0.229739, 0.322361, 0.545706}, {0.199430, 0.387607, 0.554642},
    {0.172719, 0.448791, 0.557885}, {0.149039, 0.508051, 0.557250}, {0.127568, 0.566949, 0.550556},
    {0.120638, 0.625828, 0.533488}, {0.157851, 0.683765, 0.501686}, {0.246070, 0.738910, 0.452024},
    {0.369214, 0.788888, 0.382914}, {0.515992, 0.831158, 0.294279}, {0.678489, 0.863742, 0.189503},
    {0.845561, 0.887322, 0.099702}, {0.993248, 0.906157, 0.143936},
}};

double knot_position(int i) { return i == kKnots - 1 ? 1.0 : 16.0 * i / 255.0; }

uint8_t to_byte(double v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0)); }

}  // namespace

std::array<uint8_t, 3> colormap_rgb(Colormap cmap, double t) {
  t = std::isfinite(t) ? std::clamp(t, 0.0, 1.0) : 0.0;
  if (cmap == Colormap::Gray) return {to_byte(t), to_byte(t), to_byte(t)};
  const auto& table = cmap == Colormap::Magma ? kMagma : kViridis;
  int i = 0;
  while (i < kKnots - 2 && t > knot_position(i + 1)) ++i;
  const double a = knot_position(i), b = knot_position(i + 1);
  const double u = (t - a) / (b - a);
  std::array<uint8_t, 3> c{};
  for (int k = 0; k < 3; ++k) c[k] = to_byte(table[i][k] + u * (table[i + 1][k] - table[i][k]));
  return c;
}

Image heatmap(const Tensor& x, const HeatmapOptions& o) {
  FM_CHECK(x.dim() == 2, "heatmap: expected a 2-D tensor [rows, cols], got shape ", shape_str(x.sizes()));
  FM_CHECK(x.sizes()[0] > 0 && x.sizes()[1] > 0, "heatmap: empty tensor of shape ", shape_str(x.sizes()));
  FM_CHECK(o.scale_x >= 1 && o.scale_y >= 1, "heatmap: scale_x and scale_y must be at least 1, got ", o.scale_x, ", ",
           o.scale_y);
  const int64_t rows = x.sizes()[0], cols = x.sizes()[1];
  const int64_t W = cols * o.scale_x, H = rows * o.scale_y;
  FM_CHECK(W <= (1 << 16) && H <= (1 << 16), "heatmap: a ", W, " x ", H,
           " picture is too large (at most 65536 pixels a side); reduce the scale");
  const Tensor d = contiguous_raw(to(x.detach(), DType::Float64));
  const double* v = d.data_ptr<double>();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int64_t i = 0; i < rows * cols; ++i)
    if (std::isfinite(v[i])) {
      lo = std::min(lo, v[i]);
      hi = std::max(hi, v[i]);
    }
  if (o.vmin) lo = *o.vmin;
  if (o.vmax) hi = *o.vmax;
  const double span = hi > lo ? hi - lo : 1.0;
  Image img;
  img.width = W;
  img.height = H;
  img.rgb.resize(static_cast<size_t>(W * H * 3));
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t top = (o.origin_lower ? rows - 1 - r : r) * o.scale_y;
    for (int64_t c = 0; c < cols; ++c) {
      const double val = v[r * cols + c];
      const auto rgb = colormap_rgb(o.colormap, std::isfinite(val) ? (val - lo) / span : 0.0);
      for (int64_t dy = 0; dy < o.scale_y; ++dy)
        for (int64_t dx = 0; dx < o.scale_x; ++dx) {
          uint8_t* p = &img.rgb[static_cast<size_t>(((top + dy) * W + c * o.scale_x + dx) * 3)];
          p[0] = rgb[0];
          p[1] = rgb[1];
          p[2] = rgb[2];
        }
    }
  }
  return img;
}

void write_heatmap_png(const std::string& path, const Tensor& x, const HeatmapOptions& o) {
  write_png(path, heatmap(x, o));
}

Image readable_heatmap(const Tensor& x, HeatmapOptions o) {
  FM_CHECK(x.dim() == 2, "readable_heatmap: expected a 2-D tensor, got ", x.dim(), " dims");
  o.scale_y = std::max<int64_t>(1, 256 / std::max<int64_t>(1, x.sizes()[0]));
  o.scale_x = std::max<int64_t>(1, 512 / std::max<int64_t>(1, x.sizes()[1]));
  return heatmap(x, o);
}

namespace {
Canvas to_canvas(const Image& img) {
  Canvas cv(static_cast<int>(img.width), static_cast<int>(img.height));
  cv.pixels() = img.rgb;
  return cv;
}
}  // namespace

Image with_caption(const Image& img, const std::vector<std::string>& lines, int scale) {
  FM_CHECK(scale >= 1 && scale <= 8, "with_caption: scale must be 1..8, got ", scale);
  FM_CHECK(img.width > 0 && img.height > 0, "with_caption: empty picture");
  const int pad = 4 * scale, line_h = Canvas::kTextHeight * scale;
  int width = static_cast<int>(img.width);
  for (const auto& l : lines) width = std::max(width, Canvas::text_width(l, scale) + 2 * pad);
  const int band = lines.empty() ? 0 : pad * 2 + line_h * static_cast<int>(lines.size());
  Canvas cv(width, band + static_cast<int>(img.height));
  for (size_t i = 0; i < lines.size(); ++i)
    cv.text(pad, pad + line_h * static_cast<int>(i), lines[i], {0, 0, 0}, false, scale);
  cv.blit(to_canvas(img), 0, band);
  return {cv.width(), cv.height(), std::move(cv.pixels())};
}

void write_png(const std::string& path, const Image& img) {
  FM_CHECK(img.width > 0 && img.height > 0, "write_png: empty picture for '", path, "'");
  to_canvas(img).write_png(path, "write_png");
}

}  // namespace fm::plot
