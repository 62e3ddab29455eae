// Paged grouped-query causal attention: work planning, thread distribution, and the scalar
// reference kernel. Every query vector (row × head) runs its own online softmax over the key
// blocks 0 .. its own position, in block order, touching only keys <= its position; so its
// result is bitwise independent of which tile, batch or thread it was computed in.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ppd/common/check.h"
#include "ppd/kernels/kernels_internal.h"

namespace ppd::kernels {
namespace {

// Query vectors (rows × heads of one GQA group) per work item.
constexpr int kQueryVectorsPerItem = 32;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

int64_t item_cost(const AttentionArgs& args, const AttentionWorkItem& item) {
  const int64_t last_key = args.sequences[item.sequence].first_position + item.first_query + item.num_queries;
  return int64_t{item.num_queries} * last_key;
}

int64_t count_items(const AttentionArgs& args, int tile_rows) {
  int64_t count = 0;
  for (const AttentionSequence& seq : args.sequences) {
    count += (seq.num_query_tokens + tile_rows - 1) / tile_rows;
  }
  return count * args.layout.num_kv_heads;
}

void check_args(const AttentionArgs& args) {
  const kv::KvLayout& l = args.layout;
  PPD_CHECK(l.num_kv_heads > 0 && l.num_heads % l.num_kv_heads == 0);
  PPD_CHECK(l.head_dim > 0 && l.block_size > 0);
  PPD_CHECK(args.q_row_stride >= l.num_heads * l.head_dim);
  for (const AttentionSequence& seq : args.sequences) {
    PPD_CHECK(seq.first_position >= 0 && seq.num_query_tokens >= 0 && seq.first_row >= 0);
    PPD_CHECK(seq.num_query_tokens == 0 || seq.block_table != nullptr);
  }
}

}  // namespace

namespace internal {

int attention_tile_rows(int group_size) { return std::max(1, kQueryVectorsPerItem / group_size); }

std::vector<AttentionWorkItem> plan_attention(const AttentionArgs& args, int num_threads) {
  const int group_size = args.layout.num_heads / args.layout.num_kv_heads;
  int tile_rows = attention_tile_rows(group_size);
  // Short calls: smaller tiles so that every thread gets work.
  while (tile_rows > 1 && count_items(args, tile_rows) < 2 * int64_t{num_threads}) tile_rows /= 2;
  std::vector<AttentionWorkItem> items;
  items.reserve(static_cast<size_t>(count_items(args, tile_rows)));
  for (int s = 0; s < static_cast<int>(args.sequences.size()); ++s) {
    const int num_queries = args.sequences[s].num_query_tokens;
    for (int h = 0; h < args.layout.num_kv_heads; ++h) {
      for (int q0 = 0; q0 < num_queries; q0 += tile_rows) {
        items.push_back({s, h, q0, std::min(tile_rows, num_queries - q0)});
      }
    }
  }
  // Longest first, so that dynamic scheduling ends balanced.
  std::stable_sort(items.begin(), items.end(),
                   [&](const auto& a, const auto& b) { return item_cost(args, a) > item_cost(args, b); });
  return items;
}

}  // namespace internal

namespace scalar {
namespace {

struct QueryVector {
  const float* q;  // [head_dim]
  float* acc;      // [head_dim]
  float* max;
  float* sum;
};

// One online-softmax step of one query vector over keys [0, num_valid) of one block.
void attend_block(const AttentionArgs& args, const QueryVector& qv, const float* k_slab, const float* v_slab,
                  int num_valid, float* scores /*[block_size]*/) {
  const int hd = args.layout.head_dim;
  const int bs = args.layout.block_size;
  std::fill(scores, scores + num_valid, 0.0f);
  for (int d = 0; d < hd; ++d) {
    const float qd = qv.q[d];
    const float* k_row = k_slab + int64_t{d} * bs;  // [block_size]
    for (int j = 0; j < num_valid; ++j) scores[j] += qd * k_row[j];
  }
  float block_max = kNegInf;
  for (int j = 0; j < num_valid; ++j) {
    scores[j] *= args.scale;
    block_max = std::max(block_max, scores[j]);
  }
  const float new_max = std::max(*qv.max, block_max);
  const float alpha = *qv.max == kNegInf ? 0.0f : std::exp(*qv.max - new_max);
  float block_sum = 0.0f;
  for (int j = 0; j < num_valid; ++j) {
    scores[j] = std::exp(scores[j] - new_max);
    block_sum += scores[j];
  }
  *qv.max = new_max;
  *qv.sum = *qv.sum * alpha + block_sum;
  for (int d = 0; d < hd; ++d) qv.acc[d] *= alpha;
  for (int j = 0; j < num_valid; ++j) {
    const float* v_row = v_slab + int64_t{j} * hd;  // [head_dim]
    for (int d = 0; d < hd; ++d) qv.acc[d] += scores[j] * v_row[d];
  }
}

}  // namespace

void attention_item(const AttentionArgs& args, const AttentionWorkItem& item, AttentionScratch& scratch) {
  const kv::KvLayout& layout = args.layout;
  const int hd = layout.head_dim;
  const int bs = layout.block_size;
  const int group = layout.num_heads / layout.num_kv_heads;
  const AttentionSequence& seq = args.sequences[item.sequence];
  const int num_vectors = item.num_queries * group;
  scratch.acc.assign(static_cast<size_t>(num_vectors) * hd, 0.0f);
  scratch.max.assign(num_vectors, kNegInf);
  scratch.sum.assign(num_vectors, 0.0f);
  scratch.scores.resize(bs);
  const int first_pos = seq.first_position + item.first_query;
  const int last_pos = first_pos + item.num_queries - 1;
  auto vector_at = [&](int t, int g) {
    const int row = seq.first_row + item.first_query + t;
    const int head = item.kv_head * group + g;
    const int v = t * group + g;
    return QueryVector{args.q + int64_t{row} * args.q_row_stride + int64_t{head} * hd,
                       scratch.acc.data() + int64_t{v} * hd, &scratch.max[v], &scratch.sum[v]};
  };
  for (int b = 0; b <= last_pos / bs; ++b) {
    const int32_t block = seq.block_table[b];
    const float* k_slab = internal::slab_floats(
        KernelPath::kScalar, layout, layout.slab(args.kv_base, block, args.layer, 0, item.kv_head), scratch.k_block);
    const float* v_slab = internal::slab_floats(
        KernelPath::kScalar, layout, layout.slab(args.kv_base, block, args.layer, 1, item.kv_head), scratch.v_block);
    const int block_start = b * bs;
    for (int t = std::max(0, block_start - first_pos); t < item.num_queries; ++t) {
      const int num_valid = std::min(bs, first_pos + t - block_start + 1);
      for (int g = 0; g < group; ++g) {
        attend_block(args, vector_at(t, g), k_slab, v_slab, num_valid, scratch.scores.data());
      }
    }
  }
  const int out_stride = layout.num_heads * hd;
  for (int t = 0; t < item.num_queries; ++t) {
    const int row = seq.first_row + item.first_query + t;
    for (int g = 0; g < group; ++g) {
      const QueryVector qv = vector_at(t, g);
      float* out = args.out + int64_t{row} * out_stride + int64_t{item.kv_head * group + g} * hd;
      for (int d = 0; d < hd; ++d) out[d] = qv.acc[d] / *qv.sum;
    }
  }
}

}  // namespace scalar

namespace internal {

const float* slab_floats(KernelPath path, const kv::KvLayout& layout, const uint8_t* slab, std::vector<float>& buffer) {
  if (layout.dtype == Dtype::kF32) return reinterpret_cast<const float*>(slab);
  buffer.resize(static_cast<size_t>(layout.slab_values()));
  if (path == KernelPath::kAvx2) {
    avx2::decode_weight_row(weight_format_of(layout.dtype), slab, layout.slab_values(), buffer.data());
  } else {
    convert_to_f32(layout.dtype, slab, buffer.size(), buffer.data());
  }
  return buffer.data();
}

}  // namespace internal

void attention(KernelPath path, const AttentionArgs& args, ThreadPool& pool) {
  check_args(args);
  const kv::KvLayout& layout = args.layout;
  const bool vectorized = path == KernelPath::kAvx2 && layout.head_dim % 8 == 0 && layout.block_size % 8 == 0;
  const std::vector<AttentionWorkItem> items = internal::plan_attention(args, pool.num_threads());
  auto run_item = [&](const AttentionWorkItem& item, AttentionScratch& scratch) {
    if (vectorized) return avx2::attention_item(args, item, scratch);
    scalar::attention_item(args, item, scratch);
  };
  // Scratch lives per thread across calls: a step calls attention once per layer.
  if (items.size() <= 1 || pool.num_threads() == 1) {
    thread_local AttentionScratch scratch;
    for (const AttentionWorkItem& item : items) run_item(item, scratch);
    return;
  }
  std::atomic<size_t> next{0};
  pool.run_on_all([&](int, int) {
    thread_local AttentionScratch scratch;
    for (size_t i = next.fetch_add(1); i < items.size(); i = next.fetch_add(1)) {
      run_item(items[i], scratch);
    }
  });
}

}  // namespace ppd::kernels
