// CUDA elementwise kernels against the CPU kernels: every unary op, every binary op with
// broadcasting, contiguous and strided layouts, float32 and float64, both variants (label gpu).
#include <array>

#include "cuda_parity.h"
#include "kernels/elementwise.h"

using namespace fm;
using namespace fm::cuda_test;
using kernels::BinaryOp;
using kernels::UnaryOp;

namespace {

const std::vector<Shape> kShapes = {{1}, {7}, {1023}, {4097}, {3, 5, 7}, {33, 129}};

// Inputs inside each op's domain; parameters as a user would pass them.
struct UnaryCase {
  UnaryOp op;
  double lo, hi, p0, p1;
};
const std::vector<UnaryCase> kUnary = {
    {UnaryOp::Neg, -3, 3, 0, 0},        {UnaryOp::Exp, -3, 3, 0, 0},
    {UnaryOp::Log, 0.1, 3, 0, 0},       {UnaryOp::Log1p, -0.5, 3, 0, 0},
    {UnaryOp::Sqrt, 0.1, 3, 0, 0},      {UnaryOp::Rsqrt, 0.1, 3, 0, 0},
    {UnaryOp::Abs, -3, 3, 0, 0},        {UnaryOp::Sign, -3, 3, 0, 0},
    {UnaryOp::Sin, -3, 3, 0, 0},        {UnaryOp::Cos, -3, 3, 0, 0},
    {UnaryOp::Tanh, -3, 3, 0, 0},       {UnaryOp::Sigmoid, -3, 3, 0, 0},
    {UnaryOp::Relu, -3, 3, 0, 0},       {UnaryOp::Gelu, -3, 3, 0, 0},
    {UnaryOp::GeluTanh, -3, 3, 0, 0},   {UnaryOp::Silu, -3, 3, 0, 0},
    {UnaryOp::Erf, -3, 3, 0, 0},        {UnaryOp::Reciprocal, 0.1, 3, 0, 0},
    {UnaryOp::Square, -3, 3, 0, 0},     {UnaryOp::LeakyRelu, -3, 3, 0.01, 0},
    {UnaryOp::Elu, -3, 3, 1.3, 0},      {UnaryOp::Softplus, -3, 3, 1.5, 2.0},
    {UnaryOp::Clamp, -3, 3, -1, 0.5},   {UnaryOp::Clamp, -3, 3, NAN, 0.5},
    {UnaryOp::PowScalar, 0.1, 3, 1.7, 0}, {UnaryOp::PowScalar, -3, 3, 2, 0},
    {UnaryOp::AddScalar, -3, 3, 0.25, 0}, {UnaryOp::MulScalar, -3, 3, -1.5, 0},
    {UnaryOp::RsubScalar, -3, 3, 2, 0},  {UnaryOp::RdivScalar, 0.1, 3, 2, 0},
    {UnaryOp::RpowScalar, -3, 3, 2.5, 0},
};

}  // namespace

class CudaElementwise : public CudaParity {};

TEST_P(CudaElementwise, UnaryMatchesCpu) {
  for (DType dt : {kFloat32, kFloat64}) {
    for (const UnaryCase& c : kUnary) {
      for (const Shape& shape : kShapes) {
        for (int layout : {0, 1, 2}) {
          const uint64_t seed = fresh_seed();
          const Tensor x = random_cpu(shape, dt, seed, c.lo, c.hi);
          const Tensor ref = kernels::unary(c.op, x, c.p0, c.p1);
          const Tensor xg = to_cuda(x, layout);
          // poisoned output in the same layout as the input (a strided write for layouts 1, 2)
          const Tensor out = to_cuda(full(shape, NAN, {.dtype = dt}), layout);
          kernels::unary_into(c.op, out, xg, c.p0, c.p1);
          EXPECT_CUDA_CLOSE(out, ref, rtol_for(dt), atol_for(dt), seed,
                            std::string(kernels::unary_name(c.op)) + " " + shape_str(shape) + " " +
                                std::string(dtype_name(dt)) + " layout " + std::to_string(layout));
          const Tensor fresh = kernels::unary(c.op, xg, c.p0, c.p1);  // allocated, poisoned output
          EXPECT_EQ(fresh.device(), Device::cuda());
          EXPECT_CUDA_CLOSE(fresh, ref, rtol_for(dt), atol_for(dt), seed,
                            std::string(kernels::unary_name(c.op)) + " (fresh)");
        }
      }
    }
  }
}

TEST_P(CudaElementwise, BinaryBroadcastMatchesCpu) {
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{1}, {1}},         {{7}, {7}},           {{1023}, {1023}},    {{4097}, {4097}}, {{4097}, {1}},
      {{1}, {4097}},      {{7, 1, 5}, {1, 9, 1}}, {{33, 129}, {129}}, {{1}, {2, 3}},    {{5, 1}, {1, 1023}},
      {{2, 3, 1, 4, 1, 2, 1, 3}, {3, 1, 5, 2, 4, 1}},
  };
  const std::vector<BinaryOp> ops = {BinaryOp::Add, BinaryOp::Sub,     BinaryOp::Mul,     BinaryOp::Div,
                                     BinaryOp::Pow, BinaryOp::Minimum, BinaryOp::Maximum, BinaryOp::Lt,
                                     BinaryOp::Ge,  BinaryOp::Eq,      BinaryOp::LogicalXor};
  for (DType dt : {kFloat32, kFloat64}) {
    for (BinaryOp op : ops) {
      for (const auto& [sa, sb] : pairs) {
        for (int layout : {0, 1, 2}) {
          const uint64_t seed = fresh_seed();
          const bool positive = op == BinaryOp::Pow || op == BinaryOp::Div;
          const Tensor a = random_cpu(sa, dt, seed, positive ? 0.1 : -3, 3);
          Tensor b = random_cpu(sb, dt, seed + 1, positive ? 0.1 : -3, 3);
          if (op == BinaryOp::Eq) b = a.numel() == b.numel() ? a : b;  // some equal elements
          const Tensor ref = kernels::binary(op, a, b);
          const Tensor out = kernels::binary(op, to_cuda(a, layout), to_cuda(b, 2 - layout));
          const std::string what = std::string(kernels::binary_name(op)) + " " + shape_str(sa) + " with " +
                                   shape_str(sb) + " " + std::string(dtype_name(dt)) + " layout " +
                                   std::to_string(layout);
          ASSERT_EQ(out.dtype(), ref.dtype()) << what;
          ASSERT_EQ(out.sizes(), ref.sizes()) << what;
          EXPECT_CUDA_CLOSE(to(out, kFloat64), to(ref, kFloat64), rtol_for(dt), atol_for(dt), seed, what);
        }
      }
    }
  }
}

TEST_P(CudaElementwise, MixedDtypesPromoteAsOnTheCpu) {
  const uint64_t seed = fresh_seed();
  const Tensor a = random_cpu({5, 7}, kFloat32, seed), b = random_cpu({7}, kFloat64, seed + 1);
  const Tensor ref = kernels::binary(BinaryOp::Mul, a, b);
  const Tensor out = kernels::binary(BinaryOp::Mul, to_cuda(a, 1), to_cuda(b, 0));
  EXPECT_EQ(out.dtype(), kFloat64);
  EXPECT_CUDA_CLOSE(out, ref, 1e-11, 1e-13, seed, "float32 * float64");
}

TEST_P(CudaElementwise, WhereBroadcastMatchesCpu) {
  const std::vector<std::array<Shape, 3>> shapes = {
      {Shape{1}, Shape{1}, Shape{1}}, {Shape{4097}, Shape{4097}, Shape{1}}, {Shape{33, 1}, Shape{129}, Shape{33, 129}},
      {Shape{7, 1, 5}, Shape{1, 9, 1}, Shape{5}}};
  for (DType dt : {kFloat32, kFloat64}) {
    for (const auto& s : shapes) {
      for (int layout : {0, 1, 2}) {
        const uint64_t seed = fresh_seed();
        const Tensor cond = kernels::binary(BinaryOp::Gt, random_cpu(s[0], kFloat64, seed), zeros({}, {.dtype = kFloat64}));
        const Tensor a = random_cpu(s[1], dt, seed + 1), b = random_cpu(s[2], dt, seed + 2);
        const Tensor ref = kernels::where(cond, a, b);
        const Tensor out = kernels::where(to_cuda(cond, layout), to_cuda(a, 2 - layout), to_cuda(b, layout));
        EXPECT_CUDA_CLOSE(out, ref, 0, 1e-300, seed, "where " + shape_str(s[0]) + " layout " + std::to_string(layout));
      }
    }
  }
}

TEST_P(CudaElementwise, FillWritesEveryElementOfAStridedView) {
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    const Tensor buf = to(zeros({9, 10}, {.dtype = dt}), Device::cuda());
    const Tensor view = slice(buf, 1, 1, 10, 3);  // columns 1, 4, 7
    kernels::fill(view, 3.0);
    const std::vector<double> got = to(buf, Device::cpu()).to_vector<double>();
    for (int64_t r = 0; r < 9; ++r)
      for (int64_t c = 0; c < 10; ++c)
        EXPECT_EQ(got[r * 10 + c], c % 3 == 1 ? 3.0 : 0.0) << dtype_name(dt) << " at " << r << ", " << c;
  }
}

TEST_P(CudaElementwise, OpsWithoutKernelsNameTheDevice) {
  const Tensor i = to(ones({3}, {.dtype = kInt64}), Device::cuda());
  EXPECT_THROW_MSG(kernels::unary(UnaryOp::Neg, i), "int64");
  const Tensor f = to(ones({3}), Device::cuda());
  EXPECT_THROW_MSG(kernels::binary(BinaryOp::Add, f, ones({3})), "cuda:0");
}

FM_CUDA_PARITY_SUITE(CudaElementwise);
