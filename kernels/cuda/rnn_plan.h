#pragma once
// The host side of the CUDA LSTM/GRU (kernels/cuda/rnn.cpp, rnn.cu), in plain C++ so that it is
// unit-tested without a GPU (tests/kernels/rnn_cuda_plan_test.cpp): which forward path runs,
// how the persistent kernel splits the hidden units over its blocks and its shared memory, the
// arguments it takes, and the partial sums of the bias gradients.
//
// Forward paths:
//   * Steps (v1, every dtype): the input projections of all steps in one cuBLAS GEMM, then per
//     step one cuBLAS GEMM h_{t-1} @ W_hh^T and one fused gate kernel.
//   * Persistent (v2, float32): after the same input GEMM, ONE cooperative launch runs the whole
//     sequence, both directions at once. Direction d owns blocks [d*B, (d+1)*B); block b of a
//     direction owns hidden units [b*U, min((b+1)*U, H)) and keeps the G*U rows of W_hh that
//     feed them in shared memory for all steps. Per step each block stages h_{t-1} [N, H] in
//     shared memory, forms its G*U x N slice of h_{t-1} @ W_hh^T (a warp per row and group of
//     kRnnBatchGroup batch rows, lanes splitting H), applies the gates of its units (the cell
//     state is read back by the thread that wrote it) and writes h_t; a grid-wide barrier
//     separates the steps. At most one block per multiprocessor, so all blocks are co-resident.
//   rnn_forward_plan falls back to Steps for float64, variant 1, devices without cooperative
//   launch, batches over kRnnPersistentMaxBatch, and when a block's slice of W_hh plus h_{t-1}
//   does not fit in the shared memory one block may opt in to. The caller also falls back when
//   the occupancy query (cudaOccupancyMaxActiveBlocksPerMultiprocessor) or the cooperative
//   launch itself says the grid cannot be co-resident (rnn_persistent_fits).
#include <algorithm>
#include <cstdint>

namespace fm::kernels::cuda {

// What the plan needs to know of the device (cudaDeviceProp's fields of the same meaning).
struct RnnDeviceInfo {
  int64_t sms = 0;                   // multiProcessorCount
  int64_t smem_per_block_optin = 0;  // sharedMemPerBlockOptin, bytes
  bool cooperative = false;          // cooperativeLaunch
};

enum class RnnForwardPath { Steps, Persistent };

// Batch rows one warp of the persistent kernel multiplies against each weight row it reads.
constexpr int64_t kRnnBatchGroup = 4;
// Largest batch the persistent kernel takes: beyond it a step's product is a GEMM that cuBLAS
// runs well, and h_{t-1} grows out of shared memory.
constexpr int64_t kRnnPersistentMaxBatch = 64;
constexpr int kRnnPersistentThreads = 256;

struct RnnForwardPlan {
  RnnForwardPath path = RnnForwardPath::Steps;
  const char* why = "";          // the reason for Steps (for tests and messages)
  int64_t units = 0;             // U: hidden units per block (the last block of a direction may have fewer)
  int64_t blocks_per_dir = 0;    // B = ceil(H / U)
  int64_t blocks = 0;            // D * B
  int threads = kRnnPersistentThreads;
  int64_t smem_bytes = 0;        // dynamic shared memory per block
};

// Shared memory of one persistent block, in floats: W_hh rows [G*U, H], h_{t-1} [N, H] and the
// block's recurrent products [N, G*U].
inline int64_t rnn_persistent_smem_floats(int64_t G, int64_t U, int64_t H, int64_t N) {
  return G * U * H + N * H + N * G * U;
}

// G gates per unit (4 LSTM, 3 GRU), D directions (1 or 2).
inline RnnForwardPlan rnn_forward_plan(int64_t G, int64_t T, int64_t N, int64_t H, int64_t D, bool float32, bool v2,
                                       const RnnDeviceInfo& dev) {
  RnnForwardPlan p;
  if (!v2) return p.why = "variant 1", p;
  if (!float32) return p.why = "float64 runs v1", p;
  if (T <= 0 || N <= 0 || H <= 0 || D < 1 || D > 2) return p.why = "empty", p;
  if (!dev.cooperative) return p.why = "no cooperative launch", p;
  if (N > kRnnPersistentMaxBatch) return p.why = "batch too large", p;
  const int64_t per_dir = dev.sms / D;  // one block per multiprocessor
  if (per_dir < 1) return p.why = "too few multiprocessors", p;
  const int64_t U = (H + per_dir - 1) / per_dir;
  const int64_t bytes = rnn_persistent_smem_floats(G, U, H, N) * int64_t{sizeof(float)};
  if (bytes > dev.smem_per_block_optin) return p.why = "W_hh slice and h do not fit in shared memory", p;
  p.path = RnnForwardPath::Persistent;
  p.units = U;
  p.blocks_per_dir = (H + U - 1) / U;
  p.blocks = D * p.blocks_per_dir;
  p.smem_bytes = bytes;
  return p;
}

// Whether the planned grid is co-resident: the occupancy query's blocks per multiprocessor
// times the multiprocessors cover every block.
inline bool rnn_persistent_fits(const RnnForwardPlan& p, int64_t active_blocks_per_sm, int64_t sms) {
  return p.path == RnnForwardPath::Persistent && active_blocks_per_sm >= 1 && active_blocks_per_sm * sms >= p.blocks;
}

// One direction's buffers for the persistent kernel (float32, contiguous, on the device).
struct RnnPersistentDir {
  float* gates = nullptr;        // [T, N, G*H]: in, X W_ih^T without biases; out, activated gates
  float* cells = nullptr;        // LSTM [T, N, H]
  float* hn = nullptr;           // GRU [T, N, H]: W_hn h_{t-1} + b_hn
  float* y = nullptr;            // this direction's first column of the output (ld ldy)
  const float* w_hh = nullptr;   // [G*H, H]
  const float* b_ih = nullptr;   // [G*H] or null
  const float* b_hh = nullptr;   // [G*H] or null
  const float* h0 = nullptr;     // [N, H] or null (zeros)
  const float* c0 = nullptr;     // LSTM [N, H] or null (zeros)
  bool reverse = false;          // runs t = T-1 down to 0
};

struct RnnPersistentArgs {
  RnnPersistentDir dir[2];
  int64_t T = 0, N = 0, H = 0, ldy = 0;
  int64_t units = 0, blocks_per_dir = 0;
  bool lstm = true;
};

// The bias gradients are column sums of dG [rows, cols] in double: `parts` partial sums per
// column over fixed row ranges, then added in order (no atomics: the result does not depend on
// scheduling). Row range of part p: [p*rows/parts, (p+1)*rows/parts).
inline int64_t rnn_column_sum_parts(int64_t rows) { return std::clamp<int64_t>(rows / 64, 1, 128); }

}  // namespace fm::kernels::cuda
