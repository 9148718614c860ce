#pragma once
// TransformerEncoderLayer and TransformerEncoder, as torch.nn's (1.13), with PyTorch's
// submodule names, so state_dict keys match: self_attn.in_proj_weight, self_attn.out_proj.*,
// linear1.*, linear2.*, norm1.*, norm2.* (dropout, dropout1, dropout2 hold no parameters),
// and in TransformerEncoder layers.<i>.<...> and norm.* (with a final norm).
//
//   post-norm (norm_first = false, the default):
//     x = norm1(x + dropout1(self_attn(x, x, x, src_mask, src_key_padding_mask)))
//     x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))
//   pre-norm (norm_first = true):
//     x = x + dropout1(self_attn(norm1(x), ...));  x = x + dropout2(linear2(dropout(activation(linear1(norm2(x))))))
//
// Shapes: src [L, N, E] ([N, L, E] with batch_first, [L, E] unbatched); src_mask [L, L] or
// [N*nhead, L, L], src_key_padding_mask [N, L]; both bool (true = masked) or floating
// (added), as MultiheadAttention takes them.
#include <functional>
#include <memory>
#include <string>

#include "layers/attention.h"
#include "layers/basic.h"
#include "layers/module.h"
#include "layers/norm.h"

namespace fm::nn {

struct TransformerEncoderLayerOptions {
  int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  std::string activation = "relu";  // "relu" or "gelu"
  // A custom activation; when set it replaces `activation`.
  std::function<Tensor(const Tensor&)> activation_fn = nullptr;
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;
  DType dtype = DType::Float32;
};

class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer(int64_t d_model, int64_t nhead, TransformerEncoderLayerOptions o = {});
  Tensor forward(const Tensor& src, const Tensor& src_mask = Tensor(),
                 const Tensor& src_key_padding_mask = Tensor());
  // forward, then the forward hooks
  Tensor operator()(const Tensor& src, const Tensor& src_mask = Tensor(),
                    const Tensor& src_key_padding_mask = Tensor());
  std::string type_name() const override { return "TransformerEncoderLayer"; }

  int64_t d_model, nhead;
  bool norm_first;
  std::string activation_name;
  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2;
  std::shared_ptr<LayerNorm> norm1, norm2;

 private:
  Tensor sa_block(const Tensor& x, const Tensor& mask, const Tensor& kpm);
  Tensor ff_block(const Tensor& x);
  std::function<Tensor(const Tensor&)> activation_;
};

// A stack of encoder layers under "layers.0", "layers.1", ..., and an optional final norm.
// Unlike PyTorch, which deep-copies one layer (so all its layers start with the same
// weights), each layer here is made by the factory and initialised independently; load a
// state_dict to reproduce PyTorch's weights exactly.
class TransformerEncoder : public Module {
 public:
  using LayerFactory = std::function<std::shared_ptr<TransformerEncoderLayer>()>;
  TransformerEncoder(const LayerFactory& make_layer, int64_t num_layers, std::shared_ptr<LayerNorm> norm = nullptr);
  // num_layers layers TransformerEncoderLayer(d_model, nhead, o).
  TransformerEncoder(int64_t d_model, int64_t nhead, int64_t num_layers, TransformerEncoderLayerOptions o = {},
                     std::shared_ptr<LayerNorm> norm = nullptr);
  Tensor forward(const Tensor& src, const Tensor& mask = Tensor(), const Tensor& src_key_padding_mask = Tensor());
  Tensor operator()(const Tensor& src, const Tensor& mask = Tensor(), const Tensor& src_key_padding_mask = Tensor());
  std::string type_name() const override { return "TransformerEncoder"; }
  size_t num_layers() const { return layers->size(); }
  TransformerEncoderLayer& layer(size_t i) const { return layers->at<TransformerEncoderLayer>(i); }

  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<LayerNorm> norm;  // or null
};

}  // namespace fm::nn
