// Internal entry points of the kernels library: the per-path implementations behind the
// dispatching functions of kernels.h, exposed for tests and benchmarks. Not part of the
// public API. The avx2:: functions may only be called when best_kernel_path() == kAvx2.
// All functions are pure with respect to their arguments; none keeps state between calls.
#pragma once

#include <cstdint>
#include <vector>

#include "ppd/kernels/kernels.h"

namespace ppd::kernels {

// One unit of attention work: query tokens [first_query, first_query + num_queries) of one
// sequence (indices relative to its first query token), for all query heads of one kv head.
struct AttentionWorkItem {
  int sequence = 0;
  int kv_head = 0;
  int first_query = 0;
  int num_queries = 0;
};

// Per-thread scratch of the attention kernels, sized for one work item.
struct AttentionScratch {
  std::vector<float> acc;       // [num_query_vectors][head_dim]
  std::vector<float> scores;    // [num_query_vectors][block_size]
  std::vector<float> max;       // [num_query_vectors] running max of the scaled scores
  std::vector<float> sum;       // [num_query_vectors] running sum of exp(score - max)
  std::vector<float> alpha;     // [num_query_vectors] this block's rescale of acc
  std::vector<const float*> q;  // [num_query_vectors] -> [head_dim]
  std::vector<float> k_block;   // [head_dim][block_size]: one K slab widened (F16/BF16 KV only)
  std::vector<float> v_block;   // [block_size][head_dim]: one V slab widened
};

// x rows quantized for Q8_0 weights, per block of 32 values: d = max|x| / 127 (a float, not
// rounded to F16) and q = x / d rounded to nearest even, in [-127, 127]. A block of zeros has
// d = 0; a block holding a non-finite value has d = NaN and q = 0, so its rows' results are NaN.
struct Q8Activations {
  const int8_t* q = nullptr;  // [m][k]
  const float* d = nullptr;   // [m][k / 32]
};

// The Q8_0 skinny matmul's result, on every path and every dot instruction (integer sums are
// exact): y[i][j] = hsum(acc) + bias[j], where for each block b in order and each lane
// l = 0..7, acc[l] = fma(float(sum over t < 4 of xq[32b+4l+t] * wq[32b+4l+t]), d_w[b] * d_x[b],
// acc[l]), and hsum = ((acc0+acc4) + (acc2+acc6)) + ((acc1+acc5) + (acc3+acc7)) in floats.

namespace internal {

// Quantizes the m rows of x ([m][k], k % 32 == 0) into q ([m][k]) and d ([m][k / 32]).
void quantize_activations_q8(const float* x, int m, int k, int8_t* q, float* d);

// Query rows per attention work item for a GQA group of `group_size` query heads: enough
// query vectors (rows x heads) to reuse each K/V block, few enough to stay in L1.
int attention_tile_rows(int group_size);

// Splits the call into work items (sequence x kv head x query tile), longest first, with
// tiles small enough that `num_threads` threads all get work.
std::vector<AttentionWorkItem> plan_attention(const AttentionArgs& args, int num_threads);

// The slab at `slab` as floats: itself for F32 KV, else widened into `buffer` (exactly; with
// the AVX2 path's conversion when `path` says so).
const float* slab_floats(KernelPath path, const kv::KvLayout& layout, const uint8_t* slab, std::vector<float>& buffer);

// Multithreaded skinny matmul (any m; the public matmul uses it for m <= skinny_matmul_max_rows()).
void skinny_matmul(KernelPath path, const MatmulArgs& args, ThreadPool& pool);
// cblas_sgemm split by output columns over the pool's threads, each call single-threaded
// inside OpenBLAS when set_blas_threads(1) (as the engine sets it).
// Non-F32 weights are decoded a block of rows at a time (AVX2 or scalar, as `path` says).
void blas_matmul(KernelPath path, const MatmulArgs& args, ThreadPool& pool);

}  // namespace internal

namespace scalar {
void rmsnorm(const float* x, const float* weight, float eps, int dim, float* out);
void rope(float* x, int num_heads, int head_dim, const float* cos_sin);
void silu_mul(const float* gate, const float* up, int n, float* out);
void add_inplace(float* y, const float* x, int n);
// Output columns [n_begin, n_end) of y for all m rows.
void skinny_matmul(const MatmulArgs& args, int n_begin, int n_end);
void attention_item(const AttentionArgs& args, const AttentionWorkItem& item, AttentionScratch& scratch);
// Output columns [n_begin, n_end) of a Q8_0 matmul on x quantized into `xq` (args.x unused).
void skinny_matmul_q8(const MatmulArgs& args, const Q8Activations& xq, int n_begin, int n_end);
}  // namespace scalar

namespace avx2 {
void rmsnorm(const float* x, const float* weight, float eps, int dim, float* out);
void rope(float* x, int num_heads, int head_dim, const float* cos_sin);
void silu_mul(const float* gate, const float* up, int n, float* out);
void add_inplace(float* y, const float* x, int n);
// Output columns [n_begin, n_end) of y for all m rows, w in F32, F16 or BF16 (Q8_0: see
// skinny_matmul_q8). Each y element is one 8-lane FMA accumulator over k in order (masked
// tail), reduced by hsum_ps, plus bias: independent of m and of the column range.
void skinny_matmul(const MatmulArgs& args, int n_begin, int n_end);
// ppd::decode_weight_row, vectorized; bitwise the same result.
void decode_weight_row(WeightFormat format, const uint8_t* src, int64_t k, float* dst);
// REQUIRES: head_dim % 8 == 0 and block_size % 8 == 0.
void attention_item(const AttentionArgs& args, const AttentionWorkItem& item, AttentionScratch& scratch);
// scalar::skinny_matmul_q8, bitwise, with vpmaddubsw/vpmaddwd.
void skinny_matmul_q8(const MatmulArgs& args, const Q8Activations& xq, int n_begin, int n_end);
}  // namespace avx2

// scalar::skinny_matmul_q8, bitwise, with vpdpbusd. May only be called when
// detect_cpu_features() reports avx_vnni (respectively avx512_vnni).
namespace avxvnni {
void skinny_matmul_q8(const MatmulArgs& args, const Q8Activations& xq, int n_begin, int n_end);
}  // namespace avxvnni
namespace avx512vnni {
void skinny_matmul_q8(const MatmulArgs& args, const Q8Activations& xq, int n_begin, int n_end);
}  // namespace avx512vnni

}  // namespace ppd::kernels
