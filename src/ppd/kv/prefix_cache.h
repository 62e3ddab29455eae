// PrefixCache: which full blocks hold which chained block hash, and the LRU order of the
// cached blocks nobody references (the eviction candidates). It tracks no reference
// counts itself; KvCacheManager keeps the two in step. Not thread-safe.
#pragma once

#include <optional>
#include <vector>

#include "ppd/common/huge_pages.h"
#include "ppd/common/ids.h"
#include "ppd/common/status.h"

namespace ppd::kv {

class PrefixCache {
 public:
  explicit PrefixCache(int num_blocks);

  // Returns the block holding `hash`, if any. Pure.
  std::optional<BlockId> lookup(BlockHash hash) const;
  // Starts loading the slot a lookup or insert of `hash` reads first, so that a batch of
  // them overlaps its cache misses. A hint: changes nothing.
  void prefetch(BlockHash hash) const { __builtin_prefetch(&slots_[home(hash.value)]); }
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
  bool is_evictable(BlockId block) const { return (flags_[static_cast<size_t>(block.value)] & kInLru) != 0; }
  // Removes and returns the least recently used evictable block (still registered).
  std::optional<BlockId> pop_lru();

  int num_registered() const { return num_registered_; }
  int num_evictable() const { return num_evictable_; }

  Status check_invariants() const;

 private:
  void unlink(size_t i);
  size_t home(uint64_t hash) const { return static_cast<size_t>(hash) & (slots_.size() - 1); }
  // The slot holding `hash`, or the empty slot where its probe ends.
  size_t probe(BlockHash hash) const;

  // Hash -> block in a flat open-addressing table (linear probing, backward-shift deletion)
  // of a power of two >= 2 × num_blocks slots: at most one hash per block, so the load stays
  // <= 1/2 and the table never grows. Hashes are XXH3 outputs: their low bits are uniform.
  // A slot keeps only the hash's low 32 bits (its home and a filter, as the table has at most
  // 2^32 slots); a candidate is confirmed against the block's full hash in blocks_. Eight
  // bytes a slot: eight slots a cache line, half the misses of a 16-byte slot.
  struct Slot {
    uint32_t hash_low = 0;
    int32_t block = -1;  // -1: empty
  };
  std::vector<Slot, HugePageAllocator<Slot>> slots_;  // a few MiB at GPU scale: huge pages
  int num_registered_ = 0;
  // Per block, in one 16-byte record so an eviction touches one cache line per block: its
  // hash, and its links in an intrusive doubly linked LRU list over block indices whose
  // sentinel is index num_blocks.
  struct BlockMeta {
    uint64_t hash = 0;
    int32_t prev = 0;
    int32_t next = 0;
  };
  std::vector<BlockMeta> blocks_;  // [num_blocks + 1]
  std::vector<uint8_t> flags_;     // [num_blocks]: kHashed | kInLru
  static constexpr uint8_t kHashed = 1, kInLru = 2;
  int num_evictable_ = 0;
};

}  // namespace ppd::kv
