// PrefixCache: which full blocks hold which chained block hash, and the LRU order of the
// cached blocks nobody references (the eviction candidates). It tracks no reference
// counts itself; KvCacheManager keeps the two in step. Not thread-safe.
#pragma once

#include <optional>
#include <unordered_map>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"

namespace ppd::kv {

class PrefixCache {
 public:
  explicit PrefixCache(int num_blocks);

  // Returns the block holding `hash`, if any. Pure.
  std::optional<BlockId> lookup(BlockHash hash) const;
  // Returns the hash a block is registered under, if any. Pure.
  std::optional<BlockHash> hash_of(BlockId block) const;

  // Records that `block` holds `hash`. Returns false (and changes nothing) when the hash
  // is already held by some block or the block already has a hash.
  bool insert(BlockHash hash, BlockId block);
  // Forgets a block's hash. REQUIRES: the block is registered and not in the LRU.
  void erase(BlockId block);

  // LRU of unreferenced registered blocks; push() makes a block most recently used.
  // REQUIRES for push: registered and not yet in the LRU; for remove: in the LRU.
  void push_evictable(BlockId block);
  void remove_evictable(BlockId block);
  bool is_evictable(BlockId block) const { return in_lru_[static_cast<size_t>(block.value)]; }
  // Removes and returns the least recently used evictable block (still registered).
  std::optional<BlockId> pop_lru();

  int num_registered() const { return static_cast<int>(block_of_hash_.size()); }
  int num_evictable() const { return num_evictable_; }

  Status check_invariants() const;

 private:
  void unlink(size_t i);

  std::unordered_map<BlockHash, BlockId> block_of_hash_;
  std::vector<std::optional<BlockHash>> hash_of_block_;  // [num_blocks]
  // Intrusive doubly linked LRU list over block indices; index num_blocks is the sentinel.
  std::vector<int32_t> prev_;  // [num_blocks + 1]
  std::vector<int32_t> next_;  // [num_blocks + 1]
  std::vector<bool> in_lru_;   // [num_blocks]
  int num_evictable_ = 0;
};

}  // namespace ppd::kv
