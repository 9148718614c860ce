#pragma once
// The argument checks of kernels/rnn.h's entry points, shared by the CPU (kernels/cpu/rnn.cpp)
// and CUDA (kernels/cuda/rnn.cpp) implementations. `on_device` checks the devices of a group of
// tensors (the CPU: require_cpu; CUDA: one CUDA device); undefined tensors are skipped by both.
#include <initializer_list>
#include <vector>

#include "kernels/rnn.h"
#include "tensor/error.h"

namespace fm::kernels {

template <class OnDevice>
void rnn_check_args(const char* op, RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& ws,
                    const std::vector<Tensor>& h0, const std::vector<Tensor>& c0, const Tensor& y,
                    OnDevice&& on_device) {
  const size_t D = ws.size();
  FM_CHECK(D == 1 || D == 2, op, ": expected the weights of 1 or 2 directions, got ", D);
  FM_CHECK(h0.size() == D && c0.size() == D, op, ": expected one h0 and one c0 (possibly undefined) per direction");
  on_device(std::initializer_list<const Tensor*>{&x, &y});
  FM_CHECK(x.dim() == 3 && x.is_contiguous(), op, ": x must be a contiguous [T, N, in], got ", x.describe());
  FM_CHECK(x.size(0) > 0, op, ": the sequence is empty (x ", x.describe(), ")");
  const int64_t T = x.size(0), N = x.size(1);
  FM_CHECK(ws[0].w_hh.defined() && ws[0].w_hh.dim() == 2, op, ": w_hh must be 2-D");
  const int64_t H = ws[0].w_hh.size(1), GH = rnn_gates(mode) * H;
  for (size_t d = 0; d < D; ++d) {
    const RnnWeights& w = ws[d];
    FM_CHECK(w.w_ih.defined() && w.w_hh.defined(), op, ": direction ", d, " lacks w_ih or w_hh");
    on_device(std::initializer_list<const Tensor*>{&w.w_ih, &w.w_hh, &w.b_ih, &w.b_hh, &h0[d], &c0[d]});
    FM_CHECK(w.w_ih.is_contiguous() && w.w_ih.sizes() == (Shape{GH, x.size(2)}) && w.w_hh.is_contiguous() &&
                 w.w_hh.sizes() == (Shape{GH, H}),
             op, ": weights ", w.w_ih.describe(), " and ", w.w_hh.describe(), " do not fit x ", x.describe());
    FM_CHECK(w.w_ih.dtype() == x.dtype() && w.w_hh.dtype() == x.dtype() && is_floating(x.dtype()), op,
             ": dtypes differ or are not floating: x ", x.describe(), ", weights ", w.w_ih.describe());
    FM_CHECK(w.b_ih.defined() == w.b_hh.defined(), op, ": b_ih and b_hh must both be given or both be absent");
    for (const Tensor* b : {&w.b_ih, &w.b_hh})
      if (b->defined())
        FM_CHECK(b->is_contiguous() && b->sizes() == (Shape{GH}) && b->dtype() == x.dtype(), op, ": bias ",
                 b->describe(), " must be a contiguous ", x.dtype(), "[", GH, "]");
    for (const Tensor* s : {&h0[d], &c0[d]})
      if (s->defined())
        FM_CHECK(s->is_contiguous() && s->sizes() == (Shape{N, H}) && s->dtype() == x.dtype(), op, ": state ",
                 s->describe(), " must be a contiguous ", x.dtype(), "[", N, ", ", H, "]");
  }
  FM_CHECK(y.dim() == 3 && y.is_contiguous() && y.size(0) == T && y.size(1) == N &&
               y.size(2) == static_cast<int64_t>(D) * H && y.dtype() == x.dtype(),
           op, ": output ", y.describe(), " must be a contiguous [", T, ", ", N, ", ", D * H, "]");
}

// rnn_backward's arguments beyond rnn_forward's (checked first with rnn_check_args).
template <class OnDevice>
void rnn_check_backward_args(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w, const Tensor& y,
                             const std::vector<RnnSaved>& saved, const Tensor& dy, const std::vector<Tensor>& dh_n,
                             const std::vector<Tensor>& dc_n, const Tensor& dx, const std::vector<bool>& need_weights,
                             OnDevice&& on_device) {
  const size_t D = w.size();
  FM_CHECK(saved.size() == D && dh_n.size() == D && dc_n.size() == D && need_weights.size() == D,
           "rnn_backward: expected one saved state, dh_n, dc_n and need_weights per direction");
  on_device(std::initializer_list<const Tensor*>{&x, &dy, &dx});
  FM_CHECK(dy.sizes() == y.sizes() && dy.is_contiguous() && dy.dtype() == y.dtype(), "rnn_backward: dy ",
           dy.describe(), " must be contiguous like y ", y.describe());
  if (dx.defined())
    FM_CHECK(dx.sizes() == x.sizes() && dx.is_contiguous() && dx.dtype() == x.dtype(), "rnn_backward: dx ",
             dx.describe(), " must be contiguous like x ", x.describe());
  const Shape nh{x.size(1), w[0].w_hh.size(1)};
  for (size_t d = 0; d < D; ++d) {
    const RnnSaved& sv = saved[d];
    on_device(std::initializer_list<const Tensor*>{&dh_n[d], &dc_n[d], &sv.gates, &sv.cells, &sv.hn});
    const int64_t T = x.size(0), N = x.size(1), H = w[0].w_hh.size(1);
    const Tensor& state = mode == RnnMode::LSTM ? sv.cells : sv.hn;
    FM_CHECK(sv.gates.defined() && sv.gates.is_contiguous() && sv.gates.sizes() == (Shape{T, N, rnn_gates(mode) * H}) &&
                 sv.gates.dtype() == x.dtype() && state.defined() && state.is_contiguous() &&
                 state.sizes() == (Shape{T, N, H}) && state.dtype() == x.dtype(),
             "rnn_backward: the saved tensors of direction ", d, " do not come from rnn_forward of x ", x.describe());
    for (const Tensor* g : {&dh_n[d], &dc_n[d]})
      if (g->defined())
        FM_CHECK(g->sizes() == nh && g->dtype() == x.dtype(), "rnn_backward: state gradient ", g->describe(),
                 " must be ", x.dtype(), shape_str(nh));
  }
}

}  // namespace fm::kernels
