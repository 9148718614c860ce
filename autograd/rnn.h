#pragma once
// One layer of an LSTM or GRU (one or two directions) as a single differentiable op: the fused
// kernels of kernels/rnn.h forward, and a hand-written backward through time. nn::LSTM and
// nn::GRU (layers/rnn.h) stack these.
//
// Double backward is not supported: the backward is made of raw kernels, so a backward with
// create_graph=true through this op throws (rather than giving silently wrong second
// derivatives). First derivatives are checked by gradcheck (tests/layers/rnn_gradcheck_test.cpp).
#include <vector>

#include "kernels/rnn.h"
#include "tensor/tensor.h"

namespace fm {

struct RnnLayerResult {
  Tensor output;             // [T, N, D*H]: the forward direction in columns [0, H), the reverse in [H, 2H)
  std::vector<Tensor> h_n;   // per direction [N, H]
  std::vector<Tensor> c_n;   // per direction [N, H] (LSTM only)
};

// x: [T, N, in] (any layout). weights: one kernels::RnnWeights per direction (1 or 2; biases
// may be undefined). h0, c0: one per direction, each [N, H] or undefined (zeros); empty vectors
// mean zeros everywhere. c0 is ignored for GRU. Gradients reach x, h0, c0 and every weight.
RnnLayerResult rnn_layer(kernels::RnnMode mode, const Tensor& x, const std::vector<kernels::RnnWeights>& weights,
                         const std::vector<Tensor>& h0 = {}, const std::vector<Tensor>& c0 = {});

}  // namespace fm
