// `fermata info`: what this build can do here (version, backends, threads).
#include "apps/command.h"
#include "tensor/device.h"

#include <omp.h>

#include <cstdio>

namespace {
const fm::apps::Registration info{{"info", "Show the build's backends and this machine's devices",
  [](CLI::App&) -> std::function<int()> {
    return [] {
      std::printf("fermata %s\n", FERMATA_VERSION_STRING);
#ifdef FERMATA_WITH_CUDA
      std::printf("CUDA backend: built, %d device(s) visible\n", fm::cuda_device_count());
#else
      std::printf("CUDA backend: not built\n");
#endif
      std::printf("CPU threads: %d (OpenMP)\n", omp_get_max_threads());
      return 0;
    };
  }}};
}  // namespace
