// Tensor-level CUDA pooling (kernels/cuda/pool.cu): inputs made contiguous on the device, the
// window tables checked on the host (a bad table would otherwise read outside the planes on
// the device) and copied to the device in one buffer on the kernels' stream.
#ifdef FERMATA_WITH_CUDA
#include <bit>
#include <vector>

#include "kernels/cuda/common.h"
#include "kernels/pool.h"

namespace fm::kernels::cuda {

namespace {

// Windows of 2 adjacent positions starting at 0, 2, 4, ... (kernel 2, stride 2, no padding).
bool is_pairs(const PoolAxis& a) {
  if (a.step != 1) return false;
  for (int64_t o = 0; o < a.out(); ++o)
    if (a.first[o] != 2 * o || a.count[o] != 2) return false;
  return true;
}

void check_axis(const char* op, const char* name, const PoolAxis& a, bool divisors) {
  const size_t n = a.first.size();
  FM_CHECK(a.count.size() == n && (!divisors || a.divisor.size() == n), op, ": the ", name, " windows have ", n,
           " first positions, ", a.count.size(), " counts and ", a.divisor.size(), " divisors");
  FM_CHECK(a.step >= 1 && a.in >= 0, op, ": the ", name, " windows have step ", a.step, " over an input of ", a.in,
           "; expected a positive step");
  for (size_t o = 0; o < n; ++o)
    FM_CHECK(a.count[o] >= 0 && (a.count[o] == 0 || (a.first[o] >= 0 && a.first[o] + (a.count[o] - 1) * a.step < a.in)),
             op, ": ", name, " window ", o, " (first ", a.first[o], ", count ", a.count[o], ", step ", a.step,
             ") leaves the input of size ", a.in);
}

void check_planes(const char* op, const Tensor& x, const PoolAxis& h, const PoolAxis& w, bool divisors) {
  FM_CHECK(x.dim() == 4, op, ": expected a 4-D tensor, got ", x.describe());
  FM_CHECK(is_floating(x.dtype()), op, ": expected a float32 or float64 tensor, got ", x.describe());
  check_axis(op, "height", h, divisors);
  check_axis(op, "width", w, divisors);
}

// Per input position, the windows that hold it, in increasing order (CSR: ptr[in + 1], list).
void append_cover(std::vector<int64_t>& out, const PoolAxis& a) {
  std::vector<int64_t> ptr(static_cast<size_t>(a.in) + 1, 0);
  for (int64_t o = 0; o < a.out(); ++o)
    for (int64_t j = 0; j < a.count[o]; ++j) ++ptr[static_cast<size_t>(a.first[o] + j * a.step) + 1];
  for (size_t i = 1; i < ptr.size(); ++i) ptr[i] += ptr[i - 1];
  std::vector<int64_t> list(static_cast<size_t>(ptr.back())), next(ptr.begin(), ptr.end() - 1);
  for (int64_t o = 0; o < a.out(); ++o)
    for (int64_t j = 0; j < a.count[o]; ++j) list[static_cast<size_t>(next[a.first[o] + j * a.step]++)] = o;
  out.insert(out.end(), ptr.begin(), ptr.end());
  out.insert(out.end(), list.begin(), list.end());
}

struct Tables {
  Tensor buf;  // the device tables; freed after the launch, on its stream, by the allocator
  PoolGeom g;
};

// Builds the geometry with the tables the chosen kernel reads: windows (unless the 2x2 path
// runs), divisors (avg) and covers (avg backward, v2 general path), all in one int64 buffer
// (divisors as their bits) so that one copy moves them.
Tables upload(const PoolAxis& h, const PoolAxis& w, bool divisors, bool covers, Variant v, const Device& device,
              cudaStream_t s) {
  Tables t;
  PoolGeom& g = t.g;
  g.H = h.in, g.W = w.in, g.Ho = h.out(), g.Wo = w.out(), g.step_h = h.step, g.step_w = w.step;
  g.pairs = is_pairs(h) && is_pairs(w);
  const bool windows = !(v == Variant::V2 && g.pairs);
  covers = covers && windows && v == Variant::V2;
  std::vector<int64_t> host;
  auto put = [&host](const std::vector<int64_t>& v) {
    const size_t at = host.size();
    host.insert(host.end(), v.begin(), v.end());
    return at;
  };
  auto put_bits = [&host](const std::vector<double>& v) {
    const size_t at = host.size();
    for (double d : v) host.push_back(std::bit_cast<int64_t>(d));
    return at;
  };
  const size_t npos = ~size_t{0};
  size_t fh = npos, ch = npos, fw = npos, cw = npos, dh = npos, dw = npos, cph = npos, cpw = npos;
  if (windows) fh = put(h.first), ch = put(h.count), fw = put(w.first), cw = put(w.count);
  if (divisors) dh = put_bits(h.divisor), dw = put_bits(w.divisor);
  if (covers) {
    cph = host.size();
    append_cover(host, h);
    cpw = host.size();
    append_cover(host, w);
  }
  if (host.empty()) return t;
  t.buf = empty({static_cast<int64_t>(host.size())}, {.dtype = DType::Int64, .device = device});
  // pageable source: the call returns once the data is staged, so `host` may go
  cuda_copy_async(t.buf.raw_data(), host.data(), host.size() * sizeof(int64_t), s);
  const int64_t* base = static_cast<const int64_t*>(t.buf.raw_data());
  auto at = [base](size_t off) { return base + off; };
  if (windows) g.first_h = at(fh), g.count_h = at(ch), g.first_w = at(fw), g.count_w = at(cw);
  if (divisors) {
    g.div_h = reinterpret_cast<const double*>(at(dh));
    g.div_w = reinterpret_cast<const double*>(at(dw));
  }
  if (covers) {
    g.cover_ptr_h = at(cph), g.cover_h = at(cph + static_cast<size_t>(h.in) + 1);
    g.cover_ptr_w = at(cpw), g.cover_w = at(cpw + static_cast<size_t>(w.in) + 1);
  }
  return t;
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d(const Tensor& x0, const PoolAxis& h, const PoolAxis& w) {
  const char* op = "max_pool2d";
  const int dev = same_cuda_device(op, {&x0});
  check_planes(op, x0, h, w, false);
  FM_CHECK(x0.size(2) == h.in && x0.size(3) == w.in, op, ": input ", x0.describe(), " does not match the windows (",
           h.in, ", ", w.in, ")");
  const Tensor x = contiguous_raw(x0);
  const int64_t N = x.size(0), C = x.size(1);
  Tensor y = empty({N, C, h.out(), w.out()}, {.dtype = x.dtype(), .device = x.device()});
  Tensor idx = empty({N, C, h.out(), w.out()}, {.dtype = DType::Int64, .device = x.device()});
  if (y.numel() == 0) return {y, idx};
  CudaDeviceGuard guard(dev);
  const cudaStream_t s = cuda_current_stream(dev);
  const Variant v = variant();  // read once: the tables depend on it
  const Tables t = upload(h, w, false, false, v, x.device(), s);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    launch_max_pool2d<T>(static_cast<T*>(y.raw_data()), static_cast<int64_t*>(idx.raw_data()),
                         static_cast<const T*>(x.raw_data()), N * C, t.g, v, s);
  });
  return {y, idx};
}

Tensor avg_pool2d(const Tensor& x0, const PoolAxis& h, const PoolAxis& w) {
  const char* op = "avg_pool2d";
  const int dev = same_cuda_device(op, {&x0});
  check_planes(op, x0, h, w, true);
  FM_CHECK(x0.size(2) == h.in && x0.size(3) == w.in, op, ": input ", x0.describe(), " does not match the windows (",
           h.in, ", ", w.in, ")");
  const Tensor x = contiguous_raw(x0);
  const int64_t N = x.size(0), C = x.size(1);
  Tensor y = empty({N, C, h.out(), w.out()}, {.dtype = x.dtype(), .device = x.device()});
  if (y.numel() == 0) return y;
  CudaDeviceGuard guard(dev);
  const cudaStream_t s = cuda_current_stream(dev);
  const Variant v = variant();  // read once: the tables depend on it
  const Tables t = upload(h, w, true, false, v, x.device(), s);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    launch_avg_pool2d<T>(static_cast<T*>(y.raw_data()), static_cast<const T*>(x.raw_data()), N * C, t.g, v, s);
  });
  return y;
}

Tensor avg_pool2d_backward(const Tensor& gy0, const PoolAxis& h, const PoolAxis& w) {
  const char* op = "avg_pool2d_backward";
  const int dev = same_cuda_device(op, {&gy0});
  check_planes(op, gy0, h, w, true);
  FM_CHECK(gy0.size(2) == h.out() && gy0.size(3) == w.out(), op, ": gradient ", gy0.describe(),
           " does not match the output size (", h.out(), ", ", w.out(), ")");
  const Tensor gy = contiguous_raw(gy0);
  const int64_t N = gy.size(0), C = gy.size(1);
  Tensor gx = empty({N, C, h.in, w.in}, {.dtype = gy.dtype(), .device = gy.device()});
  if (gx.numel() == 0) return gx;
  CudaDeviceGuard guard(dev);
  const cudaStream_t s = cuda_current_stream(dev);
  const Variant v = variant();  // read once: the tables depend on it
  const Tables t = upload(h, w, true, true, v, gy.device(), s);
  dispatch_floating(gy.dtype(), op, [&]<class T>() {
    launch_avg_pool2d_backward<T>(static_cast<T*>(gx.raw_data()), static_cast<const T*>(gy.raw_data()), N * C, t.g,
                                  v, s);
  });
  return gx;
}

Tensor plane_gather(const Tensor& x0, const Tensor& idx0) {
  const char* op = "max_pool (gather)";
  const int dev = same_cuda_device(op, {&x0, &idx0});
  FM_CHECK(x0.dim() == 4 && idx0.dim() == 4 && idx0.size(0) == x0.size(0) && idx0.size(1) == x0.size(1), op,
           ": expected 4-D input and indices with the same planes, got ", x0.describe(), " and ", idx0.describe());
  FM_CHECK(is_floating(x0.dtype()) && idx0.dtype() == DType::Int64, op,
           ": expected a float32 or float64 input and int64 indices, got ", x0.describe(), " and ", idx0.describe());
  const Tensor x = contiguous_raw(x0), idx = contiguous_raw(idx0);
  Tensor y = empty(idx.sizes(), {.dtype = x.dtype(), .device = x.device()});
  if (y.numel() == 0) return y;
  const int64_t planes = x.size(0) * x.size(1), HW = x.size(2) * x.size(3), O = idx.size(2) * idx.size(3);
  CudaDeviceGuard guard(dev);
  dispatch_floating(x.dtype(), op, [&]<class T>() {
    launch_plane_gather<T>(static_cast<T*>(y.raw_data()), static_cast<const T*>(x.raw_data()),
                           static_cast<const int64_t*>(idx.raw_data()), planes, HW, O, variant(),
                           cuda_current_stream(dev));
  });
  return y;
}

Tensor plane_scatter_add(const Tensor& g0, const Tensor& idx0, int64_t H, int64_t W) {
  const char* op = "max_pool_backward";
  const int dev = same_cuda_device(op, {&g0, &idx0});
  FM_CHECK(g0.dim() == 4 && g0.sizes() == idx0.sizes(), op, ": expected a 4-D gradient and indices of one shape, got ",
           g0.describe(), " and ", idx0.describe());
  FM_CHECK(is_floating(g0.dtype()) && idx0.dtype() == DType::Int64, op,
           ": expected a float32 or float64 gradient and int64 indices, got ", g0.describe(), " and ",
           idx0.describe());
  FM_CHECK(H >= 0 && W >= 0, op, ": negative input size (", H, ", ", W, ")");
  const Tensor g = contiguous_raw(g0), idx = contiguous_raw(idx0);
  const int64_t planes = g.size(0) * g.size(1), O = g.size(2) * g.size(3);
  Tensor gx = empty({g.size(0), g.size(1), H, W}, {.dtype = g.dtype(), .device = g.device()});
  if (gx.numel() == 0) return gx;
  CudaDeviceGuard guard(dev);
  dispatch_floating(g.dtype(), op, [&]<class T>() {
    launch_plane_scatter_add<T>(static_cast<T*>(gx.raw_data()), static_cast<const T*>(g.raw_data()),
                                static_cast<const int64_t*>(idx.raw_data()), planes, H * W, O, variant(),
                                cuda_current_stream(dev));
  });
  return gx;
}

}  // namespace fm::kernels::cuda
#endif
