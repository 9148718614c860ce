#pragma once
// Linear, Identity, Flatten, Dropout, Embedding, the activation modules, Sequential, ModuleList.
#include <memory>
#include <string>
#include <vector>

#include "layers/module.h"

namespace fm::nn {

struct LinearOptions {
  bool bias = true;
  DType dtype = DType::Float32;
};

class Linear : public UnaryModule {
 public:
  Linear(int64_t in_features, int64_t out_features, LinearOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t in_features, out_features;
  Tensor weight;  // [out, in]
  Tensor bias;    // [out] or undefined
};

class Identity : public UnaryModule {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "Identity"; }
};

class Flatten : public UnaryModule {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1) : start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Flatten"; }
  int64_t start_dim, end_dim;
};

class Dropout : public UnaryModule {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }
  std::string extra_repr() const override;
  double p;
};

struct EmbeddingOptions {
  int64_t padding_idx = -1;  // -1: none; the row is zeroed at init and gets no gradient
};

class Embedding : public UnaryModule {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, EmbeddingOptions o = {});
  Tensor forward(const Tensor& indices) override;
  std::string type_name() const override { return "Embedding"; }
  std::string extra_repr() const override;
  int64_t num_embeddings, embedding_dim, padding_idx;
  Tensor weight;  // [num, dim], N(0, 1) as in PyTorch
};

// Activation modules: a name and the functional op.
class Activation : public UnaryModule {
 public:
  Activation(std::string name, std::function<Tensor(const Tensor&)> f, std::string repr = "")
      : name_(std::move(name)), f_(std::move(f)), repr_(std::move(repr)) {}
  Tensor forward(const Tensor& x) override { return f_(x); }
  std::string type_name() const override { return name_; }
  std::string extra_repr() const override { return repr_; }

 private:
  std::string name_;
  std::function<Tensor(const Tensor&)> f_;
  std::string repr_;
};

std::shared_ptr<Activation> ReLU();
std::shared_ptr<Activation> LeakyReLU(double negative_slope = 0.01);
std::shared_ptr<Activation> ELU(double alpha = 1.0);
std::shared_ptr<Activation> GELU(const std::string& approximate = "none");
std::shared_ptr<Activation> SiLU();
std::shared_ptr<Activation> Tanh();
std::shared_ptr<Activation> Sigmoid();
std::shared_ptr<Activation> Softplus(double beta = 1, double threshold = 20);
std::shared_ptr<Activation> Softmax(int64_t dim);
std::shared_ptr<Activation> LogSoftmax(int64_t dim);

// Chains unary modules; children are named "0", "1", ... as in PyTorch.
class Sequential : public UnaryModule {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::shared_ptr<UnaryModule>> modules);
  void push_back(std::shared_ptr<UnaryModule> m);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }
  size_t size() const { return modules_.size(); }
  UnaryModule& operator[](size_t i) const { return *modules_.at(i); }

 private:
  std::vector<std::shared_ptr<UnaryModule>> modules_;
};

// Holds modules of any kind under "0", "1", ...; typed access through at<T>().
class ModuleList : public Module {
 public:
  void push_back(std::shared_ptr<Module> m);
  size_t size() const { return modules_.size(); }
  template <class T>
  T& at(size_t i) const {
    T* p = dynamic_cast<T*>(modules_.at(i).get());
    FM_CHECK(p != nullptr, "ModuleList: element ", i, " is a ", modules_.at(i)->type_name(),
             ", not the requested type");
    return *p;
  }
  std::string type_name() const override { return "ModuleList"; }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace fm::nn
