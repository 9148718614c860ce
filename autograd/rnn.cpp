// A whole LSTM/GRU layer (both directions) as one autograd node; see autograd/rnn.h.
#include "autograd/rnn.h"

#include "autograd/node.h"
#include "tensor/factory.h"

namespace fm {

using autograd::record;
using autograd::save;
using autograd::save_output;
using autograd::SavedTensor;
using autograd::tensor_list;
using kernels::RnnMode;
using kernels::RnnWeights;

namespace {

Tensor plain(const Tensor& t) { return t.defined() ? contiguous_raw(t).detach() : Tensor(); }

struct SavedWeights {
  SavedTensor w_ih, w_hh, b_ih, b_hh;
  RnnWeights unpack() const { return {w_ih.unpack(), w_hh.unpack(), b_ih.unpack(), b_hh.unpack()}; }
};

}  // namespace

RnnLayerResult rnn_layer(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& weights,
                         const std::vector<Tensor>& h0_in, const std::vector<Tensor>& c0_in) {
  const bool lstm = mode == RnnMode::LSTM;
  const char* name = lstm ? "LSTM" : "GRU";
  const size_t D = weights.size();
  FM_CHECK(D == 1 || D == 2, name, ": expected the weights of 1 or 2 directions, got ", D);
  FM_CHECK(x.dim() == 3, name, ": a layer's input must be [T, N, features], got ", x.describe());
  FM_CHECK(x.size(0) > 0, name, ": the sequence is empty (input ", x.describe(), ")");
  FM_CHECK(h0_in.empty() || h0_in.size() == D, name, ": got ", h0_in.size(), " initial h for ", D, " directions");
  FM_CHECK(c0_in.empty() || c0_in.size() == D, name, ": got ", c0_in.size(), " initial c for ", D, " directions");
  const int64_t T = x.size(0), N = x.size(1), I = x.size(2);
  const int64_t H = weights[0].w_hh.defined() && weights[0].w_hh.dim() == 2 ? weights[0].w_hh.size(1) : -1;
  FM_CHECK(H >= 0, name, ": weight_hh must be 2-D [G*H, H]");

  const Tensor xc = plain(x);
  std::vector<RnnWeights> wc(D);
  std::vector<Tensor> h0(D), c0(D);
  for (size_t d = 0; d < D; ++d) {
    wc[d] = {plain(weights[d].w_ih), plain(weights[d].w_hh), plain(weights[d].b_ih), plain(weights[d].b_hh)};
    if (!h0_in.empty()) h0[d] = plain(h0_in[d]);
    if (lstm && !c0_in.empty()) c0[d] = plain(c0_in[d]);
  }

  RnnLayerResult res;
  res.output = empty({T, N, static_cast<int64_t>(D) * H}, {.dtype = x.dtype(), .device = x.device()});
  auto fwd = kernels::rnn_forward(mode, xc, wc, h0, c0, res.output);
  std::vector<kernels::RnnSaved> saved(D);
  for (size_t d = 0; d < D; ++d) {
    res.h_n.push_back(fwd[d].h_n);
    if (lstm) res.c_n.push_back(fwd[d].c_n);
    saved[d] = std::move(fwd[d].saved);
  }

  // inputs: x, h0 per direction, c0 per direction (LSTM), then w_ih, w_hh, b_ih, b_hh per direction
  tensor_list inputs{x};
  for (size_t d = 0; d < D; ++d) inputs.push_back(h0_in.empty() ? Tensor() : h0_in[d]);
  if (lstm)
    for (size_t d = 0; d < D; ++d) inputs.push_back(c0_in.empty() ? Tensor() : c0_in[d]);
  for (const RnnWeights& w : weights) inputs.insert(inputs.end(), {w.w_ih, w.w_hh, w.b_ih, w.b_hh});
  if (!autograd::grad_enabled() || !autograd::any_requires_grad(inputs)) return res;

  tensor_list outputs{res.output};
  outputs.insert(outputs.end(), res.h_n.begin(), res.h_n.end());
  outputs.insert(outputs.end(), res.c_n.begin(), res.c_n.end());

  std::vector<bool> needs;
  for (const Tensor& t : inputs) needs.push_back(t.defined() && t.requires_grad());
  std::vector<SavedWeights> sw(D);
  std::vector<SavedTensor> sh0(D), sc0(D);
  for (size_t d = 0; d < D; ++d) {
    sw[d] = {save(wc[d].w_ih), save(wc[d].w_hh), save(wc[d].b_ih), save(wc[d].b_hh)};
    sh0[d] = save(h0[d]);
    sc0[d] = save(c0[d]);
  }
  record(lstm ? "LSTMBackward" : "GRUBackward", inputs, outputs,
         [mode, lstm, name, D, T, N, I, H, needs, sx = save(xc), sy = save_output(res.output, 0), sw, sh0, sc0,
          saved = std::move(saved)](const tensor_list& g) {
           FM_CHECK(!autograd::grad_enabled(), name,
                    ": double backward (create_graph=true) through the fused ", name,
                    " layer is not supported: its backward is made of raw kernels, so second derivatives "
                    "would be silently wrong");
           const Tensor xv = sx.unpack(), yv = sy.unpack().detach();
           const Tensor dy = contiguous_raw(g[0].detach());
           const size_t first_w = 1 + D * (lstm ? 2 : 1);
           const bool need_x = needs[0];
           Tensor dx = need_x ? empty({T, N, I}, {.dtype = xv.dtype(), .device = xv.device()}) : Tensor();
           std::vector<RnnWeights> w(D);
           std::vector<Tensor> h0(D), c0(D), dh_n(D), dc_n(D);
           std::vector<bool> need_w(D, false);
           for (size_t d = 0; d < D; ++d) {
             w[d] = sw[d].unpack();
             h0[d] = sh0[d].unpack();
             c0[d] = sc0[d].unpack();
             dh_n[d] = g[1 + d].detach();
             if (lstm) dc_n[d] = g[1 + D + d].detach();
             for (size_t k = 0; k < 4; ++k) need_w[d] = need_w[d] || needs[first_w + 4 * d + k];
           }
           auto r = kernels::rnn_backward(mode, xv, w, h0, c0, yv, saved, dy, dh_n, dc_n, dx, need_w);
           tensor_list out(needs.size());
           for (size_t d = 0; d < D; ++d) {
             if (needs[1 + d]) out[1 + d] = r[d].dh0;
             if (lstm && needs[1 + D + d]) out[1 + D + d] = r[d].dc0;
             const Tensor wg[4] = {r[d].dw_ih, r[d].dw_hh, r[d].db_ih, r[d].db_hh};
             for (size_t k = 0; k < 4; ++k)
               if (needs[first_w + 4 * d + k]) out[first_w + 4 * d + k] = wg[k];
           }
           out[0] = dx;
           return out;
         });
  return res;
}

}  // namespace fm
