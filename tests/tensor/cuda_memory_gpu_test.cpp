// CUDA memory: round trips between host and device keep every byte (label gpu; skipped, with a
// message, where no GPU is present).
#include "support/test_support.h"

using namespace fm;

TEST(CudaMemory, RoundTripEveryDtype) {
  FM_SKIP_WITHOUT_GPU();
  for (DType dt : {kFloat32, kFloat64, kInt64, kBool}) {
    Tensor x = to(randint(0, 2, {1000, 3}), dt);
    Tensor d = to(x, Device::cuda());
    EXPECT_EQ(d.device(), Device::cuda());
    EXPECT_TRUE(equal(to(d, Device::cpu()), x));
  }
}

TEST(CudaMemory, NonContiguousAndConvertingCopies) {
  FM_SKIP_WITHOUT_GPU();
  Tensor x = rand({7, 5});
  Tensor d = to(t(x), kFloat64, Device::cuda());  // strided + dtype change on the way
  EXPECT_CLOSE(to(d, kFloat32, Device::cpu()), contiguous(t(x)));
  Tensor back = zeros({5, 7}, {.dtype = kFloat64});
  Tensor bt = t(back);
  copy_(bt, t(to(d, Device::cpu())));
  EXPECT_CLOSE(back, to(contiguous(t(x)), kFloat64));
}

TEST(CudaMemory, CpuOnlyOpsNameTheDevice) {
  FM_SKIP_WITHOUT_GPU();
  Tensor d = to(ones({2}), Device::cuda());
  EXPECT_THROW_MSG(argmax(d, 0), "cuda:0");  // no CUDA kernel yet
}
