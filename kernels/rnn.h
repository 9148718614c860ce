#pragma once
// Fused recurrent layers (LSTM and GRU, PyTorch's formulas and gate order) on raw tensors, no
// autograd: autograd/rnn.cpp records a whole layer as one node with these as its forward and
// backward through time.
//
// Forward, for one direction of one layer over the whole sequence:
//   * the input projections of all time steps in ONE GEMM: A = X[T*N, in] @ W_ih^T (+ biases);
//   * per step, one GEMM h_{t-1} @ W_hh^T accumulated into A[t] (LSTM) or into a [N, G*H]
//     buffer (GRU, whose n gate needs W_hn h + b_hn apart), then one fused gate kernel over
//     [N, G*H] (sigmoid/tanh, cell update, new h written straight into the output).
// Backward: per step (in reverse processing order) a fused kernel gives the gate gradients
// and one GEMM carries dh to the previous step; the weight gradients are then large GEMMs over
// all steps at once (dW_ih = dG^T X, dW_hh = dG^T H_prev), as is the input gradient dX = dG W_ih.
// CUDA tensors run kernels/cuda/rnn.cpp: the same structure with cuBLAS GEMMs and fused step
// kernels (v1), and for the float32 forward a persistent kernel with W_hh resident in shared
// memory for the whole sequence (v2; see kernels/cuda/rnn_plan.h).
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace fm::kernels {

enum class RnnMode { LSTM, GRU };

// Gates per hidden unit: LSTM 4 (i, f, g, o), GRU 3 (r, z, n).
constexpr int64_t rnn_gates(RnnMode m) { return m == RnnMode::LSTM ? 4 : 3; }

// The parameters of one direction: w_ih [G*H, in], w_hh [G*H, H], b_ih and b_hh [G*H] or
// undefined (bias=false). All of the input's dtype, contiguous.
struct RnnWeights {
  Tensor w_ih, w_hh, b_ih, b_hh;
};

// What the forward of one direction keeps for its backward (indexed by time, not by step).
struct RnnSaved {
  Tensor gates;  // [T, N, G*H]: activated gates (LSTM i, f, g, o; GRU r, z, n)
  Tensor cells;  // LSTM: [T, N, H] cell states c_t
  Tensor hn;     // GRU: [T, N, H] W_hn h_{t-1} + b_hn
};

struct RnnDirResult {
  Tensor h_n, c_n;  // [N, H] final states (c_n undefined for GRU)
  RnnSaved saved;
};

// One layer, all its directions (1 or 2: w, h0 and c0 hold one entry per direction; the second
// direction runs from t = T-1 down to 0). x: [T, N, in] contiguous; h0, c0 entries: [N, H]
// contiguous, or undefined for zeros (c0 is ignored by GRU). y: [T, N, D*H] contiguous, where
// direction d writes its hidden states into columns [d*H, (d+1)*H).
// Threads: the two directions of a small-batch bidirectional layer run at once on two threads;
// the gate kernels split batch rows over threads when a step is large (see kernels/cpu/rnn.cpp).
std::vector<RnnDirResult> rnn_forward(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w,
                                      const std::vector<Tensor>& h0, const std::vector<Tensor>& c0, const Tensor& y);

struct RnnDirGrads {
  Tensor dh0, dc0, dw_ih, dw_hh, db_ih, db_hh;
};

// Backward through time of a layer, per direction. dy: [T, N, D*H] contiguous; dh_n, dc_n: one
// per direction, [N, H] or undefined (zero). dx: [T, N, in] contiguous, overwritten with the input
// gradient, or undefined to skip it. need_weights[d]: compute direction d's dw_ih, dw_hh (and
// db_* when the layer has biases).
std::vector<RnnDirGrads> rnn_backward(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w,
                                      const std::vector<Tensor>& h0, const std::vector<Tensor>& c0, const Tensor& y,
                                      const std::vector<RnnSaved>& saved, const Tensor& dy,
                                      const std::vector<Tensor>& dh_n, const std::vector<Tensor>& dc_n,
                                      const Tensor& dx, const std::vector<bool>& need_weights);

}  // namespace fm::kernels
