#include "support/test_support.h"

using namespace fm;

TEST(Tensor, FactoriesHaveShapeDtypeAndValues) {
  Tensor z = zeros({2, 3});
  EXPECT_EQ(z.sizes(), (Shape{2, 3}));
  EXPECT_EQ(z.dtype(), kFloat32);
  EXPECT_EQ(z.to_vector<float>(), std::vector<float>(6, 0.f));
  Tensor a = arange(5);
  EXPECT_EQ(a.dtype(), kInt64);
  EXPECT_EQ(a.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  Tensor l = linspace(0, 1, 5, {.dtype = kFloat64});
  EXPECT_EQ(l.to_vector<double>(), (std::vector<double>{0, 0.25, 0.5, 0.75, 1.0}));
  Tensor e = eye(2, 3);
  EXPECT_EQ(e.to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(full({2}, 7.5).to_vector<float>(), (std::vector<float>{7.5f, 7.5f}));
}
