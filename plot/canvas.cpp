#include "plot/canvas.h"

#include <algorithm>
#include <cstdlib>

#include "tensor/error.h"

// stb_image_write's implementation is in the stb library we link (Debian's libstb), so only
// the declarations are included here.
#include <stb/stb_image_write.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

namespace fm::plot {

namespace {
std::string printable(const std::string& s) {
  std::string t = s;
  for (char& ch : t)
    if (ch < 32 || ch > 126) ch = '?';
  return t;
}
}  // namespace

Canvas::Canvas(int width, int height) : w_(width), h_(height) {
  FM_CHECK(width > 0 && height > 0 && width <= 16384 && height <= 16384,
           "Canvas: width and height must be 1..16384 pixels, got ", width, "x", height);
  px_.assign(static_cast<size_t>(width) * height * 3, 255);
}

void Canvas::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
  uint8_t* p = &px_[(static_cast<size_t>(y) * w_ + x) * 3];
  p[0] = c.r, p[1] = c.g, p[2] = c.b;
}

void Canvas::rect(int x0, int y0, int x1, int y1, Rgb c) {
  for (int y = std::max(0, std::min(y0, y1)); y <= std::min(h_ - 1, std::max(y0, y1)); ++y)
    for (int x = std::max(0, std::min(x0, x1)); x <= std::min(w_ - 1, std::max(x0, x1)); ++x) set(x, y, c);
}

void Canvas::line(int x0, int y0, int x1, int y1, Rgb c, int thick) {
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  for (;;) {
    rect(x0 - (thick - 1) / 2, y0 - (thick - 1) / 2, x0 + thick / 2, y0 + thick / 2, c);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, x0 += sx;
    if (e2 <= dx) err += dx, y0 += sy;
  }
}

void Canvas::text(int x, int y, const std::string& s, Rgb c, bool vertical, int scale) {
  std::string t = printable(s);
  // up to ~10 segments a glyph, 64 bytes each: too small a buffer silently drops segments
  std::vector<char> buf(t.size() * 1024 + 64);
  const int quads = stb_easy_font_print(0, 0, t.data(), nullptr, buf.data(), static_cast<int>(buf.size()));
  for (int q = 0; q < quads; ++q) {
    const float* v0 = reinterpret_cast<const float*>(buf.data() + q * 64);
    const float* v2 = reinterpret_cast<const float*>(buf.data() + q * 64 + 32);
    const int qx0 = static_cast<int>(v0[0]) * scale, qy0 = static_cast<int>(v0[1]) * scale;
    const int qx1 = static_cast<int>(v2[0]) * scale - 1, qy1 = static_cast<int>(v2[1]) * scale - 1;
    if (vertical) rect(x + qy0, y - qx0, x + qy1, y - qx1, c);
    else rect(x + qx0, y + qy0, x + qx1, y + qy1, c);
  }
}

int Canvas::text_width(const std::string& s, int scale) {
  std::string t = printable(s);
  return stb_easy_font_width(t.data()) * scale;
}

void Canvas::blit(const Canvas& o, int ox, int oy) {
  for (int y = 0; y < o.h_; ++y) {
    if (y + oy < 0 || y + oy >= h_) continue;
    for (int x = 0; x < o.w_; ++x) {
      const uint8_t* p = &o.px_[(static_cast<size_t>(y) * o.w_ + x) * 3];
      set(x + ox, y + oy, {p[0], p[1], p[2]});
    }
  }
}

void Canvas::write_png(const std::string& path, const char* what) const {
  FM_CHECK(stbi_write_png(path.c_str(), w_, h_, 3, px_.data(), w_ * 3) != 0, what, ": cannot write '", path, "'");
}

}  // namespace fm::plot
