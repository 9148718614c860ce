// make demo: a small perceptron (nn::Sequential of Linear/Tanh) learns one period of a sine
// wave from noisy samples with Adam and a cosine learning-rate schedule, then saves a
// checkpoint and reloads it. Prints the loss curve and a few predictions; exits non-zero if
// it did not learn (it doubles as a learning test).
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "fermata.h"

using namespace fm;

int main() {
  manual_seed(0);
  const int64_t n = 256;
  Tensor x = reshape(linspace(-M_PI, M_PI, n), {n, 1});
  Tensor y = sin(x) + randn({n, 1}) * 0.05;

  auto model = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::UnaryModule>>{
      std::make_shared<nn::Linear>(1, 32), nn::Tanh(), std::make_shared<nn::Linear>(32, 32), nn::Tanh(),
      std::make_shared<nn::Linear>(32, 1)});
  std::printf("%s\n%lld parameters\n\n", model->to_string().c_str(), static_cast<long long>(model->num_parameters()));

  const int steps = 1500;
  optim::Adam opt(model->parameters(), {.lr = 0.01});
  optim::CosineAnnealingLR sched(opt, steps, 1e-4);
  std::printf("step      loss        lr\n");
  double first = 0, last = 0;
  for (int step = 0; step <= steps; ++step) {
    opt.zero_grad();
    Tensor loss = mean(pow((*model)(x) - y, 2.0));
    loss.backward();
    opt.step();
    if (step < steps) sched.step();
    last = loss.item();
    if (step == 0) first = last;
    if (step % 150 == 0) std::printf("%4d  %.6f  %.6f\n", step, last, opt.lr());
  }

  // checkpoint round trip: a fresh model loaded from disk predicts the same
  const auto dir = std::filesystem::temp_directory_path() / "fermata_demo";
  std::filesystem::create_directories(dir);
  optim::save_checkpoint((dir / "sine").string(), *model, &opt, &sched, {.epoch = 1, .step = steps});
  auto reloaded = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::UnaryModule>>{
      std::make_shared<nn::Linear>(1, 32), nn::Tanh(), std::make_shared<nn::Linear>(32, 32), nn::Tanh(),
      std::make_shared<nn::Linear>(32, 1)});
  optim::load_checkpoint((dir / "sine").string(), *reloaded);
  std::filesystem::remove_all(dir);

  std::printf("\n     x   sin(x)   model  reloaded\n");
  NoGradGuard no_grad;
  bool same = true;
  for (double v : {-3.0, -1.5, 0.0, 1.5, 3.0}) {
    Tensor xi = full({1, 1}, v);
    const double p = (*model)(xi).item(), q = (*reloaded)(xi).item();
    same = same && p == q;
    std::printf("%6.2f  %7.4f  %7.4f  %7.4f\n", v, std::sin(v), p, q);
  }
  if (!(last < 0.01 && last < first / 10) || !same) {
    std::fprintf(stderr, "fit_sine: did not learn (loss %.4f -> %.4f) or the checkpoint differs\n", first, last);
    return 1;
  }
  return 0;
}
