#include "support/test_support.h"

using namespace fm;

namespace {
Tensor iota(const Shape& s, DType dt = kFloat32) {
  return reshape(arange(0, static_cast<double>(shape_numel(s)), 1, {.dtype = dt}), s);
}
std::vector<float> vals(const Tensor& t) { return t.to_vector<float>(); }
using V = std::vector<float>;
}  // namespace

TEST(Shape, CatAlongEachDim) {
  Tensor a = iota({2, 2}), b = add(iota({2, 1}), 10.0);
  Tensor c = cat({a, b}, 1);
  EXPECT_EQ(c.sizes(), (Shape{2, 3}));
  EXPECT_EQ(vals(c), (V{0, 1, 10, 2, 3, 11}));
  Tensor d = cat({a, transpose(a, 0, 1)}, 0);  // non-contiguous input
  EXPECT_EQ(vals(d), (V{0, 1, 2, 3, 0, 2, 1, 3}));
  EXPECT_EQ(vals(cat({a, b}, -1)), vals(c));
  // dtype promotion and the legacy empty 1-D tensor
  Tensor e = cat({iota({2}, kInt64), iota({1}, kFloat64)});
  EXPECT_EQ(e.dtype(), kFloat64);
  EXPECT_EQ(e.to_vector<double>(), (std::vector<double>{0, 1, 0}));
  EXPECT_EQ(cat({a, empty({0})}, 0).sizes(), (Shape{2, 2}));
}

TEST(Shape, CatErrors) {
  EXPECT_THROW_MSG(cat({}, 0), "cat: expected a non-empty list");
  EXPECT_THROW_MSG(cat({iota({2, 2}), iota({3, 3})}, 0), "does not match float32[2, 2]");
  EXPECT_THROW_MSG(cat({iota({2, 2}), iota({2, 2})}, 2), "cat: dimension 2 is out of range");
  EXPECT_THROW_MSG(cat({scalar_tensor(1), scalar_tensor(2)}, 0), "zero-dimensional");
}

TEST(Shape, Stack) {
  Tensor a = iota({2}), b = add(iota({2}), 5.0);
  Tensor s0 = stack({a, b});
  EXPECT_EQ(s0.sizes(), (Shape{2, 2}));
  EXPECT_EQ(vals(s0), (V{0, 1, 5, 6}));
  Tensor s1 = stack({a, b}, 1);
  EXPECT_EQ(s1.sizes(), (Shape{2, 2}));
  EXPECT_EQ(vals(s1), (V{0, 5, 1, 6}));
  EXPECT_EQ(stack({a, b}, -1).sizes(), (Shape{2, 2}));
  EXPECT_THROW_MSG(stack({a, iota({3})}), "stack: all tensors must have the same shape");
}

TEST(Shape, SplitAndChunkAreViews) {
  Tensor x = iota({5, 2});
  auto parts = split(x, 2);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].sizes(), (Shape{2, 2}));
  EXPECT_EQ(parts[2].sizes(), (Shape{1, 2}));
  EXPECT_EQ(vals(parts[1]), (V{4, 5, 6, 7}));
  EXPECT_EQ(parts[1].impl()->storage, x.impl()->storage);  // shares storage
  EXPECT_EQ(parts[1].storage_offset(), 4);

  auto p2 = split(x, std::vector<int64_t>{1, 4}, 0);
  EXPECT_EQ(p2[1].sizes(), (Shape{4, 2}));
  EXPECT_EQ(vals(p2[0]), (V{0, 1}));
  auto cols = split(x, 1, 1);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(vals(cols[1]), (V{1, 3, 5, 7, 9}));
  EXPECT_FALSE(cols[1].is_contiguous());

  auto c = chunk(iota({7}), 3);  // ceil(7/3) = 3: sizes 3, 3, 1
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[2].sizes(), (Shape{1}));
  EXPECT_EQ(chunk(iota({6}), 4).size(), 3u);  // PyTorch: sizes 2, 2, 2
  // writing through a piece writes the base
  fill_(parts[0], 9.0);
  EXPECT_EQ(x.to_vector<float>()[0], 9.f);

  EXPECT_THROW_MSG(split(x, std::vector<int64_t>{1, 2}, 0), "sum to 3 but dimension 0");
  EXPECT_THROW_MSG(split(x, 0), "split: split_size must be positive");
  EXPECT_THROW_MSG(chunk(x, 0), "chunk: the number of chunks must be positive");
}

TEST(Shape, Flip) {
  Tensor x = iota({2, 3});
  EXPECT_EQ(vals(flip(x, {0})), (V{3, 4, 5, 0, 1, 2}));
  EXPECT_EQ(vals(flip(x, {1})), (V{2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(vals(flip(x, {0, -1})), (V{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(vals(flip(transpose(x, 0, 1), {0})), (V{2, 5, 1, 4, 0, 3}));
  EXPECT_TRUE(flip(x, {0}).is_contiguous());
  EXPECT_EQ(flip(iota({3}, kInt64), {0}).to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 0}));
  EXPECT_THROW_MSG(flip(x, {0, 0}), "flip: dimension 0 appears more than once");
  EXPECT_THROW_MSG(flip(x, {2}), "flip: dimension 2 is out of range");
}

TEST(Shape, Roll) {
  Tensor x = iota({2, 3});
  EXPECT_EQ(vals(roll(x, 1, 1)), (V{2, 0, 1, 5, 3, 4}));
  EXPECT_EQ(vals(roll(x, -1, 1)), (V{1, 2, 0, 4, 5, 3}));
  EXPECT_EQ(vals(roll(x, 4, 1)), (V{2, 0, 1, 5, 3, 4}));  // wraps
  EXPECT_EQ(vals(roll(x, {1, 1}, {0, 1})), (V{5, 3, 4, 2, 0, 1}));
  EXPECT_EQ(vals(roll(x, std::vector<int64_t>{2})), (V{4, 5, 0, 1, 2, 3}));  // flattened
  EXPECT_EQ(vals(roll(transpose(x, 0, 1), 1, 0)), (V{2, 5, 0, 3, 1, 4}));
  EXPECT_THROW_MSG(roll(x, {1, 2}, {0}), "roll: got 2 shifts");
}

TEST(Shape, PadConstant) {
  Tensor x = iota({2, 2});
  Tensor p = pad(x, {1, 0}, "constant", -1);
  EXPECT_EQ(p.sizes(), (Shape{2, 3}));
  EXPECT_EQ(vals(p), (V{-1, 0, 1, -1, 2, 3}));
  Tensor q = pad(x, {0, 1, 1, 0});  // last dim right 1, first dim top 1
  EXPECT_EQ(q.sizes(), (Shape{3, 3}));
  EXPECT_EQ(vals(q), (V{0, 0, 0, 0, 1, 0, 2, 3, 0}));
  Tensor crop = pad(iota({4}), {-1, -2});
  EXPECT_EQ(vals(crop), (V{1}));
  Tensor mixed = pad(iota({3}), {-1, 2}, "constant", 7);
  EXPECT_EQ(vals(mixed), (V{1, 2, 7, 7}));
  EXPECT_THROW_MSG(pad(x, {1}), "pad: pads must hold (left, right) pairs");
  EXPECT_THROW_MSG(pad(x, {1, 1, 1, 1, 1, 1}), "pads 3 dimensions");
  EXPECT_THROW_MSG(pad(x, {-2, -1}), "negative in size");
  EXPECT_THROW_MSG(pad(x, {1, 1}, "circular"), "pad: unknown mode 'circular'");
}

TEST(Shape, PadReflectReplicate) {
  Tensor x = iota({1, 4});  // 0 1 2 3
  EXPECT_EQ(vals(pad(x, {2, 1}, "reflect")), (V{2, 1, 0, 1, 2, 3, 2}));
  EXPECT_EQ(vals(pad(x, {2, 1}, "replicate")), (V{0, 0, 0, 1, 2, 3, 3}));
  Tensor y = iota({2, 2});  // [[0,1],[2,3]]
  Tensor r = pad(y, {1, 1, 1, 0}, "reflect");
  EXPECT_EQ(r.sizes(), (Shape{3, 4}));
  EXPECT_EQ(vals(r), (V{3, 2, 3, 2, 1, 0, 1, 0, 3, 2, 3, 2}));
  Tensor e = pad(y, {0, 0, 0, 2}, "replicate");
  EXPECT_EQ(vals(e), (V{0, 1, 2, 3, 2, 3, 2, 3}));
  EXPECT_THROW_MSG(pad(x, {4, 0}, "reflect"), "must be smaller than the size 4 of dimension 1");
  EXPECT_THROW_MSG(pad(x, {-1, 0}, "replicate"), "replicate padding must be non-negative");
}

TEST(Shape, Repeat) {
  Tensor x = iota({2});
  EXPECT_EQ(vals(repeat(x, {3})), (V{0, 1, 0, 1, 0, 1}));
  Tensor r = repeat(x, {2, 2});
  EXPECT_EQ(r.sizes(), (Shape{2, 4}));
  EXPECT_EQ(vals(r), (V{0, 1, 0, 1, 0, 1, 0, 1}));
  Tensor m = repeat(iota({2, 2}), {1, 2});
  EXPECT_EQ(vals(m), (V{0, 1, 0, 1, 2, 3, 2, 3}));
  EXPECT_EQ(repeat(x, {0, 1}).sizes(), (Shape{0, 2}));
  EXPECT_THROW_MSG(repeat(iota({2, 2}), {2}), "repeat: the number of repeats [2] cannot be smaller");
}

TEST(Shape, TrilTriu) {
  Tensor x = add(iota({3, 3}), 1.0);
  EXPECT_EQ(vals(tril(x)), (V{1, 0, 0, 4, 5, 0, 7, 8, 9}));
  EXPECT_EQ(vals(triu(x)), (V{1, 2, 3, 0, 5, 6, 0, 0, 9}));
  EXPECT_EQ(vals(tril(x, -1)), (V{0, 0, 0, 4, 0, 0, 7, 8, 0}));
  EXPECT_EQ(vals(triu(x, 1)), (V{0, 2, 3, 0, 0, 6, 0, 0, 0}));
  EXPECT_EQ(vals(tril(x, 5)), vals(x));
  EXPECT_EQ(vals(triu(x, -5)), vals(x));
  // batched, rectangular, non-contiguous
  Tensor b = add(iota({2, 2, 3}), 1.0);
  EXPECT_EQ(vals(triu(b)), (V{1, 2, 3, 0, 5, 6, 7, 8, 9, 0, 11, 12}));
  EXPECT_EQ(vals(tril(transpose(add(iota({3, 2}), 1.0), 0, 1))), (V{1, 0, 0, 2, 4, 0}));
  EXPECT_THROW_MSG(tril(iota({3})), "tril: expected a tensor of at least 2 dimensions");
}

TEST(Shape, OneHot) {
  Tensor idx = from_vector(std::vector<int64_t>{0, 2, 1}, {3});
  Tensor h = one_hot(idx);
  EXPECT_EQ(h.dtype(), kInt64);
  EXPECT_EQ(h.sizes(), (Shape{3, 3}));
  EXPECT_EQ(h.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 0, 0, 1, 0, 1, 0}));
  Tensor h4 = one_hot(reshape(idx, {3, 1}), 4);
  EXPECT_EQ(h4.sizes(), (Shape{3, 1, 4}));
  EXPECT_EQ(h4.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0}));
  EXPECT_THROW_MSG(one_hot(idx, 2), "one_hot: index 2 (at flat position 1");
  EXPECT_THROW_MSG(one_hot(from_vector(std::vector<int64_t>{-1}, {1}), 3), "index -1");
  EXPECT_THROW_MSG(one_hot(iota({2})), "one_hot: indices must be int64");
  EXPECT_THROW_MSG(one_hot(empty({0}, {.dtype = kInt64})), "cannot infer the number of classes");
}

TEST(Shape, BackwardValues) {
  // cat routes each slice of the gradient back to its input
  Tensor a = ones({2}, {.requires_grad = true}), b = ones({3}, {.requires_grad = true});
  Tensor w = arange(0, 5, 1, {.dtype = kFloat32});
  sum(mul(cat({a, b}), w)).backward();
  EXPECT_EQ(vals(a.grad()), (V{0, 1}));
  EXPECT_EQ(vals(b.grad()), (V{2, 3, 4}));
  // split: unused pieces contribute zeros
  Tensor x = ones({4}, {.requires_grad = true});
  auto parts = split(x, 2);
  sum(mul(parts[1], 3.0)).backward();
  EXPECT_EQ(vals(x.grad()), (V{0, 0, 3, 3}));
  // reflect pad accumulates the mirrored positions
  Tensor y = ones({1, 3}, {.requires_grad = true});
  sum(pad(y, {2, 2}, "reflect")).backward();
  EXPECT_EQ(vals(y.grad()), (V{2, 3, 2}));
  // repeat sums over the copies
  Tensor z = ones({2}, {.requires_grad = true});
  sum(repeat(z, {3, 2})).backward();
  EXPECT_EQ(vals(z.grad()), (V{6, 6}));
}
