#include "autograd/linalg.h"

#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "autograd/reduce.h"
#include "autograd/views.h"
#include "kernels/elementwise.h"
#include "kernels/linalg.h"

namespace fm {

using autograd::record;
using autograd::save;
using autograd::SavedTensor;
using autograd::tensor_list;

Tensor mm(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::mm(a, b);
  if (autograd::any_requires_grad({a, b})) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record("MmBackward", {a, b}, {y},
           [sa = gb ? save(a) : SavedTensor(), sb = ga ? save(b) : SavedTensor(), ga, gb](const tensor_list& g) {
             return tensor_list{ga ? mm(g[0], t(sb.unpack())) : Tensor(),
                                gb ? mm(t(sa.unpack()), g[0]) : Tensor()};
           });
  }
  return y;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::bmm(a, b);
  if (autograd::any_requires_grad({a, b})) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record("BmmBackward", {a, b}, {y},
           [sa = gb ? save(a) : SavedTensor(), sb = ga ? save(b) : SavedTensor(), ga, gb](const tensor_list& g) {
             return tensor_list{ga ? bmm(g[0], transpose(sb.unpack(), 1, 2)) : Tensor(),
                                gb ? bmm(transpose(sa.unpack(), 1, 2), g[0]) : Tensor()};
           });
  }
  return y;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  FM_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: both arguments need at least 1 dimension, got ",
           a.describe(), " and ", b.describe());
  if (a.dim() == 1 && b.dim() == 1) return dot(a, b);
  if (a.dim() == 2 && b.dim() == 2) return mm(a, b);
  if (a.dim() == 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.dim() == 1) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  const int64_t n = a.size(-2), k = a.size(-1), m = b.size(-1);
  FM_CHECK(b.size(-2) == k, "matmul: shapes ", shape_str(a.sizes()), " and ", shape_str(b.sizes()),
           " cannot be multiplied (", k, " != ", b.size(-2), ")");
  if (b.dim() == 2) {
    // fold the batch into rows: one large GEMM
    Shape out = a.sizes();
    out.back() = m;
    return reshape(mm(reshape(a, {-1, k}), b), out);
  }
  const Shape ab(a.sizes().begin(), a.sizes().end() - 2), bb(b.sizes().begin(), b.sizes().end() - 2);
  const Shape batch = kernels::broadcast_shapes(ab, bb, "matmul");
  Shape ae = batch, be = batch;
  ae.insert(ae.end(), {n, k});
  be.insert(be.end(), {k, m});
  const Tensor a3 = reshape(expand(a, ae), {-1, n, k});
  const Tensor b3 = reshape(expand(b, be), {-1, k, m});
  Shape out = batch;
  out.insert(out.end(), {n, m});
  return reshape(bmm(a3, b3), out);
}

Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, double beta, double alpha) {
  const int64_t m = a.dim() == 2 ? a.size(0) : -1, n = b.dim() == 2 ? b.size(1) : -1;
  FM_CHECK(m >= 0 && n >= 0, "addmm: expected 2-D matrices, got ", a.describe(), " and ", b.describe());
  const Shape s = kernels::broadcast_shapes(bias.sizes(), {m, n}, "addmm");
  FM_CHECK(s == (Shape{m, n}), "addmm: bias ", bias.describe(), " does not broadcast to [", m, ", ", n, "]");
  Tensor y = empty({m, n}, {.dtype = a.dtype(), .device = a.device()});
  copy_into(y, make_view(bias, {m, n}, [&] {
              Shape st(2, 0);
              const int64_t off = 2 - bias.dim();
              for (int64_t d = 0; d < bias.dim(); ++d)
                st[off + d] = bias.size(d) == 1 ? 0 : bias.stride(d);
              return st;
            }(), bias.storage_offset()));
  kernels::mm_into(y, a, b, alpha, beta);
  if (autograd::any_requires_grad({bias, a, b})) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record("AddmmBackward", {bias, a, b}, {y},
           [sa = gb ? save(a) : SavedTensor(), sb = ga ? save(b) : SavedTensor(), ga, gb, beta, alpha,
            bs = bias.sizes()](const tensor_list& g) {
             const Tensor gs = alpha == 1 ? g[0] : mul(g[0], alpha);
             return tensor_list{sum_to(beta == 1 ? g[0] : mul(g[0], beta), bs),
                                ga ? mm(gs, t(sb.unpack())) : Tensor(), gb ? mm(t(sa.unpack()), gs) : Tensor()};
           });
  }
  return y;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  FM_CHECK(w.dim() == 2, "linear: weight must be 2-D [out_features, in_features], got ", w.describe());
  FM_CHECK(x.dim() >= 1 && x.size(-1) == w.size(1), "linear: input ", x.describe(),
           " has last dimension ", x.dim() ? x.size(-1) : 0, " but weight ", w.describe(), " expects ", w.size(1));
  if (b.defined())
    FM_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "linear: bias ", b.describe(),
             " must be 1-D of size out_features = ", w.size(0));
  if (x.dim() == 2 && b.defined()) return addmm(b, x, t(w));
  Tensor y = matmul(x, t(w));
  return b.defined() ? add(y, b) : y;
}

Tensor dot(const Tensor& a, const Tensor& b) {
  FM_CHECK(a.dim() == 1 && b.dim() == 1 && a.size(0) == b.size(0), "dot: expected two 1-D tensors "
           "of the same length, got ", a.describe(), " and ", b.describe());
  return reshape(mm(unsqueeze(a, 0), unsqueeze(b, 1)), {});
}

Tensor outer(const Tensor& a, const Tensor& b) {
  FM_CHECK(a.dim() == 1 && b.dim() == 1, "outer: expected 1-D tensors, got ", a.describe(), " and ", b.describe());
  return mul(unsqueeze(a, 1), unsqueeze(b, 0));
}

}  // namespace fm
