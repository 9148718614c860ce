#pragma once
// A white RGB canvas with the few drawing primitives our pictures need (pixels, filled
// rectangles, thick lines, stb_easy_font text), written as PNG through stb_image_write.
#include <cstdint>
#include <string>
#include <vector>

namespace fm::plot {

struct Rgb {
  uint8_t r, g, b;
};
inline Rgb rgb(uint32_t c) {
  return {static_cast<uint8_t>(c >> 16), static_cast<uint8_t>(c >> 8), static_cast<uint8_t>(c)};
}

class Canvas {
 public:
  Canvas(int width, int height);
  int width() const { return w_; }
  int height() const { return h_; }
  void set(int x, int y, Rgb c);                       // outside the canvas: ignored
  void rect(int x0, int y0, int x1, int y1, Rgb c);    // filled, inclusive corners
  void line(int x0, int y0, int x1, int y1, Rgb c, int thick = 1);  // Bresenham
  // Text with its top-left corner at (x, y), each font pixel `scale` pixels wide; vertical
  // text runs bottom to top from (x, y). Characters outside printable ASCII become '?'.
  void text(int x, int y, const std::string& s, Rgb c, bool vertical = false, int scale = 1);
  static int text_width(const std::string& s, int scale = 1);
  static constexpr int kTextHeight = 12;  // stb_easy_font's line height at scale 1
  // Copies `o` with its top-left corner at (ox, oy) (clipped to this canvas).
  void blit(const Canvas& o, int ox, int oy = 0);
  // rows of width RGB triples, top row first
  std::vector<uint8_t>& pixels() { return px_; }
  const std::vector<uint8_t>& pixels() const { return px_; }
  // Throws naming `path` (and `what`, the caller) when the file cannot be written.
  void write_png(const std::string& path, const char* what = "write_png") const;

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
};

}  // namespace fm::plot
