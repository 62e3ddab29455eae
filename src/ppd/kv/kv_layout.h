// KvLayout: where each K and V value lives inside the block pool. Block-major: one block is
// one contiguous region across all layers, so exporting or importing a block is one copy.
//
//   block     [num_layers][2][num_kv_heads][block_size * head_dim]
//   K slab    [head_dim][block_size]   (transposed: scores for a whole block are one
//                                       broadcast-FMA sweep over head_dim)
//   V slab    [block_size][head_dim]
// Values are of `dtype` (F32, F16 or BF16); offsets below count values, pointers bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ppd/common/dtype.h"

namespace ppd::kv {

struct KvLayout {
  int num_layers = 0;
  int num_kv_heads = 0;
  int num_heads = 0;  // query heads; a multiple of num_kv_heads
  int head_dim = 0;
  int block_size = 0;  // tokens per block
  Dtype dtype = Dtype::kF32;

  size_t value_bytes() const { return dtype_size_bytes(dtype); }
  int64_t slab_values() const { return int64_t{block_size} * head_dim; }
  size_t slab_bytes() const { return static_cast<size_t>(slab_values()) * value_bytes(); }
  int64_t block_values() const { return int64_t{num_layers} * 2 * num_kv_heads * slab_values(); }
  size_t block_bytes() const { return static_cast<size_t>(block_values()) * value_bytes(); }

  // Offset, in values from the block's start, of the K (kv = 0) or V (kv = 1) slab.
  int64_t slab_offset(int layer, int kv, int kv_head) const {
    return ((int64_t{layer} * 2 + kv) * num_kv_heads + kv_head) * slab_values();
  }
  // The first byte of a slab in the pool at `base`.
  template <typename Byte>  // uint8_t or const uint8_t
  Byte* slab(Byte* base, int32_t block, int layer, int kv, int kv_head) const {
    return base + (static_cast<size_t>(block) * static_cast<size_t>(block_values()) +
                   static_cast<size_t>(slab_offset(layer, kv, kv_head))) *
                      value_bytes();
  }
};

}  // namespace ppd::kv
