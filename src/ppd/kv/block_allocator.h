// BlockAllocator: reference counts and the free list of a fixed pool of KV blocks.
// Invariant: a block is in the free list iff its reference count is 0 and its owner
// (KvCacheManager) returned it with free(); blocks with count 0 outside the free list are
// parked elsewhere (the prefix cache's LRU). Not thread-safe: one engine thread owns it.
#pragma once

#include <optional>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"

namespace ppd::kv {

class BlockAllocator {
 public:
  // REQUIRES: num_blocks >= 0. Every block starts free; allocate() hands out ids in
  // increasing order first.
  explicit BlockAllocator(int num_blocks);

  int num_blocks() const { return static_cast<int>(ref_counts_.size()); }
  int num_free() const { return static_cast<int>(free_list_.size()); }

  // Pops a free block and sets its count to 1; nullopt when the free list is empty.
  std::optional<BlockId> allocate();
  // Adds a reference. REQUIRES: the block is not in the free list.
  void incref(BlockId block);
  // Drops a reference and returns the new count. REQUIRES: count > 0.
  int decref(BlockId block);
  // Returns a block with count 0 to the free list. REQUIRES: count == 0, not already free.
  void free(BlockId block);

  int ref_count(BlockId block) const { return ref_counts_[index(block)]; }
  bool is_free(BlockId block) const { return in_free_list_[index(block)]; }

  // OK, or a description of the first broken invariant.
  Status check_invariants() const;

 private:
  size_t index(BlockId block) const;

  std::vector<int> ref_counts_;     // [num_blocks]
  std::vector<bool> in_free_list_;  // [num_blocks]
  std::vector<BlockId> free_list_;  // stack; back() is allocated next
};

}  // namespace ppd::kv
