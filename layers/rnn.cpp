#include "layers/rnn.h"

#include <cmath>
#include <sstream>

#include "autograd/dropout.h"
#include "autograd/rnn.h"
#include "autograd/shape.h"
#include "autograd/views.h"
#include "layers/init.h"
#include "tensor/factory.h"

namespace fm::nn {

using kernels::RnnMode;
using kernels::RnnWeights;

RNNBase::RNNBase(RnnMode mode, int64_t in, int64_t hid, RNNOptions o)
    : input_size(in),
      hidden_size(hid),
      num_layers(o.num_layers),
      bias(o.bias),
      batch_first(o.batch_first),
      dropout(o.dropout),
      bidirectional(o.bidirectional),
      mode_(mode) {
  const char* name = mode == RnnMode::LSTM ? "LSTM" : "GRU";
  FM_CHECK(in > 0 && hid > 0, name, ": input_size and hidden_size must be positive, got ", in, " and ", hid);
  FM_CHECK(num_layers >= 1, name, ": num_layers must be at least 1, got ", num_layers);
  FM_CHECK(dropout >= 0 && dropout <= 1, name, ": dropout must be in [0, 1], got ", dropout);
  FM_CHECK(is_floating(o.dtype), name, ": parameters must be float32 or float64, got ", o.dtype);
  const int64_t GH = kernels::rnn_gates(mode) * hid, D = num_directions();
  for (int64_t l = 0; l < num_layers; ++l) {
    for (int64_t d = 0; d < D; ++d) {
      const std::string sfx = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      const int64_t layer_in = l == 0 ? in : hid * D;
      flat_.push_back(register_parameter("weight_ih" + sfx, empty({GH, layer_in}, {.dtype = o.dtype})));
      flat_.push_back(register_parameter("weight_hh" + sfx, empty({GH, hid}, {.dtype = o.dtype})));
      if (bias) {
        flat_.push_back(register_parameter("bias_ih" + sfx, empty({GH}, {.dtype = o.dtype})));
        flat_.push_back(register_parameter("bias_hh" + sfx, empty({GH}, {.dtype = o.dtype})));
      } else {
        flat_.insert(flat_.end(), {Tensor(), Tensor()});
      }
    }
  }
  reset_parameters();
}

void RNNBase::reset_parameters() {
  const double k = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  for (Tensor& t : flat_)
    if (t.defined()) init::uniform_(t, -k, k);
}

RnnWeights RNNBase::weights(int64_t layer, int64_t dir) const {
  FM_CHECK(layer >= 0 && layer < num_layers && dir >= 0 && dir < num_directions(), type_name(), ": no layer ",
           layer, " direction ", dir, " (num_layers=", num_layers, ", bidirectional=", bidirectional, ")");
  const size_t base = static_cast<size_t>(4 * (layer * num_directions() + dir));
  return {flat_[base], flat_[base + 1], flat_[base + 2], flat_[base + 3]};
}

std::string RNNBase::extra_repr() const {
  std::ostringstream os;
  os << input_size << ", " << hidden_size;
  if (num_layers != 1) os << ", num_layers=" << num_layers;
  if (!bias) os << ", bias=False";
  if (batch_first) os << ", batch_first=True";
  if (dropout != 0) os << ", dropout=" << dropout;
  if (bidirectional) os << ", bidirectional=True";
  return os.str();
}

RNNBase::Result RNNBase::run(const Tensor& input, const Tensor& h0_in, const Tensor& c0_in) {
  const std::string nm = type_name();
  const bool lstm = mode_ == RnnMode::LSTM;
  FM_CHECK(input.defined(), nm, ": input is undefined");
  FM_CHECK(input.dim() == 2 || input.dim() == 3, nm, ": expected a 3-D input ",
           batch_first ? "[batch, seq, input_size]" : "[seq, batch, input_size]",
           " or an unbatched 2-D [seq, input_size], got ", input.describe());
  FM_CHECK(input.size(-1) == input_size, nm, ": input ", input.describe(), " has ", input.size(-1),
           " features in its last dimension, but input_size is ", input_size);
  const DType pdt = flat_[0].dtype();
  FM_CHECK(input.dtype() == pdt, nm, ": input ", input.describe(), " does not match the parameters' dtype ", pdt,
           " (convert the input, or the module with .to(dtype))");
  const Device pdev = flat_[0].device();
  FM_CHECK(input.device() == pdev, nm, ": input ", input.describe(), " is not on the parameters' device ", pdev,
           " (move the input, or the module with .to(device))");
  const bool unbatched = input.dim() == 2;
  const Tensor x = unbatched ? unsqueeze(input, 1) : batch_first ? transpose(input, 0, 1) : input;
  FM_CHECK(x.size(0) > 0, nm, ": the input sequence is empty (", input.describe(), ")");
  const int64_t N = x.size(1), D = num_directions(), LD = num_layers * D, H = hidden_size;
  const Shape want = unbatched ? Shape{LD, H} : Shape{LD, N, H};
  auto state = [&](const Tensor& s, const char* what) -> Tensor {
    if (!s.defined()) return s;
    FM_CHECK(s.sizes() == want, nm, ": initial state ", what, " ", s.describe(), " should have shape ",
             shape_str(want), " = [num_layers * num_directions", unbatched ? "" : ", batch",
             ", hidden_size] for input ", input.describe());
    FM_CHECK(s.dtype() == pdt, nm, ": initial state ", what, " ", s.describe(), " does not match the parameters' dtype ",
             pdt);
    FM_CHECK(s.device() == pdev, nm, ": initial state ", what, " ", s.describe(), " is not on the parameters' device ",
             pdev);
    return unbatched ? unsqueeze(s, 1) : s;
  };
  const Tensor h0 = state(h0_in, "h0");
  const Tensor c0 = lstm ? state(c0_in, "c0") : Tensor();

  std::vector<Tensor> hs, cs;
  Tensor layer_in = x;
  for (int64_t l = 0; l < num_layers; ++l) {
    std::vector<RnnWeights> w;
    std::vector<Tensor> h0l, c0l;
    for (int64_t d = 0; d < D; ++d) {
      w.push_back(weights(l, d));
      if (h0.defined()) h0l.push_back(select(h0, 0, l * D + d));
      if (c0.defined()) c0l.push_back(select(c0, 0, l * D + d));
    }
    RnnLayerResult r = rnn_layer(mode_, layer_in, w, h0l, c0l);
    hs.insert(hs.end(), r.h_n.begin(), r.h_n.end());
    cs.insert(cs.end(), r.c_n.begin(), r.c_n.end());
    layer_in = r.output;
    if (dropout > 0 && is_training() && l + 1 < num_layers) layer_in = fm::dropout(layer_in, dropout, true);
  }
  Result res{layer_in, stack(hs, 0), lstm ? stack(cs, 0) : Tensor()};
  if (unbatched) {
    res.output = squeeze(res.output, 1);
    res.h_n = squeeze(res.h_n, 1);
    if (lstm) res.c_n = squeeze(res.c_n, 1);
  } else if (batch_first) {
    res.output = contiguous(transpose(res.output, 0, 1));
  }
  return res;
}

LSTM::LSTM(int64_t input_size, int64_t hidden_size, RNNOptions o)
    : RNNBase(RnnMode::LSTM, input_size, hidden_size, o) {}

LSTMOutput LSTM::forward(const Tensor& input, const LSTMState& state) {
  FM_CHECK(state.h.defined() == state.c.defined(), "LSTM: give both h0 and c0 or neither (got ",
           state.h.defined() ? "h0 only" : "c0 only", ")");
  Result r = run(input, state.h, state.c);
  return {r.output, r.h_n, r.c_n};
}

LSTMOutput LSTM::operator()(const Tensor& input, const LSTMState& state) {
  LSTMOutput o = forward(input, state);
  o.output = run_forward_hooks(o.output);
  return o;
}

GRU::GRU(int64_t input_size, int64_t hidden_size, RNNOptions o) : RNNBase(RnnMode::GRU, input_size, hidden_size, o) {}

GRUOutput GRU::forward(const Tensor& input, const Tensor& h0) {
  Result r = run(input, h0, Tensor());
  return {r.output, r.h_n};
}

GRUOutput GRU::operator()(const Tensor& input, const Tensor& h0) {
  GRUOutput o = forward(input, h0);
  o.output = run_forward_hooks(o.output);
  return o;
}

}  // namespace fm::nn
