#include "layers/basic.h"

#include <sstream>

#include "autograd/dropout.h"
#include "autograd/elementwise.h"
#include "autograd/index.h"
#include "autograd/linalg.h"
#include "autograd/softmax.h"
#include "autograd/views.h"
#include "layers/init.h"
#include "tensor/factory.h"

namespace fm::nn {

Linear::Linear(int64_t in, int64_t out, LinearOptions o) : in_features(in), out_features(out) {
  FM_CHECK(in >= 0 && out >= 0, "Linear: feature counts must be non-negative, got ", in, " and ", out);
  weight = register_parameter("weight", empty({out, in}, {.dtype = o.dtype}));
  bias = register_parameter("bias", o.bias ? empty({out}, {.dtype = o.dtype}) : Tensor());
  reset_parameters();
}

void Linear::reset_parameters() {
  init::default_weight_init(weight);
  if (bias.defined()) init::default_bias_init(bias, weight);
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

std::string Linear::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_features << ", out_features=" << out_features
     << ", bias=" << (bias.defined() ? "True" : "False");
  return os.str();
}

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_dim, end_dim); }

Dropout::Dropout(double p) : p(p) {
  FM_CHECK(p >= 0 && p <= 1, "Dropout: p must be in [0, 1], got ", p);
}
Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, is_training()); }
std::string Dropout::extra_repr() const { return "p=" + std::to_string(p); }

Embedding::Embedding(int64_t num, int64_t dim, EmbeddingOptions o)
    : num_embeddings(num), embedding_dim(dim), padding_idx(o.padding_idx) {
  if (padding_idx < -1) padding_idx += num;  // PyTorch accepts negative indices
  FM_CHECK(padding_idx >= -1 && padding_idx < num, "Embedding: padding_idx ", o.padding_idx,
           " is out of range for ", num, " embeddings");
  weight = register_parameter("weight", empty({num, dim}));
  init::normal_(weight);
  if (padding_idx >= 0) {
    Tensor row = select(weight.detach(), 0, padding_idx);
    init::zeros_(row);
  }
}

Tensor Embedding::forward(const Tensor& indices) { return embedding(weight, indices, padding_idx); }

std::string Embedding::extra_repr() const {
  return std::to_string(num_embeddings) + ", " + std::to_string(embedding_dim) +
         (padding_idx >= 0 ? ", padding_idx=" + std::to_string(padding_idx) : "");
}

std::shared_ptr<Activation> ReLU() { return std::make_shared<Activation>("ReLU", [](const Tensor& x) { return relu(x); }); }
std::shared_ptr<Activation> LeakyReLU(double s) {
  return std::make_shared<Activation>("LeakyReLU", [s](const Tensor& x) { return leaky_relu(x, s); },
                                      "negative_slope=" + std::to_string(s));
}
std::shared_ptr<Activation> ELU(double a) {
  return std::make_shared<Activation>("ELU", [a](const Tensor& x) { return elu(x, a); }, "alpha=" + std::to_string(a));
}
std::shared_ptr<Activation> GELU(const std::string& approx) {
  return std::make_shared<Activation>("GELU", [approx](const Tensor& x) { return gelu(x, approx); },
                                      "approximate='" + approx + "'");
}
std::shared_ptr<Activation> SiLU() { return std::make_shared<Activation>("SiLU", [](const Tensor& x) { return silu(x); }); }
std::shared_ptr<Activation> Tanh() { return std::make_shared<Activation>("Tanh", [](const Tensor& x) { return tanh(x); }); }
std::shared_ptr<Activation> Sigmoid() {
  return std::make_shared<Activation>("Sigmoid", [](const Tensor& x) { return sigmoid(x); });
}
std::shared_ptr<Activation> Softplus(double b, double t) {
  return std::make_shared<Activation>("Softplus", [b, t](const Tensor& x) { return softplus(x, b, t); });
}
std::shared_ptr<Activation> Softmax(int64_t d) {
  return std::make_shared<Activation>("Softmax", [d](const Tensor& x) { return softmax(x, d); }, "dim=" + std::to_string(d));
}
std::shared_ptr<Activation> LogSoftmax(int64_t d) {
  return std::make_shared<Activation>("LogSoftmax", [d](const Tensor& x) { return log_softmax(x, d); },
                                      "dim=" + std::to_string(d));
}

Sequential::Sequential(std::vector<std::shared_ptr<UnaryModule>> modules) {
  for (auto& m : modules) push_back(std::move(m));
}
void Sequential::push_back(std::shared_ptr<UnaryModule> m) {
  FM_CHECK(m != nullptr, "Sequential: cannot add a null module");
  register_module(std::to_string(modules_.size()), m);
  modules_.push_back(std::move(m));
}
Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& m : modules_) h = (*m)(h);
  return h;
}

void ModuleList::push_back(std::shared_ptr<Module> m) {
  FM_CHECK(m != nullptr, "ModuleList: cannot add a null module");
  register_module(std::to_string(modules_.size()), m);
  modules_.push_back(std::move(m));
}

}  // namespace fm::nn
