// The kernel variant switch (kernels/cuda/ops.h). Compiled in every build so that tests and
// benchmarks call it unconditionally; without CUDA it selects nothing.
#include <atomic>
#include <cstdlib>

#include "kernels/cuda/ops.h"

namespace fm::kernels::cuda {

namespace {
std::atomic<int> g_variant{[] {
  const char* e = std::getenv("FERMATA_CUDA_KERNELS");
  return e && e[0] == '1' ? 1 : 2;
}()};
}  // namespace

void set_kernel_variant(int v) {
  FM_CHECK(v == 1 || v == 2, "set_kernel_variant: expected 1 (simple) or 2 (tuned), got ", v);
  g_variant = v;
}
int kernel_variant() { return g_variant; }

}  // namespace fm::kernels::cuda
