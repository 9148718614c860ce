// `fermata bench models`: the time of one training step (forward, cross-entropy, backward,
// Adam step) of each model at fixed shapes, and the peak resident memory of a process that
// runs only that model's steps. Each model runs in a child process (this program re-executed
// with the hidden --child option), so one model's peak is not hidden under another's.
// bench/compare_torch_models.py runs the same steps in PyTorch beside it.
#include <omp.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "apps/command.h"
#include "autograd/elementwise.h"
#include "layers/loss.h"
#include "models/registry.h"
#include "optim/optimizer.h"
#include "tensor/error.h"
#include "tensor/factory.h"
#include "tensor/philox.h"

namespace {

using fm::Tensor;
using json = nlohmann::json;

// The shapes of issue 7: 8 clips of 3 s at 22.05 kHz for MusicCNN (its log-mel front end,
// n_fft 2048, hop 512, 128 mels, is inside the model and timed with it); 8 magnitude
// spectrograms of 1x128x130 for HarmonicCNN (its harmonic filters are applied to them).
struct BenchCase {
  std::string model;
  fm::Shape input;
  std::string input_desc;
};

const std::vector<BenchCase>& cases() {
  static const std::vector<BenchCase> c{
      {"music_cnn", {8, 3 * 22050}, "audio 8x66150 (3 s at 22.05 kHz)"},
      {"harmonic_cnn", {8, 1, 128, 130}, "magnitude spectrogram 8x1x128x130"},
  };
  return c;
}

const BenchCase& find_case(const std::string& name) {
  for (const auto& c : cases())
    if (c.model == name) return c;
  std::string known;
  for (const auto& c : cases()) known += (known.empty() ? "" : ", ") + c.model;
  FM_CHECK(false, "bench models: unknown model '", name, "'; known: ", known);
  return cases().front();
}

// CPU time of this process (all threads), in ms: on a shared machine the wall time of a step
// depends on the other processes, its CPU time much less.
double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Peak resident set size of this process (VmHWM), in MiB.
double peak_rss_mib() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream is(line.substr(6));
      double kb = 0;
      is >> kb;
      return kb / 1024.0;
    }
  }
  return 0;
}

json run_child(const std::string& name, int steps, int warmup) {
  const BenchCase& bc = find_case(name);
  fm::manual_seed(0);
  auto model = fm::models::create_model(name, {.n_classes = 10});
  model->train();
  fm::optim::Adam opt(model->parameters(), {.lr = 1e-3});
  // Audio as noise in [-1, 1); spectrogram magnitudes positive, as an STFT's are.
  Tensor x = bc.input.size() == 2 ? fm::sub(fm::mul(fm::rand(bc.input), 2.0), fm::ones({1}))
                                  : fm::add(fm::rand(bc.input), 1e-3);
  Tensor target = fm::randint(0, 10, {bc.input[0]});
  std::vector<double> ms, cpu;
  double loss = 0;
  for (int i = 0; i < warmup + steps; ++i) {
    const double c0 = process_cpu_ms();
    const auto t0 = std::chrono::steady_clock::now();
    opt.zero_grad();
    Tensor l = fm::nn::cross_entropy((*std::dynamic_pointer_cast<fm::nn::UnaryModule>(model))(x), target);
    l.backward();
    opt.step();
    const auto t1 = std::chrono::steady_clock::now();
    const double c1 = process_cpu_ms();
    loss = l.item();
    if (i >= warmup) {
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      cpu.push_back(c1 - c0);
    }
  }
  return json{{"model", name},
              {"input", bc.input_desc},
              {"steps", steps},
              {"warmup", warmup},
              {"median_ms", median(ms)},
              {"min_ms", *std::min_element(ms.begin(), ms.end())},
              {"median_cpu_ms", median(cpu)},
              {"peak_rss_mib", peak_rss_mib()},
              {"threads", omp_get_max_threads()},
              {"parameters", model->num_parameters()},
              {"last_loss", loss},
              {"step_ms", ms},
              {"step_cpu_ms", cpu}};
}

std::string self_exe() {
  std::array<char, 4096> buf{};
  const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  FM_CHECK(n > 0, "bench models: cannot find this program's path through /proc/self/exe");
  return std::string(buf.data(), static_cast<size_t>(n));
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `fermata bench models --child NAME` and reads the JSON line it prints.
json run_in_child(const std::string& name, int steps, int warmup) {
  const std::string cmd = shell_quote(self_exe()) + " bench models --child " + shell_quote(name) +
                          " --steps " + std::to_string(steps) + " --warmup " + std::to_string(warmup);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  FM_CHECK(pipe != nullptr, "bench models: could not start ", cmd);
  std::string out;
  std::array<char, 4096> buf{};
  for (size_t r; (r = fread(buf.data(), 1, buf.size(), pipe.get())) > 0;) out.append(buf.data(), r);
  const int status = pclose(pipe.release());
  FM_CHECK(status == 0, "bench models: the child process for ", name, " failed (status ", status, ")");
  return json::parse(out);
}

int bench_models(bool as_json, int steps, int warmup, const std::string& only, const std::string& child) {
  FM_CHECK(steps >= 1 && warmup >= 0, "bench models: need --steps >= 1 and --warmup >= 0, got ", steps, " and ",
           warmup);
  if (!child.empty()) {
    std::printf("%s\n", run_child(child, steps, warmup).dump().c_str());
    return 0;
  }
  std::vector<std::string> names;
  if (!only.empty()) {
    names.push_back(find_case(only).model);
  } else {
    for (const auto& c : cases()) names.push_back(c.model);
  }
  json results = json::array();
  for (const auto& n : names) {
    if (!as_json) std::fprintf(stderr, "running %s (%d warm-up + %d steps)...\n", n.c_str(), warmup, steps);
    results.push_back(run_in_child(n, steps, warmup));
  }
  if (as_json) {
    std::printf("%s\n", results.dump(2).c_str());
    return 0;
  }
  std::printf("training step (forward, cross-entropy, backward, Adam), median of %d steps after %d warm-up\n", steps,
              warmup);
  std::printf("%-14s %-36s %10s %10s %12s %13s\n", "model", "input", "median ms", "min ms", "CPU ms/step",
              "peak RSS MiB");
  for (const auto& r : results)
    std::printf("%-14s %-36s %10.1f %10.1f %12.1f %13.1f\n", r["model"].get<std::string>().c_str(),
                r["input"].get<std::string>().c_str(), r["median_ms"].get<double>(), r["min_ms"].get<double>(),
                r["median_cpu_ms"].get<double>(), r["peak_rss_mib"].get<double>());
  return 0;
}

struct Args {
  bool json = false;
  int steps = 10;
  int warmup = 2;
  std::string model, child;
};

const fm::apps::Registration bench{{"bench", "Measure the framework's own speed (bench models)",
  [](CLI::App& sub) -> std::function<int()> {
    auto args = std::make_shared<Args>();
    sub.require_subcommand(1);
    CLI::App* models = sub.add_subcommand(
        "models", "Training-step time and peak memory of each model at the issue's fixed shapes");
    models->add_flag("--json", args->json, "Print the results as JSON");
    models->add_option("--steps", args->steps, "Timed steps per model")->capture_default_str();
    models->add_option("--warmup", args->warmup, "Untimed steps first")->capture_default_str();
    models->add_option("--model", args->model, "Only this model (music_cnn, harmonic_cnn)");
    models->add_option("--child", args->child, "Run one model's steps in this process")->group("");
    return [args, models]() -> int {
      if (!models->parsed()) return 2;
      return bench_models(args->json, args->steps, args->warmup, args->model, args->child);
    };
  }}};

}  // namespace
