#pragma once
// Message-passing kernels on a compressed sparse row (CSR) adjacency, no autograd (that is
// autograd/graph.cpp). A Csr groups the entries of an edge list by row; every kernel runs in
// parallel over rows and writes only its own row (or its own edges), so there are no atomics
// and the sums come out the same for any thread count. Index values are validated by the
// callers; these assume them valid.
#include <utility>

#include "tensor/tensor.h"

namespace fm::kernels {

// A sparse [rows, cols] matrix: the entries of row r are positions ptr[r] .. ptr[r+1]-1 of
// `col` (their column) and `eid` (their position in the edge list the matrix was built from,
// which indexes the edge weights). ptr, col and eid are contiguous int64 on the device of the
// edge list they were built from; the kernels below take operands on that device (CPU: OpenMP
// over rows; CUDA: kernels/cuda/graph.cu, the same sums in the same order).
struct Csr {
  int64_t rows = 0, cols = 0;
  Tensor ptr;  // [rows + 1]
  Tensor col;  // [E]
  Tensor eid;  // [E]
  int64_t nnz() const { return col.defined() ? col.numel() : 0; }
};

// Groups the edges (row[e], col[e]) by row with a counting sort (CUDA: a stable radix sort)
// that keeps edge-list order within a row (deterministic, the same Csr on either device). row
// and col are int64 [E] with values in [0, rows), [0, cols).
Csr csr_from_edges(const Tensor& row, const Tensor& col, int64_t rows, int64_t cols);

// out[r, :] = sum over the entries k of row r of w[eid[k]] * x[col[k], :], for x [cols, F]
// (float32/float64; any strides) and w [E] of x's dtype, or undefined for all ones.
// Returns a fresh contiguous [rows, F] tensor; rows without entries are zero.
Tensor spmm(const Csr& a, const Tensor& w, const Tensor& x);

// out[eid[k]] = sum_f lhs[r, f] * rhs[col[k], f] for every entry k of every row r: the
// product lhs @ rhs^T sampled at the matrix's entries (accumulated in double). lhs [rows, F],
// rhs [cols, F]; returns [num_edges] of their dtype (num_edges = a.nnz()).
Tensor sddmm(const Csr& a, const Tensor& lhs, const Tensor& rhs);

// Per row r, the maximum over the entries k of row r of x[col[k], f], for every feature f, and
// the column (node) where it is reached first in entry order. A row without entries gives 0 and
// index -1. NaN wins, as in torch.max. x [cols, F] -> ([rows, F], int64 [rows, F]).
std::pair<Tensor, Tensor> segment_max(const Csr& a, const Tensor& x);

// The minimum and maximum of a non-empty int64 tensor on either device (CUDA: reduced on the
// device, two values copied back), for the callers' range checks of node indices.
std::pair<int64_t, int64_t> index_min_max(const Tensor& idx);

}  // namespace fm::kernels
