#include <fermata.h>

#include <cstdio>

int main() {
  fm::Tensor x = fm::tensor({1.0, 2.0, 3.0}, {.requires_grad = true});
  fm::Tensor y = fm::sum(fm::mul(x, x));
  y.backward();
  const auto g = x.grad().to_vector<float>();
  std::printf("grad = %g %g %g\n", g[0], g[1], g[2]);
  return (g[0] == 2 && g[1] == 4 && g[2] == 6) ? 0 : 1;
}
