// CUDA message passing against the CPU (label gpu), both variants, poisoned allocations, fresh
// seeds: csr_from_edges bit-identical to the CPU's counting sort (ptr, col, eid) on random edge
// lists with duplicates and empty rows, strided inputs, more rows than edges and the reverse;
// spmm, sddmm and segment_max at F = 1, 3, 33, 128 (and a [n, 3, 5] feature block), weighted and
// unweighted, contiguous, transposed, every-other-element and misaligned x; and end to end a
// GCNConv layer's forward and backward (edge weights, self-loops, isolated nodes, cached) and the
// global add/mean/max and attention pooling with empty graphs, forward and backward, equal to
// the CPU; CUDA errors are the CPU's.
#include <random>

#include "autograd/graph.h"
#include "cuda_parity.h"
#include "kernels/graph.h"
#include "layers/graph.h"
#include "layers/init.h"

using namespace fm;
using namespace fm::cuda_test;

namespace {

struct Edges {
  Tensor row, col;  // CPU int64 [E]
};

// E edges with rows drawn from every `row_step`-th row (the others stay empty) and columns from
// [0, cols), with duplicates when E is large against rows * cols.
Edges random_edges(int64_t rows, int64_t cols, int64_t E, int64_t row_step, uint64_t seed) {
  std::mt19937_64 g(seed);
  const int64_t used = (rows + row_step - 1) / row_step;
  std::vector<int64_t> r(E), c(E);
  for (int64_t e = 0; e < E; ++e) {
    r[e] = static_cast<int64_t>(g() % static_cast<uint64_t>(used)) * row_step;
    c[e] = static_cast<int64_t>(g() % static_cast<uint64_t>(cols));
  }
  return {from_vector(r, {E}), from_vector(c, {E})};
}

::testing::AssertionResult same_csr(const kernels::Csr& gpu, const kernels::Csr& cpu) {
  if (!gpu.ptr.device().is_cuda() || !gpu.col.device().is_cuda() || !gpu.eid.device().is_cuda())
    return ::testing::AssertionFailure() << "the CUDA CSR is not on the GPU: " << gpu.ptr.describe();
  if (gpu.rows != cpu.rows || gpu.cols != cpu.cols)
    return ::testing::AssertionFailure() << gpu.rows << " x " << gpu.cols << ", expected " << cpu.rows << " x "
                                         << cpu.cols;
  const char* names[3] = {"ptr", "col", "eid"};
  const Tensor* g[3] = {&gpu.ptr, &gpu.col, &gpu.eid};
  const Tensor* c[3] = {&cpu.ptr, &cpu.col, &cpu.eid};
  for (int i = 0; i < 3; ++i) {
    const std::vector<int64_t> a = g[i]->to_vector<int64_t>(), b = c[i]->to_vector<int64_t>();
    if (a.size() != b.size())
      return ::testing::AssertionFailure() << names[i] << " has " << a.size() << " values, expected " << b.size();
    for (size_t k = 0; k < a.size(); ++k)
      if (a[k] != b[k])
        return ::testing::AssertionFailure() << names[i] << "[" << k << "] = " << a[k] << ", expected " << b[k];
  }
  return ::testing::AssertionSuccess();
}

// x on the GPU in layout 0-2 (cuda_parity.h's to_cuda) or 3: contiguous but one element past a
// 16-byte boundary, so that the packed v2 paths must not take it.
Tensor x_on_cuda(const Tensor& x, int layout) {
  if (layout < 3) return to_cuda(x, layout);
  NoGradGuard ng;
  const Tensor flat = to(reshape(contiguous(x), {x.numel()}), Device::cuda());
  Tensor buf = to(full({x.numel() + 1}, NAN, {.dtype = x.dtype()}), Device::cuda());
  copy_(slice(buf, 0, 1, x.numel() + 1), flat);
  return make_view(buf, x.sizes(), contiguous_strides(x.sizes()), 1);
}

std::string layout_name(int layout) {
  static const char* n[4] = {"contiguous", "transposed", "every other", "misaligned"};
  return n[layout];
}

struct GraphCase {
  int64_t rows, cols, E, row_step;
};

const std::vector<GraphCase>& graph_cases() {
  static const std::vector<GraphCase> c = {{1, 1, 0, 1},     {5, 3, 0, 1},       {1, 4, 37, 1},
                                           {7, 7, 100, 1},   {1000, 50, 300, 3}, {300, 300, 5000, 2},
                                           {129, 40, 4000, 5}, {3, 1000, 7000, 1}};
  return c;
}

}  // namespace

class CudaGraph : public CudaParity {};

TEST_P(CudaGraph, CsrFromEdgesEqualsTheCpuExactly) {
  const std::vector<GraphCase> cases = {{1, 1, 0, 1},        {6, 2, 0, 1},          {1, 1, 50, 1},
                                        {7, 9, 100, 1},      {1000, 50, 300, 3},    {300, 300, 5000, 2},
                                        {4097, 129, 100003, 7}, {3, 100000, 70000, 1}, {100000, 10, 1000, 1}};
  for (const GraphCase& c : cases) {
    const uint64_t seed = fresh_seed();
    const Edges e = random_edges(c.rows, c.cols, c.E, c.row_step, seed);
    const std::string what = std::to_string(c.rows) + " x " + std::to_string(c.cols) + ", " + std::to_string(c.E) +
                             " edges, seed " + std::to_string(seed);
    const kernels::Csr cpu = kernels::csr_from_edges(e.row, e.col, c.rows, c.cols);
    EXPECT_TRUE(same_csr(kernels::csr_from_edges(to(e.row, Device::cuda()), to(e.col, Device::cuda()), c.rows, c.cols),
                         cpu))
        << what;
    // strided inputs: rows and columns of a [2, E] edge list stored transposed ([E, 2])
    const Tensor ei = to_cuda(stack({e.row, e.col}, 0), 1);
    EXPECT_TRUE(same_csr(kernels::csr_from_edges(select(ei, 0, 0), select(ei, 0, 1), c.rows, c.cols), cpu))
        << what << ", strided";
  }
  // CsrGraph: both directions, built on the edge list's device
  const uint64_t seed = fresh_seed();
  const Edges e = random_edges(500, 500, 6000, 1, seed);
  const Tensor ei = stack({e.col, e.row}, 0);
  const CsrGraph g = CsrGraph::from_edge_index(ei, 500);
  const CsrGraph gg = CsrGraph::from_edge_index(to(ei, Device::cuda()), 500);
  EXPECT_TRUE(same_csr(gg.by_target(), g.by_target())) << "by target, seed " << seed;
  EXPECT_TRUE(same_csr(gg.by_source(), g.by_source())) << "by source, seed " << seed;
}

TEST_P(CudaGraph, SpmmMatchesCpu) {
  for (DType dt : {kFloat32, kFloat64}) {
    for (const GraphCase& c : graph_cases()) {
      for (const Shape& fshape : std::vector<Shape>{{1}, {3}, {33}, {128}, {3, 5}}) {
        for (int layout : {0, 1, 2, 3}) {
          for (bool weighted : {false, true}) {
            const uint64_t seed = fresh_seed();
            const Edges e = random_edges(c.rows, c.cols, c.E, c.row_step, seed);
            Shape xs = {c.cols};
            xs.insert(xs.end(), fshape.begin(), fshape.end());
            const Tensor x = random_cpu(xs, dt, seed + 1);
            const Tensor w = weighted ? random_cpu({c.E}, dt, seed + 2) : Tensor();
            const std::string what = "spmm " + std::to_string(c.rows) + " x " + shape_str(xs) + " " +
                                     std::to_string(c.E) + " edges " + std::string(dtype_name(dt)) + " " +
                                     layout_name(layout) + (weighted ? " weighted" : "");
            const kernels::Csr a = kernels::csr_from_edges(e.row, e.col, c.rows, c.cols);
            const kernels::Csr ag =
                kernels::csr_from_edges(to(e.row, Device::cuda()), to(e.col, Device::cuda()), c.rows, c.cols);
            const Tensor y = kernels::spmm(a, w, x);
            const Tensor yg = kernels::spmm(ag, weighted ? to_cuda(w, 0) : Tensor(), x_on_cuda(x, layout));
            ASSERT_EQ(yg.sizes(), y.sizes()) << what;
            // the same additions in the same order (fma for weighted terms): equal up to the
            // CPU compiler's choice of contraction, whose rounding differences grow with the
            // row's length (thousands of terms in the long-row cases)
            EXPECT_CUDA_CLOSE(yg, y, rtol_for(dt), dt == kFloat32 ? 1e-5 : 1e-12, seed, what);
          }
        }
      }
    }
  }
}

TEST_P(CudaGraph, SddmmMatchesCpu) {
  for (DType dt : {kFloat32, kFloat64}) {
    for (const GraphCase& c : graph_cases()) {
      for (int64_t F : {1, 3, 33, 128}) {
        for (int layout : {0, 1, 2, 3}) {
          const uint64_t seed = fresh_seed();
          const Edges e = random_edges(c.rows, c.cols, c.E, c.row_step, seed);
          const Tensor lhs = random_cpu({c.rows, F}, dt, seed + 1), rhs = random_cpu({c.cols, F}, dt, seed + 2);
          const std::string what = "sddmm " + std::to_string(c.rows) + " x " + std::to_string(c.cols) + " F " +
                                   std::to_string(F) + " " + std::to_string(c.E) + " edges " +
                                   std::string(dtype_name(dt)) + " " + layout_name(layout);
          const kernels::Csr a = kernels::csr_from_edges(e.row, e.col, c.rows, c.cols);
          const kernels::Csr ag =
              kernels::csr_from_edges(to(e.row, Device::cuda()), to(e.col, Device::cuda()), c.rows, c.cols);
          const Tensor y = kernels::sddmm(a, lhs, rhs);
          const Tensor yg = kernels::sddmm(ag, x_on_cuda(lhs, layout), x_on_cuda(rhs, 3 - layout));
          ASSERT_EQ(yg.sizes(), y.sizes()) << what;
          // both sum in double (in other orders) and round once
          EXPECT_CUDA_CLOSE(yg, y, rtol_for(dt), atol_for(dt), seed, what);
        }
      }
    }
  }
}

TEST_P(CudaGraph, SegmentMaxEqualsTheCpuExactly) {
  for (DType dt : {kFloat32, kFloat64}) {
    for (const GraphCase& c : graph_cases()) {
      for (int64_t F : {1, 3, 33, 128}) {
        for (int layout : {0, 1, 2, 3}) {
          const uint64_t seed = fresh_seed();
          const Edges e = random_edges(c.rows, c.cols, c.E, c.row_step, seed);
          // few distinct values (ties: the first in entry order wins), some NaN and -inf
          std::mt19937_64 g(seed + 1);
          std::vector<double> xv(c.cols * F);
          for (double& v : xv) {
            const uint64_t u = g() % 64;
            v = u == 0 ? NAN : u == 1 ? -INFINITY : static_cast<double>(static_cast<int64_t>(u % 7) - 3);
          }
          const Tensor x = to(from_vector(xv, {c.cols, F}), dt);
          const std::string what = "segment_max " + std::to_string(c.rows) + " x " + std::to_string(c.cols) + " F " +
                                   std::to_string(F) + " " + std::to_string(c.E) + " edges " +
                                   std::string(dtype_name(dt)) + " " + layout_name(layout) + ", seed " +
                                   std::to_string(seed);
          const kernels::Csr a = kernels::csr_from_edges(e.row, e.col, c.rows, c.cols);
          const kernels::Csr ag =
              kernels::csr_from_edges(to(e.row, Device::cuda()), to(e.col, Device::cuda()), c.rows, c.cols);
          const auto [m, i] = kernels::segment_max(a, x);
          const auto [mg, ig] = kernels::segment_max(ag, x_on_cuda(x, layout));
          EXPECT_TRUE(exactly_equal(mg, m)) << what << ": values";
          EXPECT_EQ(ig.to_vector<int64_t>(), i.to_vector<int64_t>()) << what << ": indices";
        }
      }
    }
  }
}

namespace {

// A [2, E] edge list on n nodes with self-loops (some repeated), duplicate edges and the last
// `isolated` nodes untouched.
Tensor gcn_edges(int64_t n, int64_t E, int64_t isolated, uint64_t seed) {
  std::mt19937_64 g(seed);
  const uint64_t m = static_cast<uint64_t>(n - isolated);
  std::vector<int64_t> v(2 * E);
  for (int64_t e = 0; e < E; ++e) {
    v[e] = static_cast<int64_t>(g() % m);
    v[E + e] = g() % 8 == 0 ? v[e] : static_cast<int64_t>(g() % m);
  }
  return from_vector(v, {2, E});
}

Tensor leaf(const Tensor& t) {
  Tensor l = t.detach();
  l.requires_grad_(true);
  return l;
}

Tensor leaf_cuda(const Tensor& t) {
  NoGradGuard ng;
  return leaf(to(t, Device::cuda()));
}

double rtol_e2e(DType dt) { return dt == kFloat32 ? 1e-4 : 1e-10; }
double atol_e2e(DType dt) { return dt == kFloat32 ? 1e-5 : 1e-12; }

}  // namespace

TEST_P(CudaGraph, GcnConvForwardAndBackwardMatchCpu) {
  struct Case {
    bool weighted;
    nn::GCNConvOptions o;
  };
  for (DType dt : {kFloat32, kFloat64}) {
    const std::vector<Case> cases = {{false, {.dtype = dt}},
                                     {true, {.dtype = dt}},
                                     {true, {.improved = true, .dtype = dt}},
                                     {false, {.add_self_loops = false, .dtype = dt}},
                                     {true, {.normalize = false, .dtype = dt}},
                                     {false, {.cached = true, .dtype = dt}}};
    for (size_t ci = 0; ci < cases.size(); ++ci) {
      const Case& c = cases[ci];
      const uint64_t seed = fresh_seed();
      const std::string what = "GCNConv case " + std::to_string(ci) + " " + std::string(dtype_name(dt));
      const int64_t n = 301, E = 2400, in = 33, out = 16;
      nn::GCNConv cpu(in, out, c.o);
      nn::init::uniform_(cpu.bias, -1, 1);
      nn::GCNConv gpu(in, out, c.o);
      gpu.load_state_dict(cpu.state_dict());
      gpu.to(Device::cuda());
      const Tensor ei = gcn_edges(n, E, 5, seed);
      const Tensor x = leaf(random_cpu({n, in}, dt, seed + 1));
      const Tensor w = c.weighted ? leaf(random_cpu({E}, dt, seed + 2, 0.1, 2)) : Tensor();
      const Tensor gy = random_cpu({n, out}, dt, seed + 3);
      const Tensor xg = leaf_cuda(x), wg = c.weighted ? leaf_cuda(w) : Tensor();
      const Tensor eig = to(ei, Device::cuda());
      const int calls = c.o.cached ? 2 : 1;  // cached: the second call reuses the graph
      for (int call = 0; call < calls; ++call) {
        const Tensor y = cpu.forward(x, ei, w);
        const Tensor yg = gpu.forward(xg, eig, wg);
        ASSERT_TRUE(yg.device().is_cuda()) << what;
        EXPECT_CUDA_CLOSE(yg, y, rtol_e2e(dt), atol_e2e(dt), seed, what + " forward, call " + std::to_string(call));
        sum(mul(y, gy)).backward();
        sum(mul(yg, to(gy, Device::cuda()))).backward();
      }
      EXPECT_CUDA_CLOSE(xg.grad(), x.grad(), rtol_e2e(dt), atol_e2e(dt), seed, what + " x.grad");
      if (c.weighted) {
        EXPECT_CUDA_CLOSE(wg.grad(), w.grad(), rtol_e2e(dt), atol_e2e(dt), seed, what + " weight grad");
      }
      EXPECT_CUDA_MATCHES(gpu.lin->weight.grad(), cpu.lin->weight.grad(), dt == kFloat32 ? 1e-5 : 1e-12, seed,
                          what + " lin.weight.grad");
      EXPECT_CUDA_MATCHES(gpu.bias.grad(), cpu.bias.grad(), dt == kFloat32 ? 1e-5 : 1e-12, seed,
                          what + " bias.grad");
    }
  }
}

TEST_P(CudaGraph, PoolingForwardAndBackwardMatchCpu) {
  const int64_t N = 1000, B = 9;
  for (DType dt : {kFloat32, kFloat64}) {
    for (const Shape& fshape : std::vector<Shape>{{1}, {33}, {128}}) {
      const uint64_t seed = fresh_seed();
      // unsorted batch; graphs 2 and 7 empty
      std::mt19937_64 g(seed);
      std::vector<int64_t> bv(N);
      for (int64_t& b : bv) {
        do b = static_cast<int64_t>(g() % B);
        while (b == 2 || b == 7);
      }
      const Tensor batch = from_vector(bv, {N}), batch_g = to(batch, Device::cuda());
      Shape xs = {N};
      xs.insert(xs.end(), fshape.begin(), fshape.end());
      Shape ys = xs;
      ys[0] = B;
      const std::string base = std::string(dtype_name(dt)) + " " + shape_str(xs);
      struct Pool {
        const char* name;
        Tensor (*f)(const Tensor&, const Tensor&, int64_t);
      };
      for (const Pool& p : {Pool{"global_add_pool", nn::global_add_pool}, Pool{"global_mean_pool", nn::global_mean_pool},
                            Pool{"global_max_pool", nn::global_max_pool}}) {
        const std::string what = std::string(p.name) + " " + base;
        const Tensor x = leaf(random_cpu(xs, dt, seed + 1)), xg = leaf_cuda(x);
        const Tensor gy = random_cpu(ys, dt, seed + 2);
        const Tensor y = p.f(x, batch, B), yg = p.f(xg, batch_g, B);
        EXPECT_CUDA_CLOSE(yg, y, rtol_for(dt), atol_for(dt), seed, what);
        sum(mul(y, gy)).backward();
        sum(mul(yg, to(gy, Device::cuda()))).backward();
        EXPECT_CUDA_CLOSE(xg.grad(), x.grad(), rtol_for(dt), atol_for(dt), seed, what + " backward");
      }
      // the arg max of each (graph, feature), -1 for the empty graphs
      const Tensor x = random_cpu(xs, dt, seed + 3);
      EXPECT_EQ(segment_max(to(x, Device::cuda()), batch_g, B).second.to_vector<int64_t>(),
                segment_max(x, batch, B).second.to_vector<int64_t>())
          << "segment_max " << base << ", seed " << seed;
      // the number of graphs inferred on the device; no batch: one graph
      EXPECT_CUDA_CLOSE(nn::global_add_pool(to(x, Device::cuda()), batch_g), nn::global_add_pool(x, batch),
                        rtol_for(dt), atol_for(dt), seed, "global_add_pool inferred " + base);
      EXPECT_CUDA_CLOSE(nn::global_mean_pool(to(x, Device::cuda())), nn::global_mean_pool(x), rtol_for(dt),
                        atol_for(dt), seed, "global_mean_pool no batch " + base);
      // attention pooling (segment softmax of the gate), forward and backward
      if (fshape[0] == 33) {
        const Tensor gate = leaf(random_cpu({N, 1}, dt, seed + 4)), gate_g = leaf_cuda(gate);
        const Tensor h = leaf(random_cpu(xs, dt, seed + 5)), h_g = leaf_cuda(h);
        const Tensor gy = random_cpu(ys, dt, seed + 6);
        const Tensor y = nn::attention_pool(gate, h, batch, B), yg = nn::attention_pool(gate_g, h_g, batch_g, B);
        EXPECT_CUDA_CLOSE(yg, y, 1e2 * rtol_for(dt), atol_for(dt), seed, "attention_pool " + base);
        sum(mul(y, gy)).backward();
        sum(mul(yg, to(gy, Device::cuda()))).backward();
        EXPECT_CUDA_CLOSE(gate_g.grad(), gate.grad(), 1e2 * rtol_for(dt), 1e2 * atol_for(dt), seed,
                          "attention_pool gate grad " + base);
        EXPECT_CUDA_CLOSE(h_g.grad(), h.grad(), 1e2 * rtol_for(dt), atol_for(dt), seed,
                          "attention_pool features grad " + base);
      }
    }
  }
}

TEST_P(CudaGraph, CudaErrorsAreTheCpuErrors) {
  const auto cuda = [](const Tensor& t) { return to(t, Device::cuda()); };
  const auto ei_of = [](std::vector<int64_t> src, const std::vector<int64_t>& tgt) {
    const int64_t E = static_cast<int64_t>(src.size());
    src.insert(src.end(), tgt.begin(), tgt.end());
    return from_vector(src, {2, E});
  };
  nn::GCNConv conv(3, 2);
  conv.to(Device::cuda());
  const Tensor x = cuda(zeros({4, 3}));
  EXPECT_THROW_MSG(conv(x, cuda(ei_of({0, 1, 2}, {1, 4, 0}))), "edge_index[1][1] = 4 is out of range for num_nodes = 4");
  EXPECT_THROW_MSG(conv(x, cuda(ei_of({0, -1}, {1, 2}))), "edge_index[0][1] = -1 is out of range for num_nodes = 4");
  EXPECT_THROW_MSG(CsrGraph::from_edge_index(cuda(ei_of({0}, {9})), 3),
                   "edge_index[1][0] = 9 is out of range for num_nodes = 3");
  EXPECT_THROW_MSG(nn::global_mean_pool(cuda(zeros({4, 2})), cuda(from_vector(std::vector<int64_t>{0, 1, 5, 0}, {4})), 3),
                   "global_mean_pool: batch[2] = 5 is out of range for num_graphs = 3");
  EXPECT_THROW_MSG(nn::global_max_pool(cuda(zeros({4, 2})), cuda(from_vector(std::vector<int64_t>{0, -1, 0, 0}, {4}))),
                   "batch[1] = -1 is out of range");
  // a graph built on the CPU does not take CUDA features, nor the reverse
  const CsrGraph g = CsrGraph::from_edge_index(ei_of({0, 1}, {1, 2}), 4);
  EXPECT_THROW_MSG(spmm(g, x), "is not on the graph's device cpu");
  EXPECT_THROW_MSG(nn::global_add_pool(x, from_vector(std::vector<int64_t>{0, 0, 1, 1}, {4})), "must be on one device");
}

FM_CUDA_PARITY_SUITE(CudaGraph);
