// make demo: a two-layer perceptron learns one period of a sine wave from noisy samples, by
// full-batch gradient descent with momentum written out by hand (the optimizers arrive with
// the nn issue). Prints the loss curve and a few predictions.
#include <cmath>
#include <cstdio>

#include "fermata.h"

using namespace fm;

int main() {
  manual_seed(0);
  const int64_t n = 256, hidden = 32;
  // data: x in [-pi, pi), y = sin(x) + small noise
  Tensor x = reshape(linspace(-M_PI, M_PI, n), {n, 1});
  Tensor y = sin(x) + randn({n, 1}) * 0.05;

  // parameters, initialised as torch.nn.Linear does: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  auto uniform = [](Shape s, double bound) {
    Tensor t = (rand(s) * 2.0 - 1.0) * bound;
    return t.detach().requires_grad_(true);
  };
  Tensor w1 = uniform({hidden, 1}, 1.0), b1 = uniform({hidden}, 1.0);
  Tensor w2 = uniform({1, hidden}, 1.0 / std::sqrt(hidden)), b2 = uniform({1}, 1.0 / std::sqrt(hidden));
  std::vector<Tensor> params = {w1, b1, w2, b2};
  std::vector<Tensor> velocity;
  for (const Tensor& p : params) velocity.push_back(zeros_like(p));

  const double lr = 0.05, momentum = 0.9;
  std::printf("step      loss\n");
  double first = 0, last = 0;
  for (int step = 0; step <= 2000; ++step) {
    Tensor pred = linear(tanh(linear(x, w1, b1)), w2, b2);
    Tensor loss = mean(pow(pred - y, 2.0));
    for (Tensor& p : params) p.set_grad(Tensor());
    loss.backward();
    {
      NoGradGuard no_grad;
      for (size_t i = 0; i < params.size(); ++i) {
        mul_(velocity[i], momentum);
        add_(velocity[i], params[i].grad());
        add_(params[i], velocity[i], -lr);
      }
    }
    last = loss.item();
    if (step == 0) first = last;
    if (step % 200 == 0) std::printf("%4d  %.6f\n", step, last);
  }
  std::printf("\n     x   sin(x)   model\n");
  NoGradGuard no_grad;
  for (double v : {-3.0, -1.5, 0.0, 1.5, 3.0}) {
    Tensor xi = full({1, 1}, v);
    const double p = linear(tanh(linear(xi, w1, b1)), w2, b2).item();
    std::printf("%6.2f  %7.4f  %7.4f\n", v, std::sin(v), p);
  }
  // a real example: fail loudly if it did not learn
  if (!(last < 0.01 && last < first / 10)) {
    std::fprintf(stderr, "fit_sine: the loss did not fall enough (%.4f -> %.4f)\n", first, last);
    return 1;
  }
  return 0;
}
