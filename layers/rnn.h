#pragma once
// nn::LSTM and nn::GRU with PyTorch's options, parameter names, gate order, initialisation and
// shapes:
//   LSTM gates i, f, g, o:  c' = f*c + i*g,  h' = o*tanh(c')
//   GRU gates r, z, n:      n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),  h' = (1-z)*n + z*h
// Parameters weight_ih_l{k}[_reverse] [G*H, in], weight_hh_l{k}[_reverse] [G*H, H],
// bias_ih_l{k}[_reverse], bias_hh_l{k}[_reverse] [G*H], all U(-1/sqrt(H), 1/sqrt(H)), so a
// PyTorch state_dict loads unchanged.
//
// forward(input, state): input [T, N, in] ([N, T, in] with batch_first, or unbatched [T, in]);
// state: h0 (and c0) [num_layers*D, N, H] ([num_layers*D, H] unbatched), undefined = zeros.
// Returns output [T, N, D*H] ([N, T, D*H] with batch_first) and h_n (and c_n) shaped like the
// state. Dropout (if > 0) is applied to the output of every layer but the last, in training only.
//
// Streaming: calling forward on consecutive chunks of a sequence, passing each call's final
// state to the next, gives exactly the whole-sequence result (unidirectional layers).
//
// Each layer runs as one fused autograd node (autograd/rnn.h): one GEMM for the input
// projections of all steps, one GEMM and one fused gate kernel per step. Double backward
// (create_graph=true) through it is not supported and throws.
#include <string>
#include <vector>

#include "kernels/rnn.h"
#include "layers/module.h"

namespace fm::nn {

struct RNNOptions {
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;
  double dropout = 0;  // between layers, training only
  bool bidirectional = false;
  DType dtype = DType::Float32;
};

// What LSTM and GRU share: the parameters of every layer and direction and the layer loop.
class RNNBase : public Module {
 public:
  std::string extra_repr() const override;
  void reset_parameters();
  // The parameters of layer `layer`, direction `dir` (0 forward, 1 reverse).
  kernels::RnnWeights weights(int64_t layer, int64_t dir) const;

  int64_t input_size, hidden_size, num_layers;
  bool bias, batch_first;
  double dropout;
  bool bidirectional;
  int64_t num_directions() const { return bidirectional ? 2 : 1; }

 protected:
  RNNBase(kernels::RnnMode mode, int64_t input_size, int64_t hidden_size, RNNOptions o);
  struct Result {
    Tensor output, h_n, c_n;
  };
  Result run(const Tensor& input, const Tensor& h0, const Tensor& c0);

 private:
  kernels::RnnMode mode_;
  std::vector<Tensor> flat_;  // per layer, per direction: w_ih, w_hh, b_ih, b_hh (undefined without bias)
};

struct LSTMState {
  Tensor h, c;  // [num_layers*D, N, H]; undefined: zeros
};

struct LSTMOutput {
  Tensor output;  // [T, N, D*H] (batch_first: [N, T, D*H])
  Tensor h_n, c_n;
  LSTMState state() const { return {h_n, c_n}; }
};

class LSTM : public RNNBase {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, RNNOptions o = {});
  LSTMOutput forward(const Tensor& input, const LSTMState& state = {});
  // forward, then the forward hooks (which see the output sequence)
  LSTMOutput operator()(const Tensor& input, const LSTMState& state = {});
  std::string type_name() const override { return "LSTM"; }
};

struct GRUOutput {
  Tensor output;  // [T, N, D*H] (batch_first: [N, T, D*H])
  Tensor h_n;
};

class GRU : public RNNBase {
 public:
  GRU(int64_t input_size, int64_t hidden_size, RNNOptions o = {});
  GRUOutput forward(const Tensor& input, const Tensor& h0 = {});
  GRUOutput operator()(const Tensor& input, const Tensor& h0 = {});
  std::string type_name() const override { return "GRU"; }
};

}  // namespace fm::nn
