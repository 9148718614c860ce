#pragma once
// The CUDA side of the kernels/*.h entry points. Each entry point that has a CUDA kernel
// starts with
//   FM_CUDA_DISPATCH(x.device().is_cuda(), cuda::op(...));
// which, in a CUDA build, returns cuda::op(...) for CUDA tensors; in a build without CUDA it
// is nothing (no CUDA tensor can exist there). Ops without a CUDA kernel keep require_cpu(),
// whose error names the device.
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/elementwise_ops.h"
#include "tensor/tensor.h"

#ifdef FERMATA_WITH_CUDA
#define FM_CUDA_DISPATCH(cond, call) \
  do {                               \
    if (cond) return call;           \
  } while (0)
#else
#define FM_CUDA_DISPATCH(cond, call) \
  do {                               \
  } while (0)
#endif

namespace fm::kernels {
enum class ReduceOp;
struct PoolAxis;
struct AdamHyper;
struct SgdHyper;
struct RmspropHyper;
}

namespace fm::kernels::cuda {

// Which variant the CUDA entry points launch: 1 = the simple kernels, 2 = the tuned ones (the
// default). The gpu tests run both; FERMATA_CUDA_KERNELS=1 in the environment picks v1.
void set_kernel_variant(int v);
int kernel_variant();

// Any tensor of `ts` on CUDA (the dispatch condition of the entry points).
bool any_cuda(std::initializer_list<const Tensor*> ts);

void unary_into(UnaryOp op, const Tensor& out, const Tensor& x, double p0, double p1);
void binary_into(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
void fill(const Tensor& t, double value);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<bool>& mask, bool keepdim);
std::pair<Tensor, Tensor> reduce_with_index(ReduceOp op, const Tensor& x, int64_t dim, bool keepdim);
Tensor softmax(const Tensor& x, int64_t dim, bool log);
Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t dim, bool log);
void mm_into(const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta);
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
// kernels/pool.h
std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, const PoolAxis& h, const PoolAxis& w);
Tensor avg_pool2d(const Tensor& x, const PoolAxis& h, const PoolAxis& w);
Tensor avg_pool2d_backward(const Tensor& gy, const PoolAxis& h, const PoolAxis& w);
Tensor plane_gather(const Tensor& x, const Tensor& idx);
Tensor plane_scatter_add(const Tensor& g, const Tensor& idx, int64_t H, int64_t W);
// kernels/dropout.h
std::pair<Tensor, Tensor> dropout(const Tensor& x, double p, uint64_t seed, uint64_t base);
// kernels/optim.h
void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
               const Tensor& max_exp_avg_sq, const AdamHyper& h);
void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdHyper& h);
void rmsprop_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                  const Tensor& momentum_buffer, const RmspropHyper& h);
// kernels/norm.h
std::pair<Tensor, Tensor> batch_norm_stats(const Tensor& x);
Tensor batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                        const Tensor& bias);
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& mean,
                                                       const Tensor& invstd, const Tensor& weight, bool training,
                                                       bool need_x, bool need_weight, bool need_bias);
std::tuple<Tensor, Tensor, Tensor> layer_norm(const Tensor& x, int64_t normalized_dims, const Tensor& weight,
                                              const Tensor& bias, double eps);
std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& mean,
                                                       const Tensor& rstd, const Tensor& weight,
                                                       int64_t normalized_dims, bool need_x, bool need_weight,
                                                       bool need_bias);

// audio/fft.h's raw transforms along the last dim: x [..., n] -> [..., n/2 + 1, 2] and back.
Tensor rfft(const Tensor& x);
Tensor c2r(const Tensor& z, int64_t n);

}  // namespace fm::kernels::cuda
namespace fm::kernels {
struct ConvGeometry;
}
namespace fm::kernels::cuda {
// kernels/conv.h
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeometry& g);
Tensor conv2d_input_grad(const Tensor& gy, const Tensor& w, const Tensor& bias, const ConvGeometry& g);
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& gy, const ConvGeometry& g);
Tensor conv2d_bias_grad(const Tensor& gy);

// kernels/index.h
void check_index_range(const char* op, const Tensor& index, int64_t size, int64_t dim, const std::string& context);
// (min, max) of a non-empty int64 CUDA tensor, reduced on the device; two values reach the host.
std::pair<int64_t, int64_t> index_min_max(const char* op, const Tensor& index);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
void scatter_(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, bool accumulate);
void scatter_value_(const Tensor& out, int64_t dim, const Tensor& index, double value);
void index_add_(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, double alpha);
// kernels/loss.h
std::pair<Tensor, Tensor> cross_entropy_rows(const Tensor& x, const Tensor& t, const Tensor& wt);
Tensor cross_entropy_rows_backward(const Tensor& g, const Tensor& x, const Tensor& t, const Tensor& wt,
                                   const Tensor& lse);
// kernels/shape.h
Tensor cat(const std::vector<Tensor>& ts, int64_t dim, DType dtype);
Tensor flip(const Tensor& x, const std::vector<bool>& flip);
Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims);
Tensor pad_constant(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& pads, double value);
Tensor tril_triu(const Tensor& x, int64_t diagonal, bool lower);
Tensor one_hot(const Tensor& indices, int64_t num_classes);
Tensor unfold_backward(const Tensor& grad, const Shape& input_sizes, int64_t dim, int64_t size, int64_t step);

}  // (fm::kernels::cuda, reopened below after a declaration of kernels/graph.h's Csr)
namespace fm::kernels {
struct Csr;
}
namespace fm::kernels::cuda {
// kernels/graph.h (the Csr's ptr/col/eid on the tensors' CUDA device)
Csr csr_from_edges(const Tensor& row, const Tensor& col, int64_t rows, int64_t cols);
Tensor spmm(const Csr& a, const Tensor& w, const Tensor& x);
Tensor sddmm(const Csr& a, const Tensor& lhs, const Tensor& rhs);
std::pair<Tensor, Tensor> segment_max(const Csr& a, const Tensor& x);

}  // namespace fm::kernels::cuda
namespace fm::kernels {
enum class RnnMode;
struct RnnWeights;
struct RnnSaved;
struct RnnDirResult;
struct RnnDirGrads;
}  // namespace fm::kernels
namespace fm::kernels::cuda {
// kernels/rnn.h
std::vector<RnnDirResult> rnn_forward(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w,
                                      const std::vector<Tensor>& h0, const std::vector<Tensor>& c0, const Tensor& y);
std::vector<RnnDirGrads> rnn_backward(RnnMode mode, const Tensor& x, const std::vector<RnnWeights>& w,
                                      const std::vector<Tensor>& h0, const std::vector<Tensor>& c0, const Tensor& y,
                                      const std::vector<RnnSaved>& saved, const Tensor& dy,
                                      const std::vector<Tensor>& dh_n, const std::vector<Tensor>& dc_n,
                                      const Tensor& dx, const std::vector<bool>& need_weights);

// kernels/contrastive.h
std::tuple<Tensor, Tensor, Tensor> nt_xent_forward(const Tensor& z, double temperature);
Tensor nt_xent_backward(const Tensor& z, const Tensor& lse, const Tensor& inv_norms, double temperature,
                        const Tensor& grad_loss);
// kernels/attention.h (fused attention, kernels/cuda/attention.cu)
std::pair<Tensor, Tensor> flash_attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
                                                  bool causal, const Tensor& key_padding_mask);
std::tuple<Tensor, Tensor, Tensor> flash_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                                            const Tensor& out, const Tensor& lse,
                                                            const Tensor& dout, double scale, bool causal,
                                                            const Tensor& key_padding_mask);
}  // namespace fm::kernels::cuda
