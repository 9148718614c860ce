#include "layers/transformer.h"

#include "autograd/elementwise.h"

namespace fm::nn {

TransformerEncoderLayer::TransformerEncoderLayer(int64_t d, int64_t h, TransformerEncoderLayerOptions o)
    : d_model(d), nhead(h), norm_first(o.norm_first), activation_name(o.activation) {
  FM_CHECK(o.dim_feedforward > 0, "TransformerEncoderLayer: dim_feedforward must be positive, got ", o.dim_feedforward);
  if (o.activation_fn) {
    activation_ = o.activation_fn;
    activation_name = "custom";
  } else if (o.activation == "relu") {
    activation_ = [](const Tensor& x) { return relu(x); };
  } else if (o.activation == "gelu") {
    activation_ = [](const Tensor& x) { return gelu(x); };
  } else {
    FM_CHECK(false, "TransformerEncoderLayer: activation should be relu or gelu, not '", o.activation, "'");
  }
  // registration order = PyTorch's attribute order (and so named_parameters' order)
  self_attn = register_module("self_attn", std::make_shared<MultiheadAttention>(
                                               d, h, MultiheadAttentionOptions{.dropout = o.dropout,
                                                                               .batch_first = o.batch_first,
                                                                               .dtype = o.dtype}));
  linear1 = register_module("linear1", std::make_shared<Linear>(d, o.dim_feedforward, LinearOptions{.dtype = o.dtype}));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  linear2 = register_module("linear2", std::make_shared<Linear>(o.dim_feedforward, d, LinearOptions{.dtype = o.dtype}));
  const LayerNormOptions ln{.eps = o.layer_norm_eps, .dtype = o.dtype};
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(d, ln));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(d, ln));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerEncoderLayer::sa_block(const Tensor& x, const Tensor& mask, const Tensor& kpm) {
  return (*dropout1)(
      (*self_attn)(x, x, x, {.key_padding_mask = kpm, .need_weights = false, .attn_mask = mask}).output);
}

Tensor TransformerEncoderLayer::ff_block(const Tensor& x) {
  return (*dropout2)((*linear2)((*dropout)(activation_((*linear1)(x)))));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& mask, const Tensor& kpm) {
  FM_CHECK(src.dim() >= 1 && src.size(-1) == d_model, "TransformerEncoderLayer: src ", src.describe(),
           " must have d_model = ", d_model, " features");
  Tensor x = src;
  if (norm_first) {
    x = add(x, sa_block((*norm1)(x), mask, kpm));
    x = add(x, ff_block((*norm2)(x)));
  } else {
    x = (*norm1)(add(x, sa_block(x, mask, kpm)));
    x = (*norm2)(add(x, ff_block(x)));
  }
  return x;
}

Tensor TransformerEncoderLayer::operator()(const Tensor& src, const Tensor& mask, const Tensor& kpm) {
  return run_forward_hooks(forward(src, mask, kpm));
}

TransformerEncoder::TransformerEncoder(const LayerFactory& make_layer, int64_t n, std::shared_ptr<LayerNorm> norm_) {
  FM_CHECK(n >= 0, "TransformerEncoder: num_layers must be non-negative, got ", n);
  FM_CHECK(static_cast<bool>(make_layer), "TransformerEncoder: no layer factory");
  layers = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < n; ++i) {
    auto l = make_layer();
    FM_CHECK(l != nullptr, "TransformerEncoder: the layer factory returned null");
    layers->push_back(l);
  }
  if (norm_) norm = register_module("norm", norm_);
}

TransformerEncoder::TransformerEncoder(int64_t d_model, int64_t nhead, int64_t n, TransformerEncoderLayerOptions o,
                                       std::shared_ptr<LayerNorm> norm_)
    : TransformerEncoder([&] { return std::make_shared<TransformerEncoderLayer>(d_model, nhead, o); }, n,
                         std::move(norm_)) {}

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask, const Tensor& kpm) {
  Tensor x = src;
  for (size_t i = 0; i < layers->size(); ++i) x = layer(i)(x, mask, kpm);
  if (norm) x = (*norm)(x);
  return x;
}

Tensor TransformerEncoder::operator()(const Tensor& src, const Tensor& mask, const Tensor& kpm) {
  return run_forward_hooks(forward(src, mask, kpm));
}

}  // namespace fm::nn
