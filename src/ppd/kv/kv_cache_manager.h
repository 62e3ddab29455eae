// KvCacheManager: owns which KV blocks are free, referenced by requests, or cached for
// reuse, and which chained block hash each cached block holds.
//   free    : in the allocator's free list; no hash
//   active  : referenced by >= 1 block table; may hold a hash
//   cached  : unreferenced, holds a hash, in the LRU; matchable, evictable
// Allocation takes a free block, else evicts the least recently used cached block.
// Records KvEvents for every hash that becomes matchable or is evicted.
// Not thread-safe: the engine's step thread owns it.
#pragma once

#include <span>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/kv/block_allocator.h"
#include "ppd/kv/block_table.h"
#include "ppd/kv/kv_event.h"
#include "ppd/kv/prefix_cache.h"

namespace ppd::kv {

struct KvCacheOptions {
  int num_blocks = 0;               // blocks in the pool, >= 1
  int block_size = 16;              // tokens per block, >= 1
  bool enable_prefix_cache = true;  // off: nothing is registered or matched
};

class KvCacheManager {
 public:
  explicit KvCacheManager(const KvCacheOptions& options);

  int block_size() const { return options_.block_size; }
  int num_blocks() const { return allocator_.num_blocks(); }
  // Blocks allocate() can hand out now: free plus cached-unreferenced.
  int num_allocatable_blocks() const { return allocator_.num_free() + cache_.num_evictable(); }
  int num_free_blocks() const { return allocator_.num_free(); }
  int num_cached_blocks() const { return cache_.num_evictable(); }

  // Number of leading hashes whose blocks are in the cache (active or cached). Pure.
  int match_prefix(std::span<const BlockHash> hashes) const;

  // Takes a reference on the blocks of the first `n` hashes and appends them to `table`.
  // REQUIRES: n <= match_prefix(hashes).
  void acquire_prefix(std::span<const BlockHash> hashes, int n, BlockTable* table);

  // Returns a block with one reference: a free one, else the LRU cached one (evicted).
  // RESOURCE_EXHAUSTED when every block is referenced.
  Result<BlockId> allocate();

  // Makes a full, active block matchable under `hash`. No-op when the prefix cache is off,
  // or when another block already holds the hash or this block already has one.
  void register_block(BlockId block, BlockHash hash);
  // register_block(blocks[i], hashes[i]) for each i, with the batch's cache misses overlapped.
  // REQUIRES: equal sizes.
  void register_blocks(std::span<const int32_t> blocks, std::span<const BlockHash> hashes);

  // Drops one reference; at zero the block becomes cached (if it holds a hash) or free.
  void release(BlockId block);
  // Releases every block of `table`, last block first (so a request's tail is evicted
  // before its head), and clears it.
  void release_all(BlockTable* table);

  std::optional<BlockId> lookup(BlockHash hash) const { return cache_.lookup(hash); }
  int ref_count(BlockId block) const { return allocator_.ref_count(block); }

  // Returns and clears the events recorded since the last call.
  std::vector<KvEvent> take_events();

  Status check_invariants() const;

 private:
  KvCacheOptions options_;
  BlockAllocator allocator_;
  PrefixCache cache_;
  std::vector<KvEvent> events_;
};

}  // namespace ppd::kv
