#pragma once
// fm::Tensor: a cheap handle (shared pointer) to a TensorImpl: storage, sizes, strides, offset,
// dtype, device, and the autograd fields. Row-major and strided with PyTorch's layouts.
// This layer knows nothing of autograd's graph beyond holding a pointer to a grad_fn node;
// the differentiable ops live in autograd/ (fm::exp, fm::matmul, operators, ...).
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/error.h"
#include "tensor/storage.h"

namespace fm {

namespace autograd {
struct Node;
}

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& sizes);
// Wraps a possibly negative dim into [0, ndim); `op` names the caller in the error.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape sizes;
  Shape strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;

  // autograd
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
  uint32_t output_nr = 0;
  std::weak_ptr<autograd::Node> grad_accumulator;
  bool is_view = false;  // shares storage with a tensor it was derived from by a view op
};

struct Options {
  DType dtype = DType::Float32;
  Device device = Device::cpu();
  bool requires_grad = false;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  // metadata
  const Shape& sizes() const { return checked().sizes; }
  const Shape& strides() const { return checked().strides; }
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return static_cast<int64_t>(sizes().size()); }
  int64_t numel() const { return shape_numel(sizes()); }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().storage->device; }
  int64_t storage_offset() const { return checked().offset; }
  size_t element_size() const { return fm::element_size(dtype()); }
  bool is_contiguous() const;
  bool is_floating_point() const { return is_floating(dtype()); }

  // data (CPU tensors; typed access checks the dtype)
  void* raw_data() const;
  template <class T>
  T* data_ptr() const {
    FM_CHECK(dtype_of<T>::value == dtype(), "data_ptr: tensor has dtype ", dtype(), ", asked for ",
             dtype_of<T>::value);
    return static_cast<T*>(raw_data());
  }
  // The single value of a one-element tensor, converted to T (copies from the GPU if needed).
  template <class T = double>
  T item() const;
  // All values in row-major order, converted to T.
  template <class T>
  std::vector<T> to_vector() const;

  // autograd state
  bool requires_grad() const { return checked().requires_grad; }
  Tensor& requires_grad_(bool on = true);
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  void retain_grad() const;
  const std::shared_ptr<autograd::Node>& grad_fn() const { return checked().grad_fn; }
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  // Runs the backward pass from this tensor (defined in autograd/engine.cpp).
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;

  // A tensor that shares this one's storage (and version counter) but no graph.
  Tensor detach() const;
  uint64_t version() const { return checked().storage->version.load(); }
  void bump_version() const { checked().storage->version.fetch_add(1); }

  std::string to_string() const;   // PyTorch-style printing
  std::string describe() const;    // "float32[2, 3] on cpu" for error messages

 private:
  const TensorImpl& checked() const {
    FM_CHECK(impl_ != nullptr, "fm::Tensor: operation on an undefined tensor");
    return *impl_;
  }
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ----- raw construction and views (no autograd; autograd/ wraps them) -----
Tensor empty(const Shape& sizes, Options o = {});
// A view of `base`'s storage with the given geometry (bounds-checked against the storage).
Tensor make_view(const Tensor& base, Shape sizes, Shape strides, int64_t offset);
// Copies src into dst elementwise (shapes equal), converting dtype; any strides and devices.
void copy_into(const Tensor& dst, const Tensor& src);
// A contiguous copy (or `t` itself when already contiguous and `force` is false).
Tensor contiguous_raw(const Tensor& t, bool force = false);
Tensor to_raw(const Tensor& t, DType dtype, Device device);

}  // namespace fm
