// Tensor-level CUDA message passing (kernels/cuda/graph.cu): the CSR built on the device, the
// argument checks (op, shapes, dtypes, devices), inputs made contiguous as kernels/cpu/graph.cpp
// does, and the workspace of the CSR build's sort.
#ifdef FERMATA_WITH_CUDA
#include "kernels/cuda/common.h"
#include "kernels/graph.h"

namespace fm::kernels::cuda {

namespace {

int64_t features_of(const Tensor& x) {
  int64_t f = 1;
  for (int64_t d = 1; d < x.dim(); ++d) f *= x.size(d);
  return f;
}

struct CsrView {
  Tensor ptr, col, eid;
};

// Checks that the CSR matrix is well formed and that it and the defined tensors of `ts` (with
// their names) share one CUDA device, whose index it returns; `view` gets the matrix's tensors
// as contiguous int64.
int check_devices(const char* op, const Csr& a, std::initializer_list<std::pair<const char*, const Tensor*>> ts,
                  CsrView& view) {
  FM_CHECK(a.ptr.defined() && a.col.defined() && a.eid.defined(), op,
           ": the CSR matrix has undefined ptr/col/eid tensors (build it with csr_from_edges)");
  FM_CHECK(a.ptr.dtype() == DType::Int64 && a.col.dtype() == DType::Int64 && a.eid.dtype() == DType::Int64 &&
               a.ptr.numel() == a.rows + 1 && a.col.numel() == a.eid.numel(),
           op, ": malformed CSR matrix of ", a.rows, " rows: ptr ", a.ptr.describe(), ", col ", a.col.describe(),
           ", eid ", a.eid.describe());
  const std::pair<const char*, const Tensor*>* first = nullptr;
  for (const auto& t : ts)
    if (t.second->defined() && !first) first = &t;
  const Device dev = first->second->device();
  for (const auto& t : ts)
    if (t.second->defined())
      FM_CHECK(t.second->device() == dev, op, ": expected every tensor on one CUDA device, got ", t.first, " ",
               t.second->describe(), " and ", first->first, " ", first->second->describe());
  for (const auto& [name, t] : {std::pair<const char*, const Tensor*>{"the CSR matrix's ptr", &a.ptr},
                                {"the CSR matrix's col", &a.col},
                                {"the CSR matrix's eid", &a.eid}})
    FM_CHECK(t->device() == dev, op, ": ", name, " ", t->describe(), " is not on the device of ", first->first, " ",
             first->second->describe(), " (build the graph from tensors on that device)");
  FM_CHECK(dev.is_cuda(), op, ": expected CUDA tensors, got ", first->first, " ", first->second->describe());
  view = {contiguous_raw(a.ptr), contiguous_raw(a.col), contiguous_raw(a.eid)};
  return dev.index;
}

void check_floating(const char* op, const char* name, const Tensor& x, int64_t rows, const char* rows_name) {
  FM_CHECK(x.defined() && is_floating(x.dtype()) && x.dim() >= 1, op, ": ", name,
           " must be a float32/float64 tensor [", rows_name, ", features...], got ",
           x.defined() ? x.describe() : std::string("an undefined tensor"));
  FM_CHECK(x.size(0) == rows, op, ": ", name, " ", x.describe(), " has ", x.size(0), " rows, the CSR matrix has ",
           rows, " ", rows_name);
}

}  // namespace

Csr csr_from_edges(const Tensor& row0, const Tensor& col0, int64_t rows, int64_t cols) {
  const char* op = "csr_from_edges";
  const int dev = same_cuda_device(op, {&row0, &col0});
  FM_CHECK(row0.dtype() == DType::Int64 && col0.dtype() == DType::Int64 && row0.dim() == 1 && col0.dim() == 1 &&
               row0.numel() == col0.numel(),
           op, ": row and col must be int64 tensors [num_edges] of one size, got ", row0.describe(), " and ",
           col0.describe());
  FM_CHECK(rows >= 0 && cols >= 0, op, ": rows and cols must be non-negative, got ", rows, " and ", cols);
  const Tensor row = contiguous_raw(row0), col = contiguous_raw(col0);
  const int64_t E = row.numel();
  const Options io{.dtype = DType::Int64, .device = row.device()};
  Csr a;
  a.rows = rows;
  a.cols = cols;
  a.ptr = empty({rows + 1}, io);
  a.col = empty({E}, io);
  a.eid = empty({E}, io);
  CudaDeviceGuard guard(dev);
  const size_t bytes = csr_from_edges_workspace(E, rows);
  Tensor ws;
  if (bytes > 0) ws = empty({static_cast<int64_t>((bytes + 7) / 8)}, io);
  launch_csr_from_edges(ptr<int64_t>(a.ptr), ptr<int64_t>(a.col), ptr<int64_t>(a.eid), ptr<const int64_t>(row),
                        ptr<const int64_t>(col), E, rows, bytes > 0 ? ws.raw_data() : nullptr, bytes, variant(),
                        cuda_current_stream(dev));
  return a;
}

Tensor spmm(const Csr& a, const Tensor& w0, const Tensor& x0) {
  const char* op = "spmm";
  check_floating(op, "x", x0, a.cols, "columns");
  CsrView v;
  const int dev = check_devices(op, a, {{"x", &x0}, {"edge weights", &w0}}, v);
  if (w0.defined())
    FM_CHECK(w0.dtype() == x0.dtype() && w0.dim() == 1 && w0.numel() == a.nnz(), op, ": edge weights must be a [",
             a.nnz(), "] tensor of x's dtype, got ", w0.describe(), " for x ", x0.describe());
  const Tensor x = contiguous_raw(x0);
  const Tensor w = w0.defined() ? contiguous_raw(w0) : Tensor();
  const int64_t F = features_of(x);
  Shape out_shape = x.sizes();
  out_shape[0] = a.rows;
  Tensor out = empty(out_shape, {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() == 0) return out;
  CudaDeviceGuard guard(dev);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    launch_spmm<T>(ptr<T>(out), ptr<const T>(x), ptr<const T>(w), ptr<const int64_t>(v.ptr),
                   ptr<const int64_t>(v.col), ptr<const int64_t>(v.eid), a.rows, F, variant(),
                   cuda_current_stream(dev));
  });
  return out;
}

Tensor sddmm(const Csr& a, const Tensor& lhs0, const Tensor& rhs0) {
  const char* op = "sddmm";
  check_floating(op, "lhs", lhs0, a.rows, "rows");
  check_floating(op, "rhs", rhs0, a.cols, "columns");
  CsrView v;
  const int dev = check_devices(op, a, {{"lhs", &lhs0}, {"rhs", &rhs0}}, v);
  FM_CHECK(lhs0.dtype() == rhs0.dtype() && features_of(lhs0) == features_of(rhs0), op,
           ": lhs and rhs must have one dtype and as many features per row, got ", lhs0.describe(), " and ",
           rhs0.describe());
  const Tensor lhs = contiguous_raw(lhs0), rhs = contiguous_raw(rhs0);
  const int64_t F = features_of(lhs), E = a.nnz();
  Tensor out = empty({E}, {.dtype = lhs.dtype(), .device = lhs.device()});
  if (E == 0) return out;
  CudaDeviceGuard guard(dev);
  dispatch_floating(lhs.dtype(), op, [&]<class T>() {
    launch_sddmm<T>(ptr<T>(out), ptr<const T>(lhs), ptr<const T>(rhs), ptr<const int64_t>(v.ptr),
                    ptr<const int64_t>(v.col), ptr<const int64_t>(v.eid), a.rows, E, F, variant(),
                    cuda_current_stream(dev));
  });
  return out;
}

std::pair<Tensor, Tensor> segment_max(const Csr& a, const Tensor& x0) {
  const char* op = "segment_max";
  check_floating(op, "x", x0, a.cols, "columns");
  CsrView v;
  const int dev = check_devices(op, a, {{"x", &x0}}, v);
  const Tensor x = contiguous_raw(x0);
  const int64_t F = features_of(x);
  Shape out_shape = x.sizes();
  out_shape[0] = a.rows;
  Tensor out = empty(out_shape, {.dtype = x.dtype(), .device = x.device()});
  Tensor idx = empty(out_shape, {.dtype = DType::Int64, .device = x.device()});
  if (out.numel() == 0) return {out, idx};
  CudaDeviceGuard guard(dev);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    launch_segment_max<T>(ptr<T>(out), ptr<int64_t>(idx), ptr<const T>(x), ptr<const int64_t>(v.ptr),
                          ptr<const int64_t>(v.col), a.rows, F, variant(), cuda_current_stream(dev));
  });
  return {out, idx};
}

}  // namespace fm::kernels::cuda
#endif
