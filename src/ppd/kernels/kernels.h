// CPU kernels of the forward pass: element-wise operations, matmul, paged attention.
// Each kernel has a scalar reference and an AVX2/FMA path; the path is chosen at run time
// (best_kernel_path()) and can be forced for tests. Kernels are pure functions of their
// arguments; those taking a ThreadPool split work across it and must be called from one
// thread at a time per pool.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "ppd/common/dtype.h"
#include "ppd/common/status.h"
#include "ppd/common/thread_pool.h"
#include "ppd/kv/kv_layout.h"

namespace ppd::kernels {

enum class KernelPath { kScalar, kAvx2 };

// Returns kAvx2 when the CPU has AVX2, FMA and F16C, else kScalar.
KernelPath best_kernel_path();
std::string_view kernel_path_name(KernelPath path);
// Parses "auto", "scalar" or "avx2"; "avx2" on a CPU without it is an error.
Result<KernelPath> parse_kernel_path(std::string_view name);

// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i], for one row of `dim` floats.
// `out` may alias `x`.
void rmsnorm(KernelPath path, const float* x, const float* weight, float eps, int dim, float* out);

// Rotary embedding in the HF rotate-half layout, in place, on `num_heads` heads of
// `head_dim` floats laid out back to back. cos_sin: [head_dim/2 cos][head_dim/2 sin] for
// this token's position. REQUIRES: head_dim even.
void rope(KernelPath path, float* x, int num_heads, int head_dim, const float* cos_sin);

// out[i] = silu(gate[i]) * up[i]. `out` may alias `gate`.
void silu_mul(KernelPath path, const float* gate, const float* up, int n, float* out);

// y[i] += x[i].
void add_inplace(KernelPath path, float* y, const float* x, int n);

// A weight matrix [n][k] as matmul reads it: rows of weight_row_bytes(format, k) bytes back to
// back. A plain float pointer converts to an F32 reference.
struct WeightRef {
  const void* data = nullptr;
  WeightFormat format = WeightFormat::kF32;

  WeightRef() = default;
  WeightRef(const float* f32) : data(f32) {}  // NOLINT(google-explicit-constructor): F32 by default
  WeightRef(const void* bytes, WeightFormat f) : data(bytes), format(f) {}
  const uint8_t* bytes() const { return static_cast<const uint8_t*>(data); }
};

// y[M][N] = x[M][K] · w[N][K]^T (+ bias[N] when not null); row-major, leading dimensions
// equal to the row lengths; w in any WeightFormat (converted to float in registers, or, on the
// sgemm path, a block of rows at a time into a per-thread buffer). M <= skinny_matmul_max_rows()
// goes through a hand-written kernel that streams w once, split by output column over the
// pool's threads; there (AVX2 path) a row's result is bitwise independent of M and of the
// other rows. Larger M goes through OpenBLAS sgemm, split by output column over the pool's
// threads. Mutates only y. REQUIRES: m, n, k >= 0; y does not alias x, w or bias; k % 32 == 0
// for Q8_0 weights.
struct MatmulArgs {
  const float* x = nullptr;     // [m][k]
  WeightRef w;                  // [n][k]
  const float* bias = nullptr;  // [n] or null
  float* y = nullptr;           // [m][n]
  int m = 0;
  int n = 0;
  int k = 0;
};
void matmul(KernelPath path, const MatmulArgs& args, ThreadPool& pool);

// Sets the number of threads OpenBLAS uses inside one call (process-wide in OpenBLAS
// itself). The engine sets 1: its pool does the threading (see matmul).
void set_blas_threads(int num_threads);
// Returns OpenBLAS's current thread count.
int blas_threads();

// Largest M that matmul sends to the hand-written kernel (above it: OpenBLAS). Process-wide,
// like OpenBLAS's own kernel choice; starts at default_skinny_matmul_max_rows(blas_core_name()).
int skinny_matmul_max_rows();
// Sets it (benchmarks and tests compare both sides of the crossover in one process).
// REQUIRES: rows >= 0; no matmul runs concurrently.
void set_skinny_matmul_max_rows(int rows);

// The measured crossover for OpenBLAS's `blas_core` kernels (kernels_bench; see decision
// record 0002). With its AVX2 kernels ("Haswell", "Zen") on Zen 4 the skinny kernel leads or
// ties sgemm up to M = 96 on every shape of the presets: 96. With its AVX-512 ones
// ("SkylakeX", "Cooperlake", "SapphireRapids"; Xeon family 6 model 207, one thread) the two
// tie up to M = 32 over a step of the small preset's weights and sgemm leads from 40 (the
// step's matmuls take 0.82 times as long at 40 and 48 rows, 0.66 at 64 and 96;
// BM_StepMatmulsCrossover): 32. Other cores (an SSE fallback) keep 96. Pure.
int default_skinny_matmul_max_rows(std::string_view blas_core);

// One sequence's slice of a batched attention call. Query tokens are at positions
// first_position .. first_position + num_query_tokens - 1 and attend causally to keys
// 0 .. their own position, read through the block table. REQUIRES: the K/V of every
// attended position is already in the cache (write_kv ran for this step's tokens).
struct AttentionSequence {
  const int32_t* block_table = nullptr;  // [ceil((first_position + num_query_tokens) / block_size)]
  int first_position = 0;
  int num_query_tokens = 0;
  int first_row = 0;  // row of its first query token in q / out
};

struct AttentionArgs {
  kv::KvLayout layout;
  const uint8_t* kv_base = nullptr;  // the cache's block pool (values of layout.dtype)
  int layer = 0;
  const float* q = nullptr;  // [num_rows][q_row_stride], heads at q[row*stride + h*head_dim]
  int q_row_stride = 0;      // floats
  float* out = nullptr;      // [num_rows][num_heads * head_dim]
  float scale = 0.0f;        // usually 1/sqrt(head_dim)
  std::span<const AttentionSequence> sequences;
};

// Grouped-query causal attention over paged KV, for every sequence in args.sequences; writes
// out rows [first_row, first_row + num_query_tokens) of each, nothing else. Work items
// (sequence × kv head × query tile) are spread over the pool. The result of a query row does
// not depend on which other rows or sequences share the call, nor on the thread count.
// The AVX2 path needs head_dim % 8 == 0 and block_size % 8 == 0; other shapes run the scalar
// kernel. F16 and BF16 slabs are widened to floats one block at a time (exactly), so a row's
// result is the F32 kernel's on the rounded values. Unwritten cache slots (even NaN) beyond a query's position are
// never used. REQUIRES: num_heads % num_kv_heads == 0; q_row_stride >= num_heads * head_dim.
void attention(KernelPath path, const AttentionArgs& args, ThreadPool& pool);

// Writes one token's K and V (each [num_kv_heads * head_dim]) for `layer` into `slot` of
// block `block`: K transposed into column `slot` of each K slab, V as row `slot` of each V
// slab, rounded to layout.dtype. Mutates only those values. REQUIRES: 0 <= slot < block_size.
void write_kv(const kv::KvLayout& layout, uint8_t* kv_base, int32_t block, int slot, int layer, const float* k,
              const float* v);

}  // namespace ppd::kernels
