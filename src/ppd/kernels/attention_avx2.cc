// AVX2/FMA paged attention for one work item (sequence × kv head × query tile): per key block,
// scores for up to 6 query vectors × 16 keys at a time (broadcast q[d] × K-slab row d, summed
// over d in order), then per query vector a masked online-softmax update with the vectorized
// exp and out += p × V rows (up to 3 query vectors with the same keys share the V loads).
// Every query vector's arithmetic depends only on its own q, the
// block data and its own position: row results do not depend on the tile (tested bitwise).
// REQUIRES: head_dim % 8 == 0, block_size % 8 == 0 (kernels.cc falls back to scalar otherwise).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "ppd/kernels/kernels_internal.h"
#include "ppd/kernels/vec_math_avx2.h"

namespace ppd::kernels::avx2 {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Query vectors per score pass: 6 × 2 key chunks = 12 independent FMA chains (12 accumulators,
// 2 K rows and a broadcast fit the 16 ymm registers).
constexpr int kScoreGroup = 6;

// Lines of the next block's slab still to prefetch, one per step of an inner loop, so that the
// misses overlap the arithmetic (see attention_item).
struct PrefetchCursor {
  const uint8_t* next = nullptr;
  const uint8_t* end = nullptr;

  void step() {
    if (next < end) {
      __builtin_prefetch(next, 0, 3);
      next += 64;
    }
  }
};

struct BlockView {
  const float* k_slab;  // [head_dim][block_size]
  const float* v_slab;  // [block_size][head_dim]
  int head_dim;
  int block_size;
  PrefetchCursor* prefetch;
};

// scores[qi][key0 .. key0 + 8*NC) = scale * sum_d q[qi][d] * K[d][key], for NQ query vectors.
template <int NQ, int NC>
void score_chunk(const BlockView& b, const float* const* q, int key0, float scale, float* scores /*[NQ][block_size]*/) {
  __m256 acc[NQ][NC];
  unroll<NQ>([&](auto i) { unroll<NC>([&](auto c) { acc[i][c] = _mm256_setzero_ps(); }); });
  const float* k = b.k_slab + key0;
  for (int d = 0; d < b.head_dim; ++d) {
    b.prefetch->step();
    __m256 kv[NC];
    unroll<NC>([&](auto c) { kv[c] = _mm256_loadu_ps(k + int64_t{d} * b.block_size + 8 * c); });
    unroll<NQ>([&](auto i) {
      const __m256 qd = _mm256_broadcast_ss(q[i] + d);
      unroll<NC>([&](auto c) { acc[i][c] = _mm256_fmadd_ps(qd, kv[c], acc[i][c]); });
    });
  }
  const __m256 s = _mm256_set1_ps(scale);
  unroll<NQ>([&](auto i) {
    unroll<NC>(
        [&](auto c) { _mm256_storeu_ps(scores + i * b.block_size + key0 + 8 * c, _mm256_mul_ps(acc[i][c], s)); });
  });
}

template <int NQ>
void score_group(const BlockView& b, const float* const* q, float scale, float* scores) {
  int key0 = 0;
  for (; key0 + 16 <= b.block_size; key0 += 16) score_chunk<NQ, 2>(b, q, key0, scale, scores);
  if (key0 < b.block_size) score_chunk<NQ, 1>(b, q, key0, scale, scores);
}

// Scores of `count` query vectors, grouped by kScoreGroup (grouping does not change results).
void block_scores(const BlockView& b, const float* const* q, int count, float scale,
                  float* scores /*[count][block_size]*/) {
  int i = 0;
  for (; i + kScoreGroup <= count; i += kScoreGroup) {
    score_group<kScoreGroup>(b, q + i, scale, scores + int64_t{i} * b.block_size);
  }
  float* rest = scores + int64_t{i} * b.block_size;
  switch (count - i) {
    case 1:
      score_group<1>(b, q + i, scale, rest);
      break;
    case 2:
      score_group<2>(b, q + i, scale, rest);
      break;
    case 3:
      score_group<3>(b, q + i, scale, rest);
      break;
    case 4:
      score_group<4>(b, q + i, scale, rest);
      break;
    case 5:
      score_group<5>(b, q + i, scale, rest);
      break;
    default:
      break;
  }
}

// For NQ query vectors that attend to the same keys [0, num_valid) of the block:
// acc[q][0 .. 8*NV) = acc[q] * alpha[q] + sum_{j < num_valid} p[q][j] * V[j][0 .. 8*NV), j in
// order. Grouping query vectors only shares the V loads; each one's arithmetic is unchanged.
template <int NQ, int NV>
void pv_tile(const float* v /*[block_size][head_dim], offset*/, int head_dim, const float* const* p, const float* alpha,
             int num_valid, float* const* acc, PrefetchCursor* prefetch) {
  __m256 a[NQ][NV];
  unroll<NQ>([&](auto q) {
    const __m256 alpha_q = _mm256_set1_ps(alpha[q]);
    unroll<NV>([&](auto i) { a[q][i] = _mm256_mul_ps(_mm256_loadu_ps(acc[q] + 8 * i), alpha_q); });
  });
  for (int j = 0; j < num_valid; ++j) {
    prefetch->step();
    prefetch->step();
    const float* v_row = v + int64_t{j} * head_dim;
    __m256 pj[NQ];
    unroll<NQ>([&](auto q) { pj[q] = _mm256_broadcast_ss(p[q] + j); });
    unroll<NV>([&](auto i) {
      const __m256 vv = _mm256_loadu_ps(v_row + 8 * i);
      unroll<NQ>([&](auto q) { a[q][i] = _mm256_fmadd_ps(pj[q], vv, a[q][i]); });
    });
  }
  unroll<NQ>([&](auto q) { unroll<NV>([&](auto i) { _mm256_storeu_ps(acc[q] + 8 * i, a[q][i]); }); });
}

using PvFn = void (*)(const float*, int, const float* const*, const float*, int, float* const*, PrefetchCursor*);

// Output floats per pass: 8 ymm for one query vector, 4 ymm each for two or three.
template <int NQ>
constexpr int kPvWidth = NQ == 1 ? 8 : 4;

template <int NQ, int... NV>
constexpr PvFn pv_fn(int nv, std::integer_sequence<int, NV...>) {
  constexpr PvFn fns[] = {&pv_tile<NQ, NV + 1>...};
  return fns[nv - 1];
}

// out += p × V for NQ query vectors with the same num_valid, in passes over head_dim.
template <int NQ>
void pv_group(const BlockView& b, const float* const* p, const float* alpha, int num_valid, float* const* acc) {
  constexpr int kWidth = 8 * kPvWidth<NQ>;
  for (int d0 = 0; d0 < b.head_dim; d0 += kWidth) {
    const int nv = std::min(kWidth, b.head_dim - d0) / 8;
    float* acc_d[NQ];
    for (int q = 0; q < NQ; ++q) acc_d[q] = acc[q] + d0;
    pv_fn<NQ>(nv, std::make_integer_sequence<int, kPvWidth<NQ>>())(b.v_slab + d0, b.head_dim, p, alpha, num_valid,
                                                                   acc_d, b.prefetch);
  }
}

constexpr int kPvGroup = 3;

// Online-softmax step of one query vector over keys [0, num_valid): updates its running max
// and sum, turns its scores into probabilities, and returns the rescale factor of its output.
float softmax_step(int num_valid, float* scores /*[block_size]*/, float* max, float* sum) {
  const int num_chunks = (num_valid + 7) / 8;
  const __m256 neg_inf = _mm256_set1_ps(kNegInf);
  __m256 vmax = neg_inf;
  for (int c = 0; c < num_chunks; ++c) {
    const __m256 valid = _mm256_castsi256_ps(lane_mask(std::min(8, num_valid - 8 * c)));
    vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(neg_inf, _mm256_loadu_ps(scores + 8 * c), valid));
  }
  const float old_max = *max;
  const float new_max = std::max(old_max, hmax_ps(vmax));
  // exp_ps(0) is exactly 1, so skipping the exp when the max holds changes no bit.
  float alpha = 1.0f;
  if (old_max == kNegInf) {
    alpha = 0.0f;
  } else if (old_max != new_max) {
    alpha = _mm256_cvtss_f32(exp_ps(_mm256_set1_ps(old_max - new_max)));
  }
  const __m256 m = _mm256_set1_ps(new_max);
  __m256 psum = _mm256_setzero_ps();
  for (int c = 0; c < num_chunks; ++c) {
    const __m256 valid = _mm256_castsi256_ps(lane_mask(std::min(8, num_valid - 8 * c)));
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(scores + 8 * c), m));
    const __m256 p = _mm256_and_ps(e, valid);
    _mm256_storeu_ps(scores + 8 * c, p);
    psum = _mm256_add_ps(psum, p);
  }
  *max = new_max;
  *sum = *sum * alpha + hsum_ps(psum);
  return alpha;
}

// Where one work item's query vectors live; vector v is row v / group, head g = v % group.
struct ItemGeometry {
  int head_dim;
  int block_size;
  int group;
  int num_vectors;
  int first_row;  // in q / out
  int first_pos;  // position of its first query token

  // Keys of the block starting at `block_start` that vector v attends to.
  int num_valid(int v, int block_start) const { return std::min(block_size, first_pos + v / group - block_start + 1); }
};

// Softmax steps and out += p × V for vectors [first_v, num_vectors) over one block, whose
// scores are in scratch.scores. Consecutive vectors with the same keys share V loads.
void softmax_and_pv(const BlockView& b, const ItemGeometry& g, int first_v, int block_start,
                    AttentionScratch& scratch) {
  const int bs = g.block_size;
  for (int v = first_v; v < g.num_vectors; ++v) {
    scratch.alpha[v] =
        softmax_step(g.num_valid(v, block_start), &scratch.scores[int64_t{v} * bs], &scratch.max[v], &scratch.sum[v]);
  }
  for (int v = first_v; v < g.num_vectors;) {
    const int num_valid = g.num_valid(v, block_start);
    int count = 1;
    while (count < kPvGroup && v + count < g.num_vectors && g.num_valid(v + count, block_start) == num_valid) {
      ++count;
    }
    const float* p[kPvGroup];
    float* acc[kPvGroup];
    for (int i = 0; i < count; ++i) {
      p[i] = &scratch.scores[int64_t{v + i} * bs];
      acc[i] = &scratch.acc[int64_t{v + i} * g.head_dim];
    }
    const float* alpha = &scratch.alpha[v];
    if (count == 1) pv_group<1>(b, p, alpha, num_valid, acc);
    if (count == 2) pv_group<2>(b, p, alpha, num_valid, acc);
    if (count == 3) pv_group<3>(b, p, alpha, num_valid, acc);
    v += count;
  }
}

// Blocks of one sequence lie far apart in the pool (a whole block spans every layer), so
// each K or V slab is a fresh 4 KiB region the hardware prefetcher only finds late. While a
// block is computed, the next block's K slab is prefetched a line per step of the score loop
// and its V slab two lines per step of the P × V loop. (Prefetching both slabs in one burst at
// the block's start stalled the core on its line-fill buffers: 75% of attention_item's samples
// sat on the prefetches, and 32 decode rows over 8 layers, KV out of cache, took 1.10x as long.)
void prefetch_rest(PrefetchCursor& cursor) {
  while (cursor.next < cursor.end) cursor.step();
}

}  // namespace

void attention_item(const AttentionArgs& args, const AttentionWorkItem& item, AttentionScratch& scratch) {
  const kv::KvLayout& layout = args.layout;
  const AttentionSequence& seq = args.sequences[item.sequence];
  const int group = layout.num_heads / layout.num_kv_heads;
  const ItemGeometry g{layout.head_dim,
                       layout.block_size,
                       group,
                       item.num_queries * group,
                       seq.first_row + item.first_query,
                       seq.first_position + item.first_query};
  const int hd = g.head_dim;
  const int bs = g.block_size;
  scratch.acc.assign(static_cast<size_t>(g.num_vectors) * hd, 0.0f);
  scratch.max.assign(g.num_vectors, kNegInf);
  scratch.sum.assign(g.num_vectors, 0.0f);
  scratch.alpha.resize(g.num_vectors);
  scratch.scores.resize(static_cast<size_t>(g.num_vectors) * bs);
  scratch.q.resize(g.num_vectors);
  for (int v = 0; v < g.num_vectors; ++v) {
    const int head = item.kv_head * group + v % group;
    scratch.q[v] = args.q + int64_t{g.first_row + v / group} * args.q_row_stride + int64_t{head} * hd;
  }
  const int last_pos = g.first_pos + item.num_queries - 1;
  const int last_block = last_pos / bs;
  PrefetchCursor cursor;
  for (int blk = 0; blk <= last_block; ++blk) {
    const uint8_t* next_v = nullptr;
    prefetch_rest(cursor);  // the previous block's V lines the P × V loop did not reach
    cursor = {};
    if (blk < last_block) {
      const int32_t next = seq.block_table[blk + 1];
      const uint8_t* next_k = layout.slab(args.kv_base, next, args.layer, 0, item.kv_head);
      cursor = {next_k, next_k + layout.slab_bytes()};
      next_v = layout.slab(args.kv_base, next, args.layer, 1, item.kv_head);
    }
    const int32_t block = seq.block_table[blk];
    const BlockView b{
        internal::slab_floats(KernelPath::kAvx2, layout, layout.slab(args.kv_base, block, args.layer, 0, item.kv_head),
                              scratch.k_block),
        internal::slab_floats(KernelPath::kAvx2, layout, layout.slab(args.kv_base, block, args.layer, 1, item.kv_head),
                              scratch.v_block),
        hd, bs, &cursor};
    // Rows before the block's first key do not attend to it.
    const int first_v = std::max(0, blk * bs - g.first_pos) * group;
    block_scores(b, scratch.q.data() + first_v, g.num_vectors - first_v, args.scale,
                 &scratch.scores[int64_t{first_v} * bs]);
    prefetch_rest(cursor);
    cursor = next_v != nullptr ? PrefetchCursor{next_v, next_v + layout.slab_bytes()} : PrefetchCursor{};
    softmax_and_pv(b, g, first_v, blk * bs, scratch);
  }
  const int out_stride = layout.num_heads * hd;
  for (int v = 0; v < g.num_vectors; ++v) {
    const int head = item.kv_head * group + v % group;
    float* out = args.out + int64_t{g.first_row + v / group} * out_stride + int64_t{head} * hd;
    const __m256 sum = _mm256_set1_ps(scratch.sum[v]);
    for (int d = 0; d < hd; d += 8) {
      _mm256_storeu_ps(out + d, _mm256_div_ps(_mm256_loadu_ps(&scratch.acc[int64_t{v} * hd + d]), sum));
    }
  }
}

}  // namespace ppd::kernels::avx2
