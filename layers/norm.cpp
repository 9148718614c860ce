#include "layers/norm.h"

#include <sstream>

#include "autograd/node.h"
#include "autograd/norm.h"
#include "autograd/views.h"
#include "layers/init.h"
#include "tensor/factory.h"

namespace fm::nn {

namespace {
const char* py_bool(bool b) { return b ? "True" : "False"; }
}  // namespace

BatchNormBase::BatchNormBase(int64_t num_features, BatchNormOptions o)
    : num_features(num_features),
      eps(o.eps),
      momentum(o.momentum),
      affine(o.affine),
      track_running_stats(o.track_running_stats) {
  FM_CHECK(num_features > 0, "BatchNorm: num_features must be positive, got ", num_features);
  FM_CHECK(is_floating(o.dtype), "BatchNorm: dtype must be floating point, got ", o.dtype);
  weight = register_parameter("weight", affine ? empty({num_features}, {.dtype = o.dtype}) : Tensor());
  bias = register_parameter("bias", affine ? empty({num_features}, {.dtype = o.dtype}) : Tensor());
  if (track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({num_features}, {.dtype = o.dtype}));
    running_var = register_buffer("running_var", ones({num_features}, {.dtype = o.dtype}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, {.dtype = DType::Int64}));
  } else {
    running_mean = register_buffer("running_mean", Tensor());
    running_var = register_buffer("running_var", Tensor());
    num_batches_tracked = register_buffer("num_batches_tracked", Tensor());
  }
  reset_parameters();
}

void BatchNormBase::reset_running_stats() {
  if (!track_running_stats) return;
  NoGradGuard ng;
  init::zeros_(running_mean);
  init::ones_(running_var);
  num_batches_tracked.data_ptr<int64_t>()[0] = 0;
  num_batches_tracked.bump_version();
}

void BatchNormBase::reset_parameters() {
  reset_running_stats();
  if (affine) {
    init::ones_(weight);
    init::zeros_(bias);
  }
}

Tensor BatchNormBase::forward(const Tensor& x) {
  check_input_dim(x);
  FM_CHECK(x.size(1) == num_features, type_name(), ": expected input with ", num_features,
           " channels (dim 1), got ", x.describe());
  double factor = momentum.value_or(0.0);
  if (is_training() && track_running_stats) {
    // num_batches_tracked += 1 (int64, no graph); on a device through a host copy of the one
    // value (the CUDA kernels have no int64 arithmetic)
    NoGradGuard ng;
    Tensor count =
        num_batches_tracked.device().is_cpu() ? num_batches_tracked : fm::to(num_batches_tracked, Device::cpu());
    count.data_ptr<int64_t>()[0] += 1;
    if (!num_batches_tracked.device().is_cpu()) copy_into(num_batches_tracked, count);
    num_batches_tracked.bump_version();
    if (!momentum) factor = 1.0 / static_cast<double>(count.data_ptr<int64_t>()[0]);
  }
  const bool use_batch = is_training() || !track_running_stats;
  const bool pass_stats = !is_training() || track_running_stats;
  return batch_norm(x, pass_stats ? running_mean : Tensor(), pass_stats ? running_var : Tensor(), weight, bias,
                    use_batch, factor, eps);
}

std::string BatchNormBase::extra_repr() const {
  std::ostringstream os;
  os << num_features << ", eps=" << eps << ", momentum=";
  if (momentum) os << *momentum; else os << "None";
  os << ", affine=" << py_bool(affine) << ", track_running_stats=" << py_bool(track_running_stats);
  return os.str();
}

void BatchNorm1d::check_input_dim(const Tensor& x) const {
  FM_CHECK(x.dim() == 2 || x.dim() == 3, "BatchNorm1d: expected 2D or 3D input ([N, C] or [N, C, L]), got ",
           x.dim(), "D input ", x.describe());
}

void BatchNorm2d::check_input_dim(const Tensor& x) const {
  FM_CHECK(x.dim() == 4, "BatchNorm2d: expected 4D input ([N, C, H, W]), got ", x.dim(), "D input ",
           x.describe());
}

LayerNorm::LayerNorm(Shape shape, LayerNormOptions o)
    : normalized_shape(std::move(shape)), eps(o.eps), elementwise_affine(o.elementwise_affine) {
  FM_CHECK(!normalized_shape.empty(), "LayerNorm: normalized_shape must not be empty");
  for (int64_t s : normalized_shape)
    FM_CHECK(s > 0, "LayerNorm: normalized_shape ", shape_str(normalized_shape), " must be positive");
  FM_CHECK(is_floating(o.dtype), "LayerNorm: dtype must be floating point, got ", o.dtype);
  weight = register_parameter("weight", elementwise_affine ? empty(normalized_shape, {.dtype = o.dtype}) : Tensor());
  bias = register_parameter("bias", elementwise_affine ? empty(normalized_shape, {.dtype = o.dtype}) : Tensor());
  reset_parameters();
}

void LayerNorm::reset_parameters() {
  if (!elementwise_affine) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, normalized_shape, weight, bias, eps); }

std::string LayerNorm::extra_repr() const {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < normalized_shape.size(); ++i) os << (i ? ", " : "") << normalized_shape[i];
  if (normalized_shape.size() == 1) os << ",";  // a Python 1-tuple
  os << "), eps=" << eps << ", elementwise_affine=" << py_bool(elementwise_affine);
  return os.str();
}

}  // namespace fm::nn
