// BlockTable: the ordered blocks holding one request's KV; entry i covers token positions
// [i * block_size, (i + 1) * block_size). Block ids are kept as raw int32 so the attention
// kernel can read the table without copying. Value type; not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ppd/common/ids.h"

namespace ppd::kv {

class BlockTable {
 public:
  int num_blocks() const { return static_cast<int>(blocks_.size()); }
  bool empty() const { return blocks_.empty(); }
  BlockId operator[](int i) const { return BlockId{blocks_[static_cast<size_t>(i)]}; }
  BlockId back() const { return BlockId{blocks_.back()}; }
  void push_back(BlockId block) { blocks_.push_back(block.value); }
  void pop_back() { blocks_.pop_back(); }
  void clear() { blocks_.clear(); }
  // [num_blocks] raw block ids, for kernels.
  const int32_t* data() const { return blocks_.data(); }
  std::span<const int32_t> raw() const { return blocks_; }

 private:
  std::vector<int32_t> blocks_;
};

// Blocks needed to hold `num_tokens` tokens. REQUIRES: block_size > 0.
inline int num_blocks_for(int64_t num_tokens, int block_size) {
  return static_cast<int>((num_tokens + block_size - 1) / block_size);
}

}  // namespace ppd::kv
