// CPU dropout: one Philox block feeds four consecutive elements, so each block is computed
// once; blocks are split across OpenMP threads (the result does not depend on the split).
#include "kernels/dropout.h"

#include "kernels/cuda/ops.h"
#include "kernels/elementwise.h"
#include "tensor/philox.h"
#include "tensor/strided_loop.h"

namespace fm::kernels {

std::pair<Tensor, Tensor> dropout(const Tensor& x, double p, uint64_t seed, uint64_t base) {
  FM_CUDA_DISPATCH(cuda::any_cuda({&x}), cuda::dropout(x, p, seed, base));
  require_cpu("dropout", {&x});
  FM_CHECK(p >= 0 && p < 1, "dropout: kernel needs 0 <= p < 1, got ", p);
  const Tensor xc = contiguous_raw(x);
  Tensor y = empty(x.sizes(), {.dtype = x.dtype(), .device = x.device()});
  Tensor mask = empty(x.sizes(), {.dtype = x.dtype(), .device = x.device()});
  const int64_t n = x.numel();
  const int64_t blocks = (n + 3) / 4;
  const double keep = 1.0 - p;
  dispatch_floating(x.dtype(), "dropout", [&]<class T>() {
    const T scale = static_cast<T>(1.0 / keep);
    const T* xp = xc.data_ptr<T>();
    T* yp = y.data_ptr<T>();
    T* mp = mask.data_ptr<T>();
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
    for (int64_t b = 0; b < blocks; ++b) {
      const PhiloxBlock r = philox4x32_10(base + static_cast<uint64_t>(b), 0, seed);
      const int64_t i0 = b * 4;
      const int lanes = static_cast<int>(std::min<int64_t>(4, n - i0));
      for (int l = 0; l < lanes; ++l) {
        const T m = uniform_float(r.v[l]) < keep ? scale : T(0);
        mp[i0 + l] = m;
        yp[i0 + l] = xp[i0 + l] * m;
      }
    }
  });
  return {y, mask};
}

}  // namespace fm::kernels
