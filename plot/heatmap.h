#pragma once
// Heat-map pictures of 2-D tensors (spectrograms, feature maps) as 8-bit RGB PNG files, so a
// person can look at them: values mapped linearly onto a perceptual colormap, row 0 at the
// bottom (low frequencies low, as spectrograms are drawn), each cell optionally enlarged.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace fm::plot {

enum class Colormap { Magma, Viridis, Gray };

// The colour at t in [0, 1] (clamped), interpolated in a 17-entry table sampled from
// matplotlib's colormap (magma, viridis: CC0, by Smith and van der Walt).
std::array<uint8_t, 3> colormap_rgb(Colormap cmap, double t);

struct HeatmapOptions {
  Colormap colormap = Colormap::Magma;
  std::optional<double> vmin, vmax;  // default: the finite minimum and maximum of the data
  int64_t scale_x = 1, scale_y = 1;  // each value becomes a scale_x x scale_y block
  bool origin_lower = true;          // row 0 at the bottom of the picture
};

struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height rows of width RGB triples, top row first
};

// x [rows, cols] (any real dtype) -> the picture (cols * scale_x wide, rows * scale_y high).
// Non-finite values get the lowest colour.
Image heatmap(const Tensor& x, const HeatmapOptions& o = {});

// Writes heatmap(x, o) to `path` as PNG; throws naming the path if it cannot be written.
void write_heatmap_png(const std::string& path, const Tensor& x, const HeatmapOptions& o = {});

// heatmap() with small axes enlarged (to about 256 rows and 512 columns) so that a chromagram or
// a short clip is still visible; what `fermata features` and `fermata predict` draw.
Image readable_heatmap(const Tensor& x, HeatmapOptions o = {});

// The picture under a white band holding `lines` of black text (font pixels `scale` wide), at
// least as wide as the longest line: a title, or a model's prediction for the example shown.
Image with_caption(const Image& img, const std::vector<std::string>& lines, int scale = 2);

// Writes `img` to `path` as PNG; throws naming the path if it cannot be written.
void write_png(const std::string& path, const Image& img);

}  // namespace fm::plot
