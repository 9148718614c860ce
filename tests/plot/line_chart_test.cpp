// Line charts: tick choice, where the pixels of a series land, and the PNG written.
#include "plot/line_chart.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "support/test_support.h"

using namespace fm;

TEST(LineChart, NiceTicks) {
  EXPECT_EQ(plot::nice_ticks(0, 1), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  const auto t = plot::nice_ticks(0.4, 2.6);  // a step of 0.44 rounds up to 0.5
  ASSERT_EQ(t.size(), 5u);
  EXPECT_DOUBLE_EQ(t.front(), 0.5);
  EXPECT_DOUBLE_EQ(t.back(), 2.5);
  EXPECT_EQ(plot::nice_ticks(0.37, 2.9), (std::vector<double>{1, 2}));  // 0.506 rounds up to 1
  EXPECT_EQ(plot::nice_ticks(1, 30, 3), (std::vector<double>{10, 20, 30}));
  EXPECT_THROW_MSG(plot::nice_ticks(1, 1), "need finite lo < hi");
}

TEST(LineChart, SeriesPixelsFollowTheData) {
  // a falling loss: its pixels sit high on the left and low on the right
  plot::Chart c;
  c.options = {.title = "loss", .x_label = "epoch", .y_label = "loss"};
  c.series.push_back({"train", {0, 1, 2, 3, 4}, {2.0, 1.5, 1.0, 0.5, 0.25}});
  const int W = 400, H = 300;
  const auto px = plot::render_line_charts({c}, W, H);
  ASSERT_EQ(px.size(), static_cast<size_t>(W * H * 3));
  const uint32_t col = plot::series_color(0);
  double left_y = 0, right_y = 0;
  int left_n = 0, right_n = 0;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const uint8_t* p = &px[(y * W + x) * 3];
      if (p[0] != (col >> 16 & 0xFF) || p[1] != (col >> 8 & 0xFF) || p[2] != (col & 0xFF)) continue;
      if (y < 34 + 4 + 8 + 14) continue;  // the legend
      if (x < W / 3) left_y += y, ++left_n;
      if (x > 2 * W / 3) right_y += y, ++right_n;
    }
  ASSERT_GT(left_n, 20);
  ASSERT_GT(right_n, 20);
  EXPECT_LT(left_y / left_n + 60, right_y / right_n);  // image rows grow downwards
}

TEST(LineChart, WritesAPngOfTheChartsSideBySide) {
  const auto path = std::filesystem::temp_directory_path() / ("fermata_curves_" + std::to_string(::getpid()) + ".png");
  plot::Chart loss{{{"train", {0, 1, 2}, {1.0, 0.6, 0.4}}, {"val", {0, 1, 2}, {1.1, NAN, 0.5}}},
                   {.title = "loss", .x_label = "epoch"}};
  plot::Chart acc{{{"accuracy", {0, 1, 2}, {0.3, 0.6, 0.8}}}, {.title = "accuracy", .y_min = 0, .y_max = 1}};
  plot::save_line_charts(path.string(), {loss, acc}, 320, 240);
  std::ifstream f(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), {});
  ASSERT_GT(bytes.size(), 33u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  auto be32 = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) << 24 | static_cast<uint8_t>(bytes[at + 1]) << 16 |
           static_cast<uint8_t>(bytes[at + 2]) << 8 | static_cast<uint8_t>(bytes[at + 3]);
  };
  EXPECT_EQ(be32(16), 640u);
  EXPECT_EQ(be32(20), 240u);
  std::filesystem::remove(path);
  EXPECT_THROW_MSG(plot::save_line_charts("/proc/no_such_dir/x.png", {acc}), "cannot write '/proc/no_such_dir/x.png'");
  EXPECT_THROW_MSG(plot::render_line_charts({plot::Chart{{{"bad", {0, 1}, {1}}}, {}}}),
                   "has 2 x values and 1 y values");
}

TEST(LineChart, DrawsEveryStrokeOfTheGlyphs) {
  // eight '8's (the glyph with the most strokes) ink eight times the pixels of one: a glyph cut
  // short (too small a vertex buffer) breaks the proportion
  auto ink = [](const std::string& title) {
    const auto px = plot::render_line_charts({plot::Chart{{}, {.title = title}}}, 400, 150);
    int64_t n = 0;
    for (int y = 0; y < 30; ++y)  // the title band, above the frame
      for (int x = 0; x < 400; ++x) n += px[(y * 400 + x) * 3] == 0;
    return n;
  };
  const int64_t one = ink("8");
  EXPECT_GT(one, 10);
  EXPECT_EQ(ink("88888888"), 8 * one);
  EXPECT_GT(one, ink("9"));
}
