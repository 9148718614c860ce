#pragma once
// Launchers of the CUDA kernels (kernels/cuda/*.cu), called by the tensor-level wrappers in
// kernels/cuda/*.cpp. They take raw pointers, a merged geometry (tensor/cuda_geometry.h) and
// an explicit stream, check the launch, and exist for float and double.
#include <cuda_runtime.h>

#include "kernels/elementwise_ops.h"
#include "tensor/cuda_geometry.h"

namespace fm::kernels::cuda {

// v1: the simplest correct kernel; v2: the tuned one. Both stay, selectable for the tests.
enum class Variant { V1 = 1, V2 = 2 };

enum class ReduceKind { Sum, Max, Min, Prod };

// out = op(x): operand 0 is out, 1 is x.
template <class T>
void launch_unary(UnaryOp op, T* out, const T* x, T p0, T p1, const cuda_geom::StridedGeom<2>& g, int64_t n,
                  Variant v, cudaStream_t s);
// out = op(a, b) broadcast: operands out, a, b. R is T, or bool for comparisons/logical ops.
template <class T, class R>
void launch_binary(BinaryOp op, R* out, const T* a, const T* b, const cuda_geom::StridedGeom<3>& g, int64_t n,
                   Variant v, cudaStream_t s);
// out = cond ? a : b, broadcast: operands out, cond, a, b (one thread per element).
template <class T>
void launch_where(T* out, const bool* cond, const T* a, const T* b, const cuda_geom::StridedGeom<4>& g, int64_t n,
                  cudaStream_t s);
template <class T>
void launch_fill(T* out, T value, const cuda_geom::StridedGeom<1>& g, int64_t n, cudaStream_t s);

// out[n_out] (contiguous) = reduce over g. v2 with splits > 1 reduces in two passes through
// `workspace` (n_out * splits * 8 bytes).
template <class T>
void launch_reduce(ReduceKind op, T* out, const T* x, const cuda_geom::ReduceGeom& g, Variant v, int64_t splits,
                   void* workspace, cudaStream_t s);
// How launch_reduce would split: the caller allocates the workspace for it.
int64_t reduce_splits_for(const cuda_geom::ReduceGeom& g, Variant v, int sms);
// Max or min of each contiguous row of `run` values and its first position (first NaN wins):
// kernels/cuda/arg_extreme.cu. T is float, double or int64_t.
template <class T>
void launch_arg_extreme(bool is_max, T* values, int64_t* indices, const T* x, int64_t outer, int64_t run, Variant v,
                        cudaStream_t s);

// Softmax over D of contiguous [outer, D, inner].
template <class T>
void launch_softmax(bool log, T* y, const T* x, int64_t outer, int64_t D, int64_t inner, Variant v, cudaStream_t s);
template <class T>
void launch_softmax_backward(bool log, T* out, const T* g, const T* y, int64_t outer, int64_t D, int64_t inner,
                             Variant v, cudaStream_t s);

// Pooling over contiguous planes [planes, H, W] -> [planes, Ho, Wo] (kernels/cuda/pool.cu).
// The window tables of kernels/pool.h's PoolAxis live in device memory: per output position
// the first input position and the count, per axis, and the divisors (avg only). The cover
// tables (CSR: the outputs whose windows hold each input position, in increasing order) are
// built only for avg_pool2d_backward's v2. `pairs`: both axes are 2x2 / stride-2 windows at
// 0, 2, 4, ..., which v2 runs with the window unrolled and paired loads.
struct PoolGeom {
  int64_t H = 0, W = 0, Ho = 0, Wo = 0, step_h = 1, step_w = 1;
  const int64_t *first_h = nullptr, *count_h = nullptr, *first_w = nullptr, *count_w = nullptr;
  const double *div_h = nullptr, *div_w = nullptr;
  const int64_t *cover_ptr_h = nullptr, *cover_h = nullptr, *cover_ptr_w = nullptr, *cover_w = nullptr;
  bool pairs = false;
};
template <class T>
void launch_max_pool2d(T* y, int64_t* idx, const T* x, int64_t planes, const PoolGeom& g, Variant v, cudaStream_t s);
template <class T>
void launch_avg_pool2d(T* y, const T* x, int64_t planes, const PoolGeom& g, Variant v, cudaStream_t s);
template <class T>
void launch_avg_pool2d_backward(T* gx, const T* gy, int64_t planes, const PoolGeom& g, Variant v, cudaStream_t s);
// y[p, o] = x[p, idx[p, o]] and gx[p, :] = 0, gx[p, idx[p, o]] += g[p, o]; planes of HW
// inputs and O outputs.
template <class T>
void launch_plane_gather(T* y, const T* x, const int64_t* idx, int64_t planes, int64_t HW, int64_t O, Variant v,
                         cudaStream_t s);
template <class T>
void launch_plane_scatter_add(T* gx, const T* g, const int64_t* idx, int64_t planes, int64_t HW, int64_t O,
                              Variant v, cudaStream_t s);

// Inverted dropout of n contiguous elements (kernels/cuda/dropout.cu): element i kept when
// uniform_float(lane i % 4 of Philox block base + i / 4 of seed) < keep, as on the CPU.
template <class T>
void launch_dropout(T* y, T* mask, const T* x, int64_t n, uint64_t seed, uint64_t base, double keep, T scale,
                    Variant v, cudaStream_t s);

// Fused optimizer steps over n contiguous elements, in place (kernels/cuda/optim.cu). The
// scalars are formed on the host exactly as kernels/cpu/optim.cpp forms them.
template <class T>
struct AdamArgs {
  T step_size, bc2_sqrt, eps, weight_decay, decay, beta1, beta2, one_minus_beta1, one_minus_beta2;
  bool decoupled, amsgrad, maximize;
};
template <class T>
struct SgdArgs {
  T lr, momentum, one_minus_dampening, weight_decay;
  bool first, nesterov, maximize, use_momentum;
};
template <class T>
struct RmspropArgs {
  T lr, alpha, one_minus_alpha, eps, weight_decay, momentum;
  bool centered, maximize, use_momentum;
};
// max_exp_avg_sq is null unless amsgrad; the momentum buffer null unless use_momentum; the
// grad average null unless centered.
template <class T>
void launch_adam(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, int64_t n,
                 const AdamArgs<T>& a, Variant v, cudaStream_t s);
template <class T>
void launch_sgd(T* param, const T* grad, T* momentum_buffer, int64_t n, const SgdArgs<T>& a, Variant v,
                cudaStream_t s);
template <class T>
void launch_rmsprop(T* param, const T* grad, T* square_avg, T* grad_avg, T* momentum_buffer, int64_t n,
                    const RmspropArgs<T>& a, Variant v, cudaStream_t s);

// Batch norm over contiguous x [N, C, S] and layer norm over contiguous x [M, D]
// (kernels/cuda/norm.cu). Per-channel sums go through a float64 workspace `partials` of
// 2 * channels * plan.partials values, summed in a fixed order (no atomics): norm_plan picks
// how (v1: a thread per channel; v2: slices of contiguous runs, or 32-channel column tiles when
// a channel's elements are strided, as in [N, C] and layer norm's weight gradient). `coef` is a
// workspace of 3 * C values of T.
enum class NormSums { PerThread, Runs, Columns };
struct NormPlan {
  NormSums how = NormSums::PerThread;
  int64_t partials = 1;
};
// L elements per channel; `columns`: channel c's elements are c, c + C, c + 2C, ...
NormPlan norm_plan(int64_t C, int64_t L, bool columns, Variant v, int sms);
template <class T>
void launch_batch_norm_stats(T* mean, T* var, const T* x, int64_t N, int64_t C, int64_t S, double* partials,
                             const NormPlan& plan, cudaStream_t s);
// w, b may be null (1 and 0).
template <class T>
void launch_batch_norm_apply(T* y, const T* x, const T* mean, const T* invstd, const T* w, const T* b, int64_t N,
                             int64_t C, int64_t S, T* coef, Variant v, cudaStream_t s);
// gx, gw, gb: null when not wanted; partials null when neither training nor gw/gb need sums.
template <class T>
void launch_batch_norm_backward(T* gx, T* gw, T* gb, const T* g, const T* x, const T* mean, const T* invstd,
                                const T* w, int64_t N, int64_t C, int64_t S, bool training, double* partials,
                                const NormPlan& plan, T* coef, Variant v, cudaStream_t s);
template <class T>
void launch_layer_norm(T* y, T* mean, T* rstd, const T* x, const T* w, const T* b, int64_t M, int64_t D, double eps,
                       Variant v, cudaStream_t s);
template <class T>
void launch_layer_norm_backward(T* gx, T* gw, T* gb, const T* g, const T* x, const T* mean, const T* rstd,
                                const T* w, int64_t M, int64_t D, double* partials, const NormPlan& plan, Variant v,
                                cudaStream_t s);

// Real FFTs of contiguous frames (kernels/cuda/fft.cu), FFTW's conventions: rfft [batch, n] ->
// [batch, n/2 + 1, 2] and c2r back, both unnormalised.
template <class T>
bool fft_uses_shared_memory(int64_t n, Variant v);
template <class T>
void launch_rfft(T* out, const T* in, int64_t batch, int64_t n, Variant v, cudaStream_t s);
template <class T>
void launch_c2r(T* out, const T* in, int64_t batch, int64_t n, Variant v, cudaStream_t s);

// Convolution (kernels/cuda/conv.cu) over contiguous NCHW; ConvGeom is in
// kernels/cuda/conv_plan.h. The column buffer of `images` images is [images, C*kh*kw, Ho*Wo]
// and x / col point at the chunk's first image.
struct ConvGeom;
template <class T>
void launch_im2col(T* col, const T* x, const ConvGeom& g, int64_t images, cudaStream_t s);
// x = bias per channel (null: 0) + the column entries that read each element.
template <class T>
void launch_col2im(T* x, const T* col, const T* bias, const ConvGeom& g, int64_t images, cudaStream_t s);
// y[n, c, :] = bias[c] over [N, C, HW].
template <class T>
void launch_channel_fill(T* y, const T* bias, int64_t N, int64_t C, int64_t HW, cudaStream_t s);
// gb[o] = the sum of gy[:, o, :] over [N, O, HW], in double.
template <class T>
void launch_conv_bias_grad(T* gb, const T* gy, int64_t N, int64_t O, int64_t HW, cudaStream_t s);
// v2's forward, float32; bias may be null. Only for geometries conv_forward_path accepts.
void launch_conv_implicit_gemm(float* y, const float* x, const float* w, const float* bias, const ConvGeom& g,
                               cudaStream_t s);

// Indexing (kernels/cuda/index.cu). The index values are in range: the wrappers check them
// first with launch_index_min_max (out[0] = min, out[1] = max of idx[0, n), n > 0, through `ws`
// of 2 * kIndexMinMaxBlocks values). Data movement exists for float, double, int64_t and bool.
constexpr int kIndexMinMaxBlocks = 256;
void launch_index_min_max(int64_t* out, const int64_t* idx, int64_t n, int64_t* ws, cudaStream_t s);
// out[o, k, :] = x[o, idx[k], :] of contiguous x [outer, N, inner] and out [outer, K, inner].
template <class T>
void launch_index_select(T* out, const T* x, const int64_t* idx, int64_t outer, int64_t N, int64_t K, int64_t inner,
                         Variant v, cudaStream_t s);
// Over the index's shape (operands out, index, x; x's stride along dim zeroed):
// out[p] = x[p + idx[p] * xdim].
template <class T>
void launch_gather(T* out, const int64_t* idx, const T* x, const cuda_geom::StridedGeom<3>& g, int64_t n,
                   int64_t xdim, cudaStream_t s);
// Per line (every coordinate of the index's shape but dim; operands out, index, src) and
// j = 0..K-1 in order: out[line + idx[line + j idim] odim] = src[line + j sdim] (or +=, or ||=
// for bool, with `accumulate`). Duplicate targets: last write wins / summed in j order.
template <class T>
void launch_scatter(bool accumulate, T* out, const int64_t* idx, const T* src, const cuda_geom::StridedGeom<3>& g,
                    int64_t lines, int64_t K, int64_t odim, int64_t idim, int64_t sdim, Variant v, cudaStream_t s);
// out[o, idx[k], :] += alpha * src[o, k, :] of contiguous out [outer, N, inner] and src
// [outer, K, inner], summed per target in k order. The v2 path sorts the indices (stably)
// through a workspace of index_add_workspace(...) bytes (0: it runs v1).
size_t index_add_workspace(int64_t outer, int64_t N, int64_t K, int64_t inner, Variant v);
template <class T>
void launch_index_add(T* out, const T* src, const int64_t* idx, int64_t outer, int64_t N, int64_t K, int64_t inner,
                      T alpha, void* ws, size_t ws_bytes, Variant v, cudaStream_t s);

// Fused cross-entropy over contiguous logits [N, C] (kernels/cuda/loss.cu); t [N] class indices
// (a value outside [0, C) gives NaN instead of a read outside the row), wt [N] row weights.
template <class T>
void launch_cross_entropy(T* loss, T* lse, const T* x, const int64_t* t, const T* wt, int64_t N, int64_t C,
                          Variant v, cudaStream_t s);
template <class T>
void launch_cross_entropy_backward(T* out, const T* g, const T* x, const int64_t* t, const T* wt, const T* lse,
                                   int64_t N, int64_t C, Variant v, cudaStream_t s);

// Shape kernels (kernels/cuda/shape.cu). ShapeMap: output element -> input element, per dim
// (row-major over `size`): the output coordinate c gives the input coordinate c - shift, which
// wraps into [0, in_size) on the dims whose bit is set in `wrap` (roll) and elsewhere falls
// outside [0, in_size) where the output is `fill` (constant padding). Flips are negative input
// strides with in_base at the last element. Built by kernels/cuda/shape.cpp.
struct ShapeMap {
  int ndim = 0;
  int64_t size[cuda_geom::kMaxDims] = {};
  int64_t out_stride[cuda_geom::kMaxDims] = {};
  int64_t in_stride[cuda_geom::kMaxDims] = {};
  int64_t shift[cuda_geom::kMaxDims] = {};
  int64_t in_size[cuda_geom::kMaxDims] = {};
  uint32_t wrap = 0;
  int64_t in_base = 0;
};
template <class T>
void launch_shape_map(T* out, const T* in, const ShapeMap& m, int64_t n, T fill, Variant v, cudaStream_t s);
// cat of `inputs` contiguous inputs of the output's dtype in one launch; `table` (device) holds
// per input its data pointer's bits, its length along dim and its offset along dim; out is
// contiguous [outer, total, inner]; max_numel is the largest input's element count.
template <class T>
void launch_cat(T* out, const int64_t* table, int64_t inputs, int64_t max_numel, int64_t outer, int64_t total,
                int64_t inner, cudaStream_t s);
// Lower (c <= r + diagonal) or upper (c >= r + diagonal) triangle of contiguous [*, R, C].
template <class T>
void launch_tril_triu(T* out, const T* x, int64_t n, int64_t R, int64_t C, int64_t diagonal, bool lower,
                      cudaStream_t s);
// out[i, c] = idx[i] == c over contiguous idx [n] and out [n, classes].
void launch_one_hot(int64_t* out, const int64_t* idx, int64_t n, int64_t classes, cudaStream_t s);
// unfold's backward: out contiguous [outer, n, inner] from contiguous g [outer, windows, inner,
// size]; every output element written (sum of the windows covering it, in window order).
template <class T>
void launch_unfold_backward(T* out, const T* g, int64_t outer, int64_t n, int64_t inner, int64_t windows,
                            int64_t size, int64_t step, Variant v, cudaStream_t s);

// Message passing (kernels/cuda/graph.cu) over a CSR matrix of `rows` rows on the device: ptr
// [rows + 1], col and eid [nnz] (kernels/graph.h's Csr). Index values are in range (checked by
// the callers). x, lhs, rhs, out contiguous [n, F].
// CSR of the E edges (row[e], col[e]), edge order kept within a row, through a workspace of
// csr_from_edges_workspace(E, rows) bytes.
size_t csr_from_edges_workspace(int64_t E, int64_t rows);
void launch_csr_from_edges(int64_t* ptr, int64_t* col_out, int64_t* eid, const int64_t* row, const int64_t* col,
                           int64_t E, int64_t rows, void* ws, size_t ws_bytes, Variant v, cudaStream_t s);
// out[r, :] = sum over row r's entries k, in order, of w[eid[k]] x[col[k], :] (w null: ones).
template <class T>
void launch_spmm(T* out, const T* x, const T* w, const int64_t* ptr, const int64_t* col, const int64_t* eid,
                 int64_t rows, int64_t F, Variant v, cudaStream_t s);
// out[eid[k]] = <lhs[r, :], rhs[col[k], :]> (in double) for every entry k of every row r.
template <class T>
void launch_sddmm(T* out, const T* lhs, const T* rhs, const int64_t* ptr, const int64_t* col, const int64_t* eid,
                  int64_t rows, int64_t nnz, int64_t F, Variant v, cudaStream_t s);
// Per (row, feature): the maximum of x[col[k], f] over the row's entries and the first col
// reaching it (NaN wins); an empty row gives 0 and -1.
template <class T>
void launch_segment_max(T* out, int64_t* idx, const T* x, const int64_t* ptr, const int64_t* col, int64_t rows,
                        int64_t F, Variant v, cudaStream_t s);

// LSTM/GRU (kernels/cuda/rnn.cu; plan and persistent-kernel arguments in kernels/cuda/rnn_plan.h).
// One step's fused gates, one thread per (n, unit) of [N, H]: `gates` is the step's [N, G*H]
// slice (in: X W_ih^T without biases, plus h W_hh^T for LSTM; out: the activated gates); the
// biases may be null; cprev/hp/hprev null mean zeros (no previous state); y rows ldy apart.
template <class T>
void launch_lstm_step(T* gates, T* c, T* y, int64_t ldy, const T* cprev, const T* b_ih, const T* b_hh, int64_t N,
                      int64_t H, cudaStream_t s);
template <class T>
void launch_gru_step(T* gates, T* hn, T* y, int64_t ldy, const T* hp, const T* hprev, int64_t ldh, const T* b_ih,
                     const T* b_hh, int64_t N, int64_t H, cudaStream_t s);
// One step's gate gradients: LSTM dg [N, 4H] and dc updated in place; GRU dgi, dgh [N, 3H] and
// dh set to dL/dh_t * z. dh comes in as dL/dh_t without dy.
template <class T>
void launch_lstm_step_backward(T* dg, const T* dh, T* dc, const T* gates, const T* c, const T* cprev, const T* dy,
                               int64_t ldy, int64_t N, int64_t H, cudaStream_t s);
template <class T>
void launch_gru_step_backward(T* dgi, T* dgh, T* dh, const T* gates, const T* hn, const T* hprev, int64_t ldh,
                              const T* dy, int64_t ldy, int64_t N, int64_t H, cudaStream_t s);
// out[j] = sum over rows of contiguous x [rows, cols], in double through `parts` *  cols partials.
template <class T>
void launch_column_sums(T* out, const T* x, int64_t rows, int64_t cols, double* partials, int64_t parts,
                        cudaStream_t s);
// v2's persistent forward (float32): ready = shared memory opted in and the grid co-resident;
// launch returns false when the cooperative launch is refused as too large (run v1 then).
struct RnnForwardPlan;
struct RnnPersistentArgs;
bool rnn_persistent_ready(const RnnForwardPlan& p, int device);
bool launch_rnn_persistent(const RnnPersistentArgs& args, const RnnForwardPlan& p, cudaStream_t s);

// Fused NT-Xent over contiguous z [M = 2N, D] (kernels/cuda/contrastive.cu). `u` is a
// workspace of M * D values of T (the normalised rows, v2), `row_loss` M doubles, `acc` M * D
// doubles (the backward's dL/du before the chain rule). grad_loss points to one T on the device.
template <class T>
void launch_nt_xent(T* loss, T* lse, T* inv, const T* z, T* u, double* row_loss, int64_t M, int64_t D,
                    double temperature, Variant v, cudaStream_t s);
template <class T>
void launch_nt_xent_backward(T* dz, const T* z, const T* lse, const T* inv, const T* grad_loss, T* u, double* acc,
                             int64_t M, int64_t D, double temperature, Variant v, cudaStream_t s);

// Fused attention (attention.cu), contiguous q [B, L, E], k [B, S, E], v [B, S, Ev], kpm [B, S]
// bool or null (true = masked). Forward: out [B, L, Ev], lse [B, L]; v2 tiles E == Ev in {64,
// 128} for float (others run v1). Backward (v1 for both variants): dq by row, then dk/dv by
// key column; `rowdot` is a [B, L] workspace (dout . out per row).
template <class T>
void launch_flash_attention_forward(T* out, T* lse, const T* q, const T* k, const T* v, const bool* kpm, int64_t B,
                                    int64_t L, int64_t S, int64_t E, int64_t Ev, T scale, bool causal, Variant var,
                                    cudaStream_t s);
template <class T>
void launch_flash_attention_backward(T* dq, T* dk, T* dv, T* rowdot, const T* q, const T* k, const T* v,
                                     const bool* kpm, const T* out, const T* lse, const T* dout, int64_t B,
                                     int64_t L, int64_t S, int64_t E, int64_t Ev, T scale, bool causal, Variant var,
                                     cudaStream_t s);

}  // namespace fm::kernels::cuda
