// KvLayout: where each K and V value lives inside the block pool. Block-major: one block is
// one contiguous region across all layers, so exporting or importing a block is one copy.
//
//   block     [num_layers][2][num_kv_heads][block_size * head_dim]
//   K slab    [head_dim][block_size]   (transposed: scores for a whole block are one
//                                       broadcast-FMA sweep over head_dim)
//   V slab    [block_size][head_dim]
#pragma once

#include <cstddef>
#include <cstdint>

namespace ppd::kv {

struct KvLayout {
  int num_layers = 0;
  int num_kv_heads = 0;
  int num_heads = 0;  // query heads; a multiple of num_kv_heads
  int head_dim = 0;
  int block_size = 0;  // tokens per block

  int64_t slab_floats() const { return int64_t{block_size} * head_dim; }
  int64_t block_floats() const { return int64_t{num_layers} * 2 * num_kv_heads * slab_floats(); }
  size_t block_bytes() const { return static_cast<size_t>(block_floats()) * sizeof(float); }

  // Offset, in floats from the block's start, of the K (kv = 0) or V (kv = 1) slab.
  int64_t slab_offset(int layer, int kv, int kv_head) const {
    return ((int64_t{layer} * 2 + kv) * num_kv_heads + kv_head) * slab_floats();
  }
  const float* k_slab(const float* base, int32_t block, int layer, int kv_head) const {
    return base + block * block_floats() + slab_offset(layer, 0, kv_head);
  }
  const float* v_slab(const float* base, int32_t block, int layer, int kv_head) const {
    return base + block * block_floats() + slab_offset(layer, 1, kv_head);
  }
};

}  // namespace ppd::kv
