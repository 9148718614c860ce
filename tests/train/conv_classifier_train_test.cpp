// A learning test: a small conv net (Conv2d, BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d,
// Linear) learns to tell horizontal, vertical and diagonal strokes apart in noisy 12x12 images,
// with Adam and cross-entropy, in a few seconds; it must reach 95% on held-out images.
#include <vector>

#include "support/test_support.h"

using namespace fm;

namespace {

// n images [n, 1, 12, 12] with a 5-pixel stroke of class 0 (horizontal), 1 (vertical) or 2
// (diagonal) at a random place, plus Gaussian noise; labels [n] int64.
std::pair<Tensor, Tensor> make_strokes(int64_t n, Generator& gen) {
  const int64_t S = 12;
  std::vector<float> img(n * S * S, 0.f);
  std::vector<int64_t> labels(n);
  const auto r = randint(0, 1 << 20, {n, 3}, {}, &gen).to_vector<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t cls = r[i * 3] % 3, y0 = r[i * 3 + 1] % (S - 5), x0 = r[i * 3 + 2] % (S - 5);
    labels[i] = cls;
    for (int64_t k = 0; k < 5; ++k) {
      const int64_t y = cls == 0 ? y0 + 2 : y0 + k, x = cls == 1 ? x0 + 2 : x0 + k;
      img[i * S * S + y * S + x] = 1.f;
    }
  }
  Tensor x = from_vector(img, {n, 1, S, S}) + randn({n, 1, S, S}, {}, &gen) * 0.3;
  return {x, from_vector(labels, {n})};
}

}  // namespace

TEST(ConvClassifierTrain, ReachesNinetyFivePercentOnHeldOutStrokes) {
  manual_seed(5);
  Generator data_gen(17);
  auto [x_train, y_train] = make_strokes(768, data_gen);
  auto [x_test, y_test] = make_strokes(300, data_gen);

  nn::Sequential model({std::make_shared<nn::Conv2d>(1, 8, Int2{3, 3}, nn::Conv2dOptions{.padding = 1}),
                        std::make_shared<nn::BatchNorm2d>(8), nn::ReLU(), std::make_shared<nn::MaxPool2d>(2),
                        std::make_shared<nn::Conv2d>(8, 16, Int2{3, 3}, nn::Conv2dOptions{.padding = 1}), nn::ReLU(),
                        std::make_shared<nn::AdaptiveAvgPool2d>(Int2{1, 1}), std::make_shared<nn::Flatten>(),
                        std::make_shared<nn::Linear>(16, 3)});
  optim::Adam opt(model.parameters(), {.lr = 0.01});
  const int64_t batch = 64;
  double loss_first = 0, loss_last = 0;
  for (int epoch = 0; epoch < 20; ++epoch) {
    for (int64_t b = 0; b < 768; b += batch) {
      opt.zero_grad();
      Tensor loss = nn::cross_entropy(model(narrow(x_train, 0, b, batch)), narrow(y_train, 0, b, batch));
      loss.backward();
      opt.step();
      loss_last = loss.item();
      if (epoch == 0 && b == 0) loss_first = loss_last;
    }
  }
  model.eval();
  NoGradGuard ng;
  const double accuracy = mean(to(eq(argmax(model(x_test), 1), y_test), kFloat32)).item();
  EXPECT_LT(loss_last, loss_first / 4);
  EXPECT_GE(accuracy, 0.95) << "loss " << loss_first << " -> " << loss_last;
}
