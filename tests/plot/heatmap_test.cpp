// Heat maps: the colormaps' ends, orientation and scaling, and a PNG written to disk.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "autograd/views.h"
#include "plot/heatmap.h"
#include "support/test_support.h"
#include "tensor/factory.h"

namespace fm {
namespace {

using namespace fm::plot;
using Rgb = std::array<uint8_t, 3>;

TEST(PlotHeatmap, ColormapEnds) {
  EXPECT_EQ(colormap_rgb(Colormap::Magma, 0.0), (Rgb{0, 0, 4}));
  EXPECT_EQ(colormap_rgb(Colormap::Magma, 1.0), (Rgb{252, 253, 191}));
  EXPECT_EQ(colormap_rgb(Colormap::Viridis, 0.0), (Rgb{68, 1, 84}));
  EXPECT_EQ(colormap_rgb(Colormap::Viridis, 1.0), (Rgb{253, 231, 37}));
  EXPECT_EQ(colormap_rgb(Colormap::Gray, 0.5), (Rgb{128, 128, 128}));
  // clamped outside [0, 1]; magma brightens monotonically
  EXPECT_EQ(colormap_rgb(Colormap::Magma, -3.0), colormap_rgb(Colormap::Magma, 0.0));
  int last = -1;
  for (int i = 0; i <= 20; ++i) {
    const Rgb c = colormap_rgb(Colormap::Magma, i / 20.0);
    const int luma = 2 * c[0] + 5 * c[1] + c[2];
    EXPECT_GT(luma, last);
    last = luma;
  }
}

TEST(PlotHeatmap, RowZeroAtTheBottomAndScaling) {
  const Tensor x = reshape(tensor({0, 0, 0, 1, 1, 1}), {2, 3});  // row 0 low, row 1 high
  HeatmapOptions o;
  o.scale_x = 2;
  o.scale_y = 3;
  const Image img = heatmap(x, o);
  EXPECT_EQ(img.width, 6);
  EXPECT_EQ(img.height, 6);
  const Rgb hi = colormap_rgb(Colormap::Magma, 1.0), lo = colormap_rgb(Colormap::Magma, 0.0);
  auto px = [&](int64_t r, int64_t c) {
    const uint8_t* p = &img.rgb[static_cast<size_t>((r * img.width + c) * 3)];
    return Rgb{p[0], p[1], p[2]};
  };
  EXPECT_EQ(px(0, 0), hi);
  EXPECT_EQ(px(2, 5), hi);
  EXPECT_EQ(px(3, 0), lo);
  EXPECT_EQ(px(5, 5), lo);
}

TEST(PlotHeatmap, WritesAPng) {
  const auto path = std::filesystem::temp_directory_path() / "fermata_heatmap_test.png";
  Generator g(1);
  HeatmapOptions o;
  o.scale_x = 3;
  write_heatmap_png(path.string(), rand({40, 25}, {}, &g), o);
  std::ifstream f(path, std::ios::binary);
  const std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  ASSERT_GT(b.size(), 33u);
  const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  EXPECT_TRUE(std::equal(sig, sig + 8, b.begin()));
  auto be32 = [&](size_t i) { return (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]; };
  EXPECT_EQ(std::string(b.begin() + 12, b.begin() + 16), "IHDR");
  EXPECT_EQ(be32(16), 75);  // width: 25 columns x 3
  EXPECT_EQ(be32(20), 40);  // height
  EXPECT_EQ(b[24], 8);      // bit depth
  EXPECT_EQ(b[25], 2);      // colour type: RGB
}

TEST(PlotHeatmap, CaptionBandAboveThePicture) {
  const Image img = heatmap(reshape(arange(0, 6, 1, {.dtype = DType::Float32}), {2, 3}), {.scale_x = 10, .scale_y = 10});
  const Image cap = with_caption(img, {"predicted: rock 0.900", "x"}, 2);
  // the band is 2 lines of 24 px plus 16 px of padding; wider than 30 px to hold the text
  EXPECT_EQ(cap.height, img.height + 2 * 24 + 16);
  EXPECT_GT(cap.width, img.width);
  // the picture sits unchanged at the band's bottom-left
  const int64_t band = cap.height - img.height;
  for (int64_t y = 0; y < img.height; ++y)
    for (int64_t x = 0; x < img.width * 3; ++x)
      ASSERT_EQ(cap.rgb[((band + y) * cap.width) * 3 + x], img.rgb[y * img.width * 3 + x]) << y << "," << x;
  // the band holds black text on white
  int black = 0, white = 0;
  for (int64_t i = 0; i < band * cap.width * 3; i += 3) {
    black += cap.rgb[i] == 0 && cap.rgb[i + 1] == 0 && cap.rgb[i + 2] == 0;
    white += cap.rgb[i] == 255 && cap.rgb[i + 1] == 255 && cap.rgb[i + 2] == 255;
  }
  EXPECT_GT(black, 100);
  EXPECT_EQ(black + white, band * cap.width);
  // no lines: the picture itself
  EXPECT_EQ(with_caption(img, {}).rgb, img.rgb);
  // readable_heatmap enlarges a 12 x 40 chromagram to >= 256 rows and >= 480 columns
  const Image big = readable_heatmap(zeros({12, 40}));
  EXPECT_EQ(big.height, 12 * 21);
  EXPECT_EQ(big.width, 40 * 12);
}

TEST(PlotHeatmap, Errors) {
  EXPECT_THROW_MSG(heatmap(zeros({5})), "2-D");
  EXPECT_THROW_MSG(write_heatmap_png("/nonexistent-dir/x.png", zeros({2, 2})), "cannot write");
  HeatmapOptions o;
  o.scale_x = 0;
  EXPECT_THROW_MSG(heatmap(zeros({2, 2}), o), "scale");
}

}  // namespace
}  // namespace fm
