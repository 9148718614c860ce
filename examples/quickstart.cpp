// The README's quick start, compiled so it stays true: fit a linear model by gradient descent.
#include <fermata.h>
using namespace fm;

int main() {
  Tensor x = randn({64, 16});
  Tensor w = (randn({1, 16}) * 0.1).detach().requires_grad_(true);
  Tensor b = zeros({1}, {.requires_grad = true});
  Tensor y = sum(x, {1}, /*keepdim=*/true) * 0.5;  // target
  for (int step = 0; step < 100; ++step) {
    Tensor loss = mean(pow(linear(x, w, b) - y, 2.0));
    w.set_grad({}); b.set_grad({});
    loss.backward();
    NoGradGuard no_grad;
    add_(w, w.grad(), -0.1);
    add_(b, b.grad(), -0.1);
  }
  return 0;
}
