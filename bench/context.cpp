// Machine facts recorded in the benchmark's JSON "context" (compare_torch.py reads them).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <string>

namespace {
const bool registered = [] {
  benchmark::AddCustomContext("fermata_threads", std::to_string(omp_get_max_threads()));
  return true;
}();
}  // namespace
